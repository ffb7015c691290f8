"""f5-as3 renderer output: golden declarations, every one valid against the AS3 schema, safe
names, sanitized user text, determinism, and refusal of what AS3 cannot express."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest

from services.common.errors import InvalidInput, Precondition
from services.orchestrator.domain import features as needs
from services.renderer.backends.f5_as3 import features, names
from services.renderer.backends.f5_as3.l7 import tcl_literal
from services.renderer.backends.f5_as3.renderer import As3Renderer
from services.renderer.domain.hashing import config_hash
from tests.support.as3_schema import errors
from tests.unit.renderer import test_as3_samples as samples

GOLDEN = Path(__file__).parent / "golden_as3"
CASES = {
    "empty.json": samples.empty_lb,
    "http_tcp_members_cidrs_headers.json": samples.http_tcp_lb,
    "terminated_https_sni_clientauth_l7.json": samples.tls_l7_lb,
    "passthrough_ipv6_admin_down.json": samples.passthrough_lb,
}
TENANT = f"Project_{samples.PROJECT_ID}"
APP = f"lb_{samples.LB_ID}"
# Schema: names of Application members.
AS3_NAME = re.compile(r"^[A-Za-z]([0-9A-Za-z_.-]{0,188}[0-9A-Za-z_.])?$")


@pytest.fixture(scope="module")
def renderer() -> As3Renderer:
    return As3Renderer()


def _render(renderer: As3Renderer, lb, **target) -> dict:
    rendering = renderer.render(lb, samples.target(**target), samples.materials())
    assert [(f.path, f.mode) for f in rendering.files] == [("as3.json", 0o600)]
    assert rendering.config_hash == config_hash([("as3.json", rendering.files[0].content)])
    return json.loads(rendering.files[0].content)


def _app(doc: dict) -> dict:
    return doc[TENANT][APP]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_golden_and_schema(renderer: As3Renderer, name: str) -> None:
    rendering = renderer.render(CASES[name](), samples.target(), samples.materials())
    text = rendering.files[0].content.decode()
    golden = GOLDEN / name
    if os.environ.get("LBAAS_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text(), f"rendered declaration differs from {golden}"
    assert errors(json.loads(text)) == []


def test_a_broken_declaration_fails_the_schema(renderer: As3Renderer) -> None:
    """The validation the golden test relies on can fail."""
    good = _render(renderer, samples.tls_l7_lb())
    assert errors(good) == []
    breakages = [
        lambda d: _app(d)[f"pool_{samples.HTTP_POOL_ID}"].update(bogus=1),
        lambda d: _app(d)[f"listener_{samples.HTTPS_LISTENER_ID}"].update(
            virtualAddresses=["203.0.113.300"]
        ),
        lambda d: _app(d)[f"pool_{samples.HTTP_POOL_ID}"]["members"][0].update(ratio=256),
        lambda d: _app(d).update({"-bad name": {"class": "Pool"}}),
        lambda d: _app(d)[f"listener_{samples.HTTPS_LISTENER_ID}"].update(remark='a"b'),
        lambda d: _app(d)[f"listener_{samples.HTTPS_LISTENER_ID}"].update(label="x" * 65),
        lambda d: _app(d)[f"policy_{samples.HTTPS_LISTENER_ID}"]["rules"][0].update(name="a b"),
        lambda d: d.update(schemaVersion="4.0.0"),
    ]
    for i, breakage in enumerate(breakages):
        broken = copy.deepcopy(good)
        breakage(broken)
        assert errors(broken), f"breakage {i} passed the schema"


def test_structure_tenant_application_and_classes(renderer: As3Renderer) -> None:
    doc = _render(renderer, samples.http_tcp_lb())
    assert doc["class"] == "ADC" and doc["schemaVersion"] == features.SCHEMA_VERSION
    assert [k for k in doc if k not in ("class", "schemaVersion", "id")] == [TENANT]
    app = _app(doc)
    classes = {name: obj["class"] for name, obj in app.items() if isinstance(obj, dict)}
    assert classes[f"listener_{samples.HTTP_LISTENER_ID}"] == "Service_HTTP"
    assert classes[f"listener_{samples.TCP_LISTENER_ID}"] == "Service_TCP"
    assert classes[f"pool_{samples.HTTP_POOL_ID}"] == "Pool"
    assert classes[f"monitor_{samples.HM_IDS[1]}"] == "Monitor"
    assert app[f"monitor_{samples.HM_IDS[1]}"]["monitorType"] == "icmp"
    # Only pools a listener uses are rendered.
    assert f"pool_{samples.ORPHAN_POOL_ID}" not in app
    for name in app:
        if name not in ("class", "template", "label", "remark"):
            assert AS3_NAME.fullmatch(name), name


def test_members_weights_backup_admin_state(renderer: As3Renderer) -> None:
    app = _app(_render(renderer, samples.http_tcp_lb()))
    members = app[f"pool_{samples.HTTP_POOL_ID}"]["members"]
    by_address = {m["serverAddresses"][0]: m for m in members}
    # Weights 256/1/50/100/0 scale to the 1-100 ratio range, proportions kept.
    assert by_address["192.0.2.11"]["ratio"] == 100
    assert by_address["192.0.2.12"]["ratio"] == 1
    assert by_address["2001:db8::13"]["ratio"] == 20
    assert by_address["192.0.2.14"]["adminState"] == "offline"  # admin down
    assert by_address["192.0.2.15"]["adminState"] == "disable"  # weight 0: drain
    assert by_address["2001:db8::13"]["priorityGroup"] == 0
    assert by_address["192.0.2.11"]["priorityGroup"] == 1
    assert app[f"pool_{samples.HTTP_POOL_ID}"]["minimumMembersActive"] == 1


def test_user_text_is_sanitized_into_remark_and_label_only(renderer: As3Renderer) -> None:
    rendering = renderer.render(samples.http_tcp_lb(), samples.target())
    text = rendering.files[0].content.decode()
    pool = _app(json.loads(text))[f"pool_{samples.HTTP_POOL_ID}"]
    assert len(pool["label"]) == 64
    assert not re.search(r'[\x00-\x1f"#&*<>?\[\\\]`]', pool["label"])
    listener = _app(json.loads(text))[f"listener_{samples.HTTP_LISTENER_ID}"]
    assert listener["label"] == "web_server evil"
    assert "server evil" not in text.replace("web_server evil", "")
    assert "web\\nserver" not in text


@pytest.mark.parametrize(
    ("text", "remark", "label"),
    [
        ("plain", "plain", "plain"),
        ('a"b\\c\nd', "a_b_c_d", "a_b_c_d"),
        ("#&*<>?[]`", "#&*<>?[]`", "_________"),
        ("é" * 70, "é" * 64, "é" * 64),
    ],
)
def test_remark_and_label_fit_the_schema(text: str, remark: str, label: str) -> None:
    assert names.remark(text) == remark and names.label(text) == label


def test_tenant_names_are_safe_and_do_not_collide() -> None:
    assert names.tenant("abc-123_X") == "Project_abc-123_X"
    hashed = names.tenant("a b/c")
    assert re.fullmatch(r"ProjectH_[0-9a-f]{32}", hashed)
    assert names.tenant("x" * 57).startswith("ProjectH_")
    with pytest.raises(InvalidInput):
        names.of("pool", "not-a-uuid", "pool.id")


def test_project_is_required(renderer: As3Renderer) -> None:
    lb = samples.empty_lb()
    lb.meta.project_id = ""
    with pytest.raises(InvalidInput):
        renderer.render(lb, samples.target())


def test_deterministic_and_independent_of_graph_order(renderer: As3Renderer) -> None:
    first = renderer.render(samples.http_tcp_lb(), samples.target(), samples.materials())
    lb = samples.http_tcp_lb()
    lb.listeners.reverse()
    lb.pools.reverse()
    lb.pools[1].members.reverse()
    again = renderer.render(lb, samples.target(), list(reversed(samples.materials())))
    assert first.files == again.files and first.config_hash == again.config_hash


def test_target_vip_wins(renderer: As3Renderer) -> None:
    app = _app(_render(renderer, samples.http_tcp_lb(), vip_address="10.1.2.3"))
    assert app[f"listener_{samples.HTTP_LISTENER_ID}"]["virtualAddresses"] == ["10.1.2.3"]


def test_tls_objects(renderer: As3Renderer) -> None:
    app = _app(_render(renderer, samples.tls_l7_lb()))
    server = app[f"tls_{samples.HTTPS_LISTENER_ID}"]
    assert server["authenticationMode"] == "request"
    assert app[server["authenticationTrustCA"]]["class"] == "CA_Bundle"
    certs = server["certificates"]
    assert len(certs) == 2 and certs[0] == {
        "certificate": certs[0]["certificate"],
        "sniDefault": True,
    }
    default = app[certs[0]["certificate"]]
    assert default["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert "chainCA" in default and "PRIVATE KEY" in default["privateKey"]
    assert (server["tls1_2Enabled"], server["tls1_3Enabled"], server["tls1_0Enabled"]) == (
        True, True, False,
    )  # fmt: skip


def test_tcl_literal_disarms_substitution() -> None:
    assert tcl_literal('https://a/$x[y]\\z"{}') == 'https://a/\\$x\\[y\\]\\\\z\\"\\{\\}'


def _refused(renderer: As3Renderer, lb, feature: str) -> None:
    with pytest.raises(Precondition) as err:
        renderer.render(lb, samples.target(), samples.materials())
    assert feature in str(err.value)
    if "only on a listener's default pool" not in str(err.value):
        assert not needs.supports(features.SUPPORTED_FEATURES, feature)


def test_refuses_what_as3_cannot_express(renderer: As3Renderer) -> None:
    cases = []
    lb = samples.http_tcp_lb()
    lb.listeners[1].protocol = "PROMETHEUS"
    cases.append((lb, "listener.protocol.PROMETHEUS"))
    lb = samples.http_tcp_lb()
    lb.listeners[0].protocol = "UDP"
    cases.append((lb, "listener.protocol.UDP"))
    lb = samples.http_tcp_lb()
    lb.pools[1].lb_algorithm = "SOURCE_IP"
    cases.append((lb, "pool.lb_algorithm.SOURCE_IP"))
    lb = samples.http_tcp_lb()
    lb.pools[1].healthmonitor.type = "TLS-HELLO"
    cases.append((lb, "healthmonitor.type.TLS-HELLO"))
    lb = samples.http_tcp_lb()
    lb.pools[1].members[0].monitor_port = 9000
    cases.append((lb, "member.monitor_address"))
    lb = samples.http_tcp_lb()
    lb.pools[1].tls_enabled = True
    cases.append((lb, "pool.tls_enabled"))
    lb = samples.http_tcp_lb()
    lb.pools[1].protocol = "PROXY"
    cases.append((lb, "pool.protocol.PROXY"))
    lb = samples.tls_l7_lb()
    lb.listeners[0].l7policies[0].rules[0].compare_type = "REGEX"
    cases.append((lb, "l7rule.compare_type.REGEX"))
    lb = samples.tls_l7_lb()
    lb.listeners[0].l7policies[0].rules[0].type = "SSL_CONN_HAS_CERT"
    cases.append((lb, "l7rule.type.SSL_CONN_HAS_CERT"))
    lb = samples.tls_l7_lb()
    lb.listeners[0].client_crl_container_ref = samples.CA_REF
    cases.append((lb, "listener.client_crl"))
    lb = samples.tls_l7_lb()
    lb.listeners[0].alpn_protocols.append("h2")
    cases.append((lb, "listener.alpn_protocols"))
    lb = samples.tls_l7_lb()
    lb.listeners[0].hsts_max_age = 100
    cases.append((lb, "listener.hsts"))
    lb = samples.tls_l7_lb()
    lb.listeners[0].insert_headers["X-SSL-Client-CN"] = "true"
    cases.append((lb, "listener.insert_headers.X-SSL-Client-CN"))
    lb = samples.tls_l7_lb()
    lb.pools[1].session_persistence.type = "SOURCE_IP"  # persistence on an L7-only pool
    cases.append((lb, "pool.session_persistence.SOURCE_IP"))
    for lb, feature in cases:
        _refused(renderer, lb, feature)


def test_describe_lists_what_the_samples_need(renderer: As3Renderer) -> None:
    description = renderer.describe()
    assert description.backend_type == "f5-as3"
    assert description.renderer_version == features.RENDERER_VERSION == "f5-as3-1.0.0"
    assert As3Renderer(version="x").describe().renderer_version == "x"
    for make in CASES.values():
        lb = make()
        del lb.pools[:]  # only what listeners need: the orphan pool is not rendered
        for p in make().pools:
            if p.meta.id != samples.ORPHAN_POOL_ID:
                lb.pools.append(p)
        assert needs.missing(description.supported_features, needs.loadbalancer(lb)) is None


def test_bootstrap_builds_the_as3_renderer() -> None:
    from services.renderer.bootstrap import build_renderer
    from services.renderer.config import Settings

    settings = Settings(backend="f5-as3", bind_address="127.0.0.1:0", log_level="INFO")
    assert isinstance(build_renderer(settings), As3Renderer)


def test_invalid_values_are_invalid_input(renderer: As3Renderer) -> None:
    lb = samples.http_tcp_lb()
    lb.pools[1].healthmonitor.delay = 300  # x max_retries_down 4 > 900 s
    with pytest.raises(InvalidInput):
        renderer.render(lb, samples.target())
    lb = samples.http_tcp_lb()
    lb.listeners[1].allowed_cidrs.append("2001:db8::/32")  # IPv4 VIP
    with pytest.raises(InvalidInput):
        renderer.render(lb, samples.target())
    lb = samples.tls_l7_lb()
    lb.listeners[0].l7policies[0].rules[0].value = "tcl:[exec]"
    with pytest.raises(InvalidInput):
        renderer.render(lb, samples.target(), samples.materials())
    lb = samples.tls_l7_lb()
    lb.listeners[0].tls_ciphers = "ALL; rm"
    with pytest.raises(InvalidInput):
        renderer.render(lb, samples.target(), samples.materials())
