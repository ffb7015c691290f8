"""haproxy renderer output: golden files, naming contract, gating and the template's filter rule."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest
from jinja2 import nodes

from services.common.errors import InvalidInput, Precondition
from services.renderer.backends.haproxy.renderer import (
    FILTERS,
    TEMPLATE_NAMES,
    HaproxyRenderer,
    build_environment,
)
from services.renderer.domain.hashing import config_hash
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer.golden_cases import CASES

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def renderer() -> HaproxyRenderer:
    return HaproxyRenderer()


def _render(renderer: HaproxyRenderer, lb, **target) -> str:
    rendering = renderer.render(lb, samples.target(**target))
    assert [(f.path, f.mode) for f in rendering.files] == [("haproxy.cfg", 0o644)]
    return rendering.files[0].content.decode()


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden(renderer: HaproxyRenderer, name: str) -> None:
    lb, materials = CASES[name]
    rendering = renderer.render(lb(), samples.target(), materials())
    assert rendering.files[0].path == "haproxy.cfg"
    text = rendering.files[0].content.decode()
    golden = GOLDEN / name
    if os.environ.get("LBAAS_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text(), f"rendered config differs from {golden}"


def test_names_are_ids_and_user_names_never_rendered(renderer: HaproxyRenderer) -> None:
    text = _render(renderer, samples.full_lb())
    assert f"frontend {samples.HTTP_LISTENER_ID}\n" in text
    assert f"frontend {samples.TCP_LISTENER_ID}\n" in text
    assert f"backend {samples.HTTP_POOL_ID}\n" in text
    for member_id in samples.MEMBER_IDS:
        assert f"    server {member_id} " in text
    for user_name in ("web pool", "full", "\n    # web", "db\n"):
        assert user_name not in text.split("load balancer", 1)[1].replace("full=1", "")
    # Only pools reachable from a listener are rendered.
    assert samples.ORPHAN_POOL_ID not in text


def test_global_and_defaults_carry_the_agent_contract(renderer: HaproxyRenderer) -> None:
    text = _render(renderer, samples.empty_lb(), runtime_dir="/run/amp")
    assert "stats socket /run/amp/haproxy.sock mode 600 level admin expose-fd listeners\n" in text
    assert "server-state-file /run/amp/servers.state\n" in text
    for line in ("load-server-state-from-file global", "option redispatch", "retries 3"):
        assert f"    {line}\n" in text
    assert "bind unix@/run/amp/internal.sock" in text
    assert "daemon" not in text and "master-worker" not in text


def test_loadbalancer_admin_down_disables_every_frontend(renderer: HaproxyRenderer) -> None:
    lb = samples.full_lb()
    lb.meta.admin_state_up = False
    text = _render(renderer, lb)
    assert text.count("    disabled\n") == 2
    assert "    disabled\n" not in _render(renderer, samples.full_lb())


def test_target_vip_wins_over_graph_vip(renderer: HaproxyRenderer) -> None:
    text = _render(renderer, samples.full_lb(), vip_address="10.1.2.3")
    assert "bind 10.1.2.3:80\n" in text and "203.0.113.10" not in text


def test_connection_limit_and_unset_timeouts(renderer: HaproxyRenderer) -> None:
    lb = samples.full_lb()
    listener = next(li for li in lb.listeners if li.protocol == "TCP")
    listener.connection_limit = -1
    listener.timeout_client_data = 0
    listener.timeout_member_connect = 0
    text = _render(renderer, lb)
    tcp_frontend = text.split(f"frontend {samples.TCP_LISTENER_ID}\n")[1].split("\n\n")[0]
    assert "maxconn 50000" in tcp_frontend and "timeout client 50000" in tcp_frontend
    tcp_backend = text.split(f"backend {samples.TCP_POOL_ID}\n")[1]
    assert "timeout connect 5000" in tcp_backend


def test_config_hash_covers_the_files(renderer: HaproxyRenderer) -> None:
    rendering = renderer.render(samples.full_lb(), samples.target())
    assert rendering.config_hash == config_hash([("haproxy.cfg", rendering.files[0].content)])
    other = renderer.render(samples.full_lb(), samples.target(vip_address="10.0.0.1"))
    assert other.config_hash != rendering.config_hash
    assert rendering.renderer_version == "haproxy-1.7.0"


def test_old_haproxy_is_refused_naming_feature_and_version(renderer: HaproxyRenderer) -> None:
    with pytest.raises(Precondition) as err:
        renderer.render(samples.empty_lb(), samples.target(haproxy_version="2.0.33"))
    assert "haproxy >= 2.2.0" in err.value.user_message
    assert "2.0.33" in err.value.user_message
    renderer.render(samples.empty_lb(), samples.target(haproxy_version="2.2.0"))


@pytest.mark.parametrize(
    ("mutate", "feature"),
    [
        (lambda lb: setattr(lb.listeners[0], "protocol", "UDP"), "listener.protocol.UDP"),
        (lambda lb: setattr(lb.listeners[0], "protocol", "SCTP"), "listener.protocol.SCTP"),
        (lambda lb: setattr(lb.pools[2], "protocol", "UDP"), "pool.protocol.UDP"),
        (
            lambda lb: setattr(lb.pools[2], "lb_algorithm", "SOURCE_IP_PORT"),
            "pool.lb_algorithm.SOURCE_IP_PORT",
        ),
        (
            lambda lb: setattr(lb.pools[1].healthmonitor, "type", "UDP-CONNECT"),
            "healthmonitor.type.UDP-CONNECT",
        ),
    ],
)
def test_unsupported_feature_is_a_precondition(renderer, mutate, feature) -> None:
    lb = samples.full_lb()
    mutate(lb)
    with pytest.raises(Precondition) as err:
        renderer.render(lb, samples.target())
    assert err.value.user_message == f"feature {feature} not supported by renderer haproxy-1.7.0"


def test_graph_consistency_errors(renderer: HaproxyRenderer) -> None:
    lb = samples.full_lb()
    lb.listeners[0].default_pool_id = "9f9f9f9f-0000-4000-8000-000000000009"
    with pytest.raises(InvalidInput, match="not in the graph"):
        renderer.render(lb, samples.target())
    lb = samples.full_lb()
    lb.listeners[0].default_pool_id = lb.listeners[1].default_pool_id
    with pytest.raises(InvalidInput, match="default pool of listeners"):
        renderer.render(lb, samples.target())
    lb = samples.full_lb()
    http_listener = next(li for li in lb.listeners if li.protocol == "HTTP")
    http_listener.default_pool_id = samples.TCP_POOL_ID
    lb.listeners[0].default_pool_id = ""
    with pytest.raises(InvalidInput, match="cannot be the default pool of HTTP listener"):
        renderer.render(lb, samples.target())


@pytest.mark.parametrize(("template", "least"), [("haproxy.cfg.j2", 20), ("crt-list.j2", 2)])
def test_every_template_output_ends_in_a_strict_filter(template: str, least: int) -> None:
    env = build_environment()
    assert sorted(env.list_templates()) == sorted(TEMPLATE_NAMES)
    source = env.loader.get_source(env, template)[0]
    outputs = [
        node
        for output in env.parse(source).find_all(nodes.Output)
        for node in output.nodes
        if not isinstance(node, nodes.TemplateData)
    ]
    assert len(outputs) >= least
    for node in outputs:
        assert isinstance(node, nodes.Filter), f"line {node.lineno}: output without filter"
        assert node.name in FILTERS, f"line {node.lineno}: filter {node.name} is not strict"


def test_unfiltered_values_are_refused_at_render_time() -> None:
    env = build_environment()
    with pytest.raises(TypeError, match="unfiltered"):
        env.from_string("{{ value }}").render(value="x\nbind :1")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing | hx_int }}").render()


L7_SSL_TYPES = ["SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT", "SSL_DN_FIELD"]


@pytest.mark.parametrize("kind", L7_SSL_TYPES)
def test_ssl_l7_rules_need_a_terminated_https_listener(renderer: HaproxyRenderer, kind) -> None:
    lb = samples.l7_lb()
    rule = lb.listeners[0].l7policies[0].rules[0]
    rule.type, rule.compare_type, rule.key, rule.value = kind, "EQUAL_TO", "CN", "1"
    with pytest.raises(InvalidInput, match="needs a TERMINATED_HTTPS listener") as err:
        renderer.render(lb, samples.target())
    assert err.value.field == f"l7rule.{rule.meta.id}.type"


def test_describe_lists_exactly_the_supported_features(renderer: HaproxyRenderer) -> None:
    features = set(renderer.describe().supported_features)
    assert renderer.describe().renderer_version == "haproxy-1.7.0"
    for present in ("listener.protocol.HTTPS", "listener.protocol.PROMETHEUS",
                    "listener.insert_headers.X-Forwarded-For", "listener.allowed_cidrs",
                    "l7policy.action.REDIRECT_TO_POOL", "l7rule.type.COOKIE", "l7rule.invert",
                    "pool.protocol.PROXYV2", "pool.session_persistence.APP_COOKIE",
                    "healthmonitor.type.TLS-HELLO", "listener.protocol.TERMINATED_HTTPS",
                    "listener.client_authentication", "listener.insert_headers.X-SSL-Client-DN",
                    "l7rule.type.SSL_DN_FIELD", "pool.tls_enabled", "listener.tls_versions",
                    "listener.hsts", "pool.alpn_protocols", "healthmonitor.type.PING"):  # fmt: skip
        assert present in features
    for absent in ("listener.protocol.UDP", "pool.protocol.SCTP", "healthmonitor.type.SCTP",
                   "pool.lb_algorithm.SOURCE_IP_PORT", "listener.tls_versions_sslv3",
                   "listener.tls_versions_noncontiguous", "pool.tls_versions_noncontiguous"):  # fmt: skip
        assert absent not in features


def _frontend_text(text: str, listener_id: str) -> str:
    return text.split(f"frontend {listener_id}\n")[1].split("\n\n")[0]


def test_l7_order_is_reject_then_redirects_then_pools(renderer: HaproxyRenderer) -> None:
    text = _frontend_text(_render(renderer, samples.l7_lb()), samples.L7_LISTENER_ID)
    lines = [line.split()[0:2] for line in text.splitlines()]
    actions = [" ".join(w) for w in lines if w[0] in ("http-request", "use_backend")]
    assert actions[-5:] == [
        "http-request deny", "http-request redirect", "http-request redirect",
        f"use_backend {samples.API_POOL_ID}", f"use_backend {samples.STATIC_POOL_ID}",
    ]  # fmt: skip
    # Disabled policies, policies without enabled rules and disabled rules are not rendered.
    for index in (2, 9, 10):
        assert samples.RULE_IDS[index] not in text
    assert samples.POLICY_IDS[5] not in text


def test_l7_pool_admin_down_is_never_chosen(renderer: HaproxyRenderer) -> None:
    lb = samples.l7_lb()
    next(p for p in lb.pools if p.meta.id == samples.API_POOL_ID).meta.admin_state_up = False
    text = _render(renderer, lb)
    assert f"use_backend {samples.API_POOL_ID}" not in text
    assert f"backend {samples.API_POOL_ID}\n" not in text


def test_l7_graph_errors(renderer: HaproxyRenderer) -> None:
    lb = samples.l7_lb()
    lb.listeners[0].l7policies[0].redirect_pool_id = "9f9f9f9f-0000-4000-8000-000000000009"
    with pytest.raises(InvalidInput, match="not in the graph"):
        renderer.render(lb, samples.target())
    lb = samples.passthrough_lb()
    lb.listeners[1].l7policies.append(samples.l7_policies()[2])
    with pytest.raises(InvalidInput, match="need an HTTP listener"):
        renderer.render(lb, samples.target())
    lb = samples.l7_lb()
    next(p for p in lb.pools if p.meta.id == samples.API_POOL_ID).protocol = "TCP"
    with pytest.raises(InvalidInput, match="cannot be the target of an L7 policy"):
        renderer.render(lb, samples.target())


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"X-SSL-Client-DN": "true"}, "needs a TERMINATED_HTTPS listener"),
        ({"X-SSL-Client-CN": "maybe"}, "must be true or false"),
        ({"X-Forwarded-For": "yes"}, "must be true or false"),
        ({"X-Evil": "true"}, "unsupported header"),
    ],
)
def test_bad_insert_headers(renderer: HaproxyRenderer, headers, match) -> None:
    lb = samples.l7_lb()
    lb.listeners[0].insert_headers.clear()
    lb.listeners[0].insert_headers.update(headers)
    with pytest.raises(InvalidInput, match=match) as err:
        renderer.render(lb, samples.target())
    assert err.value.field == f"listener.{samples.L7_LISTENER_ID}.insert_headers"


def test_insert_headers_false_and_tcp_listener(renderer: HaproxyRenderer) -> None:
    lb = samples.l7_lb()
    lb.listeners[0].insert_headers["X-Forwarded-For"] = "False"
    text = _render(renderer, lb)
    assert "option forwardfor" not in text and "X-Forwarded-Port" in text
    lb = samples.passthrough_lb()
    lb.listeners[1].insert_headers["X-Forwarded-For"] = "true"
    with pytest.raises(InvalidInput, match="cannot be inserted by TCP listeners"):
        renderer.render(lb, samples.target())


def test_cookie_persistence_needs_http_mode(renderer: HaproxyRenderer) -> None:
    lb = samples.passthrough_lb()
    lb.pools[0].session_persistence.type = "HTTP_COOKIE"
    with pytest.raises(InvalidInput, match="needs an HTTP listener"):
        renderer.render(lb, samples.target())
    lb = samples.l7_lb()
    lb.pools[1].session_persistence.cookie_name = ""
    with pytest.raises(InvalidInput, match="required for APP_COOKIE"):
        renderer.render(lb, samples.target())


def test_source_ip_persistence_on_ipv4_uses_an_ip_table(renderer: HaproxyRenderer) -> None:
    text = _render(renderer, samples.passthrough_lb(), vip_address="192.0.2.1")
    assert "stick-table type ip size 10k expire 360s\n    stick on src\n" in text


def test_many_cidrs_are_split_over_lines(renderer: HaproxyRenderer) -> None:
    lb = samples.l7_lb()
    lb.listeners[0].allowed_cidrs[:] = [f"10.0.{i}.0/24" for i in range(70)]
    text = _render(renderer, lb)
    assert text.count("acl allowed-cidr src ") == 3
