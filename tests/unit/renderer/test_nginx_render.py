"""nginx renderer output: golden files, TLS files, Describe, refusals, version gating and the
template's filter rule."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput, Precondition
from services.orchestrator.domain import features as needs
from services.renderer.backends.nginx.renderer import FILTERS, NginxRenderer, build_environment
from services.renderer.domain import tls
from services.renderer.domain.hashing import config_hash
from tests.unit.renderer import nginx_samples as samples

GOLDEN = Path(__file__).parent / "golden_nginx"
CASES = {
    "empty.conf": samples.empty_lb,
    "http.conf": samples.http_lb,
    "tls_sni.conf": samples.tls_lb,
    "l7.conf": samples.l7_lb,
    "stream.conf": samples.stream_lb,
    "sized.conf": samples.http_lb,
}
# Target fields a golden case renders with besides samples.target()'s.
TARGETS = {
    "sized.conf": {"size": renderer_service_pb2.Size(threads=2, max_connections=50_000)},
}


@pytest.fixture(scope="module")
def renderer() -> NginxRenderer:
    return NginxRenderer()


def _render(renderer: NginxRenderer, lb, **target) -> str:
    rendering = renderer.render(lb, samples.target(**target), samples.tls_materials())
    return rendering.files[0].content.decode()


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden(renderer: NginxRenderer, name: str) -> None:
    text = _render(renderer, CASES[name](), **TARGETS.get(name, {}))
    golden = GOLDEN / name
    if os.environ.get("LBAAS_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text(), f"rendered config differs from {golden}"


def test_tls_files_are_bundles_with_private_modes(renderer: NginxRenderer) -> None:
    rendering = renderer.render(samples.tls_lb(), samples.target(), samples.tls_materials())
    by_path = {f.path: f for f in rendering.files}
    assert by_path["nginx.conf"].mode == 0o644
    issued = samples.tls_issued()
    for ref in (samples.DEFAULT_REF, *samples.SNI_REFS):
        cert = by_path[f"certs/{tls.ref_name(ref)}.pem"]
        assert cert.mode == 0o600
        assert cert.content == issued[ref].cert_pem + issued[ref].key_pem
    assert rendering.config_hash == config_hash((f.path, f.content) for f in rendering.files)
    text = by_path["nginx.conf"].content.decode()
    default = f"certs/{tls.ref_name(samples.DEFAULT_REF)}.pem"
    # The default certificate's block is the default server and names no host.
    block = text.split(f"ssl_certificate {default};")[0].rsplit("server {", 1)[1]
    assert "default_server" in block and "server_name" not in block


def test_sni_host_names_go_to_the_first_certificate_naming_them(renderer) -> None:
    lb = samples.tls_lb()
    lb.listeners[0].sni_container_refs.append(samples.SNI_REFS[0])  # names already claimed
    text = _render(renderer, lb)
    assert text.count("server_name a.example.com www.a.example.com;") == 1
    assert text.count("ssl_certificate_key") == 3


def test_sni_only_listener_answers_with_its_first_sni_certificate(renderer) -> None:
    lb = samples.tls_lb()
    lb.listeners[0].default_tls_container_ref = ""
    text = _render(renderer, lb)
    first = f"certs/{tls.ref_name(samples.SNI_REFS[0])}.pem"
    assert f"certs/{tls.ref_name(samples.DEFAULT_REF)}.pem" not in text
    # The first SNI certificate's block is the default server, and it still serves its names.
    block = text.split(f"ssl_certificate {first};")[0].rsplit("server {", 1)[1]
    assert "default_server" in block and "server_name" not in block
    assert text.count("server_name a.example.com www.a.example.com;") == 1
    lb.listeners[0].ClearField("sni_container_refs")
    with pytest.raises(InvalidInput, match="needs a default or an SNI certificate"):
        renderer.render(lb, samples.target(), samples.tls_materials())


def test_missing_tls_material_is_invalid(renderer: NginxRenderer) -> None:
    lb = samples.tls_lb()
    lb.listeners[0].sni_container_refs.append("https://certs.example/unknown")
    with pytest.raises(InvalidInput, match="no certificate material"):
        renderer.render(lb, samples.target(), samples.tls_materials())


def test_http2_syntax_follows_the_target_version(renderer: NginxRenderer) -> None:
    old = _render(renderer, samples.tls_lb())
    assert "ssl http2 default_server;" in old and "http2 on;" not in old
    new = _render(renderer, samples.tls_lb(), nginx_version="1.25.3")
    assert " http2" not in new.replace("http2 on;", "") and new.count("http2 on;") == 3


def test_old_or_missing_nginx_version_is_refused(renderer: NginxRenderer) -> None:
    with pytest.raises(Precondition) as err:
        renderer.render(samples.http_lb(), samples.target(nginx_version="1.14.2"))
    assert err.value.user_message == (
        "feature base requires nginx >= 1.18.0, target runs nginx 1.14.2"
    )
    with pytest.raises(InvalidInput, match="target.nginx_version"):
        renderer.render(samples.http_lb(), samples.target(nginx_version=""))


def test_runtime_files_live_under_the_runtime_dir(renderer: NginxRenderer) -> None:
    text = _render(renderer, samples.stream_lb(), runtime_dir="/srv/amp-1")
    for line in ("pid /srv/amp-1/nginx.pid;", "error_log /srv/amp-1/nginx.log notice;",
                 "client_body_temp_path /srv/amp-1/nginx-client-body;",
                 "proxy_temp_path /srv/amp-1/nginx-proxy;"):  # fmt: skip
        assert line in text
    assert "/var/" not in text
    with pytest.raises(InvalidInput, match="target.runtime_dir"):
        renderer.render(samples.http_lb(), samples.target(runtime_dir="/srv/a b"))


def test_admin_down_loadbalancer_renders_no_listener(renderer: NginxRenderer) -> None:
    lb = samples.http_lb()
    lb.meta.admin_state_up = False
    text = _render(renderer, lb)
    assert "listen " not in text and "# lbaas-listener" not in text


def test_describe_lists_exactly_the_supported_features(renderer: NginxRenderer) -> None:
    described = renderer.describe()
    assert described.backend_type == "nginx"
    assert described.renderer_version == "nginx-1.3.0"
    features = set(described.supported_features)
    assert features == {
        "listener.protocol.HTTP", "listener.protocol.HTTPS", "listener.protocol.TCP",
        "listener.protocol.TERMINATED_HTTPS",
        "listener.admin_state_up", "listener.connection_limit", "listener.timeouts",
        "listener.insert_headers.X-Forwarded-For", "listener.insert_headers.X-Forwarded-Port",
        "listener.insert_headers.X-Forwarded-Proto", "listener.allowed_cidrs",
        "listener.sni", "listener.tls_versions", "listener.tls_ciphers",
        "listener.alpn_protocols", "listener.hsts",
        "l7policy.action.REJECT", "l7policy.action.REDIRECT_TO_URL",
        "l7policy.action.REDIRECT_PREFIX", "l7policy.action.REDIRECT_TO_POOL",
        "l7rule.type.HOST_NAME", "l7rule.type.PATH", "l7rule.type.FILE_TYPE",
        "l7rule.type.HEADER", "l7rule.type.COOKIE",
        "l7rule.compare_type.REGEX", "l7rule.compare_type.STARTS_WITH",
        "l7rule.compare_type.ENDS_WITH", "l7rule.compare_type.CONTAINS",
        "l7rule.compare_type.EQUAL_TO", "l7rule.invert",
        "pool.protocol.HTTP", "pool.protocol.HTTPS", "pool.protocol.TCP", "pool.protocol.PROXY",
        "pool.lb_algorithm.ROUND_ROBIN", "pool.lb_algorithm.LEAST_CONNECTIONS",
        "pool.lb_algorithm.SOURCE_IP", "pool.session_persistence.SOURCE_IP",
        "member.admin_state_up", "member.backup", "member.weight",
        "loadbalancer.admin_state_up",
    }  # fmt: skip
    # Every sample graph passes the API's feature gate against this list.
    for build in CASES.values():
        assert needs.missing(features, needs.loadbalancer(build())) is None
    # What open-source nginx cannot do is refused by the gate, naming the feature.
    lb = samples.http_lb()
    lb.pools[0].healthmonitor.type = "HTTP"
    lb.pools[0].session_persistence.type = "HTTP_COOKIE"
    missing = needs.missing(features, needs.loadbalancer(lb))
    assert missing is not None and missing.feature == "pool.session_persistence.HTTP_COOKIE"


def _with(mutate):
    def build():
        lb = {"tcp": samples.stream_lb, "tls": samples.tls_lb}.get(
            mutate.__name__.split("_")[0], samples.http_lb
        )()
        mutate(lb)
        return lb

    return build


def _monitor(lb):
    lb.pools[0].healthmonitor.type = "HTTP"


def _cookie(lb):
    lb.pools[0].session_persistence.type = "HTTP_COOKIE"


def _app_cookie(lb):
    lb.pools[0].session_persistence.type = "APP_COOKIE"
    lb.pools[0].session_persistence.cookie_name = "SESSION"


def _proxy_pool_on_http(lb):
    lb.pools[0].protocol = "PROXY"


def tcp_proxyv2(lb):
    lb.pools[0].protocol = "PROXYV2"


def _udp(lb):
    lb.listeners[0].protocol = "UDP"


def _prometheus(lb):
    lb.listeners[0].protocol = "PROMETHEUS"


def _source_ip_port(lb):
    lb.pools[0].lb_algorithm = "SOURCE_IP_PORT"


def _tls_pool(lb):
    lb.pools[0].tls_enabled = True


def _client_auth(lb):
    lb.listeners[0].client_authentication = "MANDATORY"


def _monitor_address(lb):
    lb.pools[0].members[0].monitor_address = "192.0.2.99"


def _backup_with_source_ip(lb):
    lb.pools[0].lb_algorithm = "SOURCE_IP"


def _ssl_header(lb):
    lb.listeners[0].insert_headers["X-SSL-Client-CN"] = "true"


def tls_sslv3(lb):
    lb.listeners[0].tls_versions[:] = ["SSLv3", "TLSv1"]


def tls_hole(lb):
    lb.listeners[0].tls_versions[:] = ["TLSv1.1", "TLSv1.3"]


@pytest.mark.parametrize(
    "mutate, feature",
    [
        (_monitor, "healthmonitor.type.HTTP"),
        (_cookie, "pool.session_persistence.HTTP_COOKIE"),
        (_app_cookie, "pool.session_persistence.APP_COOKIE"),
        (_proxy_pool_on_http, "pool.protocol.PROXY"),
        (tcp_proxyv2, "pool.protocol.PROXYV2"),
        (_udp, "listener.protocol.UDP"),
        (_prometheus, "listener.protocol.PROMETHEUS"),
        (_source_ip_port, "pool.lb_algorithm.SOURCE_IP_PORT"),
        (_tls_pool, "pool.tls_enabled"),
        (_client_auth, "listener.client_authentication"),
        (_monitor_address, "member.monitor_address"),
        (_backup_with_source_ip, "member.backup"),
        (_ssl_header, "listener.insert_headers.X-SSL-Client-CN"),
        (tls_sslv3, "listener.tls_versions_sslv3"),
        (tls_hole, "listener.tls_versions_noncontiguous"),
    ],
)
def test_unsupported_feature_is_a_precondition(renderer, mutate, feature) -> None:
    with pytest.raises(Precondition) as err:
        renderer.render(_with(mutate)(), samples.target(), samples.tls_materials())
    assert err.value.user_message.startswith(
        f"feature {feature} not supported by renderer nginx-1.3.0"
    )
    # Only the PROXY-on-HTTP and backup-with-hash combinations pass the API's gate.
    advertised = feature in renderer.describe().supported_features
    assert advertised == (feature in ("pool.protocol.PROXY", "member.backup"))


def test_every_template_output_ends_in_a_strict_filter() -> None:
    env = build_environment()
    source = env.loader.get_source(env, "nginx.conf.j2")[0]
    outputs = [
        node
        for output in env.parse(source).find_all(nodes.Output)
        for node in output.nodes
        if not isinstance(node, nodes.TemplateData)
    ]
    assert len(outputs) > 40
    for node in outputs:
        assert isinstance(node, nodes.Filter), f"line {node.lineno}: output without filter"
        assert node.name in FILTERS, f"line {node.lineno}: filter {node.name} is not strict"


def test_unfiltered_values_are_refused_at_render_time() -> None:
    env = build_environment()
    with pytest.raises(TypeError, match="unfiltered"):
        env.from_string("{{ value }}").render(value="x;\n}")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing | nx_int }}").render()
    with pytest.raises(InvalidInput):
        env.from_string("{{ v | nx_regex }}").render(v='~a" "b')
    with pytest.raises(InvalidInput):
        env.from_string("{{ v | nx_ciphers }}").render(v="HIGH; include /etc/passwd")


def test_map_keys_and_urls_are_quoted_for_nginx() -> None:
    env = build_environment()
    # nginx reads "\\" inside double quotes as one backslash: doubling keeps the regex intact.
    assert env.from_string("{{ v | nx_regex }}").render(v=r"~\.(png|jpe?g)$") == (
        r'"~\\.(png|jpe?g)$"'
    )
    # return's argument is interpolated: '$' comes from a variable holding a literal '$'.
    assert env.from_string("{{ v | nx_url }}").render(v="https://x.example/a$b") == (
        '"https://x.example/a${lbaas_dollar}b"'
    )


def test_l7_rules_and_order(renderer: NginxRenderer) -> None:
    text = _render(renderer, samples.l7_lb())
    # Octavia's order: REJECT, then redirects (by position), then pools (by position).
    order = [text.index(f"action-{i};") for i in range(3)]
    assert order == sorted(order)
    assert "return 403;" in text
    assert 'return 301 "https://example.com/moved?from=${lbaas_dollar}old";' in text
    assert 'return 302 "https://static.example.com$request_uri";' in text
    # Disabled policies, disabled rules, rule-less policies and disabled pools are left out.
    for rule in (7, 8, 9, 10):
        assert samples.RULE_IDS[rule].replace("-", "") not in text
    assert samples.EMPTY_POOL_ID not in text


@pytest.mark.parametrize("key", ["X_Under", "X.Dot"])
def test_header_names_nginx_cannot_address_are_invalid(renderer, key) -> None:
    lb = samples.l7_lb()
    lb.listeners[0].l7policies[1].rules[1].key = key
    with pytest.raises(InvalidInput, match="letters, digits and '-'"):
        renderer.render(lb, samples.target())


def test_l7_on_a_tcp_listener_is_invalid(renderer: NginxRenderer) -> None:
    lb = samples.l7_lb()
    lb.listeners[0].protocol = "TCP"
    with pytest.raises(InvalidInput, match="L7 policies need"):
        renderer.render(lb, samples.target())


def test_pool_without_usable_member_answers_503_and_refuses_tcp(renderer) -> None:
    lb = samples.http_lb()
    for member in lb.pools[0].members:
        member.meta.admin_state_up = False
    text = _render(renderer, lb)
    assert f"upstream pool-{samples.WEB_POOL_ID}" not in text and "return 503;" in text
    stream = _render(renderer, samples.stream_lb())
    block = stream.split(f"# listener {samples.HTTP_LISTENER_ID}")[1].split("}")[0]
    assert "deny all;" in block
