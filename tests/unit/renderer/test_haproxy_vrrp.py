"""ACTIVE_STANDBY halves from the haproxy renderer: keepalived.conf, its check script, haproxy
peers; refusals naming the field; SINGLE renderings untouched. (`keepalived -t` and `haproxy -c`
on these files: tests/integration/renderer/test_haproxy_vrrp_runtime.py.)"""

from __future__ import annotations

import ipaddress
import re

import pytest
from jinja2 import nodes
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput, Precondition
from services.renderer.backends.haproxy.renderer import FILTERS, HaproxyRenderer, build_environment
from services.renderer.backends.nginx.renderer import NginxRenderer
from tests.unit.renderer import nginx_samples
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer.golden_cases import CASES

AMPHORA_ID = "5e5e5e5e-0000-4000-8000-000000000001"
PEER_ID = "5e5e5e5e-0000-4000-8000-000000000002"
RUNTIME_DIR = "/var/lib/lbaas/run"
VIP4, VIP6 = "203.0.113.10", "2001:db8::10"


def vrrp(**overrides) -> renderer_service_pb2.Vrrp:
    values = {
        "role": "MASTER",
        "priority": 100,
        "interface": "eth0",
        "own_address": "203.0.113.11",
        "peer_amphora_id": PEER_ID,
        "peer_address": "203.0.113.12",
        "router_id": 1,
        "advert_interval_ms": 100,
        "vip_prefix_length": 24,
        "peers_port": 1025,
    }
    values.update(overrides)
    return renderer_service_pb2.Vrrp(**values)


V6 = {"own_address": "2001:db8::11", "peer_address": "2001:db8::12", "vip_prefix_length": 64}


def half(half_vrrp: renderer_service_pb2.Vrrp, **target) -> renderer_service_pb2.Target:
    built = samples.target(**target)
    built.vrrp.CopyFrom(half_vrrp)
    return built


@pytest.fixture(scope="module")
def renderer() -> HaproxyRenderer:
    return HaproxyRenderer()


def _files(renderer: HaproxyRenderer, lb, target, materials=()) -> dict[str, tuple[str, int]]:
    rendering = renderer.render(lb, target, materials)
    return {f.path: (f.content.decode(), f.mode) for f in rendering.files}


def _vip_of(lb) -> str:
    return lb.vip.address or VIP4


def _pair_for(lb) -> renderer_service_pb2.Vrrp:
    return vrrp(**V6) if ipaddress.ip_address(_vip_of(lb)).version == 6 else vrrp()


_VRRP_LINES = re.compile(r"^ {4}localpeer .*\n|^\npeers lbaas_peers\n(?: {4}peer .*\n)+", re.M)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vrrp_only_adds_to_the_single_rendering(renderer: HaproxyRenderer, name: str) -> None:
    lb, materials = CASES[name]
    single = _files(renderer, lb(), samples.target(), materials())
    pair = _files(renderer, lb(), half(_pair_for(lb())), materials())
    assert set(pair) == set(single) | {"keepalived.conf", "check_haproxy.sh"}
    for path in single:
        if path != "haproxy.cfg":
            assert pair[path] == single[path]
    cfg = pair["haproxy.cfg"][0]
    assert cfg.count(" peers lbaas_peers\n") == cfg.count("    stick-table ")
    stripped = _VRRP_LINES.sub("", cfg).replace(" peers lbaas_peers\n", "\n")
    assert stripped == single["haproxy.cfg"][0]


def test_single_renders_nothing_of_a_pair(renderer: HaproxyRenderer) -> None:
    for lb in (samples.l7_lb(), samples.passthrough_lb()):
        files = _files(renderer, lb, samples.target())
        assert list(files) == ["haproxy.cfg"]
        assert "peers" not in files["haproxy.cfg"][0] and "localpeer" not in files["haproxy.cfg"][0]


def test_files_and_modes(renderer: HaproxyRenderer) -> None:
    files = _files(renderer, samples.l7_lb(), half(vrrp()))
    assert {path: mode for path, (_, mode) in files.items()} == {
        "haproxy.cfg": 0o644,
        "keepalived.conf": 0o644,
        "check_haproxy.sh": 0o755,
    }
    rendering = renderer.render(samples.l7_lb(), half(vrrp()))
    assert [f.path for f in rendering.files] == [
        "haproxy.cfg",
        "check_haproxy.sh",
        "keepalived.conf",
    ]


def test_peers_name_both_halves_and_every_stick_table_uses_them(renderer) -> None:
    master = _files(renderer, samples.l7_lb(), half(vrrp()))["haproxy.cfg"][0]
    backup = _files(
        renderer,
        samples.l7_lb(),
        half(
            vrrp(role="BACKUP", priority=90, own_address="203.0.113.12",
                 peer_address="203.0.113.11", peer_amphora_id=AMPHORA_ID),
            amphora_id=PEER_ID,
        ),
    )["haproxy.cfg"][0]  # fmt: skip
    # Named by address: a half replaced at the same address leaves its peer's config as it was.
    assert "\n    localpeer amp-203-0-113-11\n" in master
    assert "\n    localpeer amp-203-0-113-12\n" in backup
    section = (
        "\npeers lbaas_peers\n"
        "    peer amp-203-0-113-11 203.0.113.11:1025\n"
        "    peer amp-203-0-113-12 203.0.113.12:1025\n\ndefaults\n"
    )
    assert section in master and section in backup  # the same section on both halves
    assert "    stick-table type string len 64 size 10k expire 600s peers lbaas_peers\n" in master
    # The two halves differ only in localpeer.
    differing = [
        (a, b) for a, b in zip(master.splitlines(), backup.splitlines(), strict=True) if a != b
    ]
    assert differing == [("    localpeer amp-203-0-113-11", "    localpeer amp-203-0-113-12")]


def test_a_half_replaced_at_the_same_address_leaves_its_peers_haproxy_cfg_as_it_was(
    renderer,
) -> None:
    """Only the VRRP role and priority of the survivor change (keepalived.conf): its agent then
    need not reload haproxy, which keeps the stick-table entries the dead half taught it."""
    before = _files(
        renderer,
        samples.l7_lb(),
        half(vrrp(role="BACKUP", priority=90, own_address="203.0.113.12",
                  peer_address="203.0.113.11", peer_amphora_id=AMPHORA_ID),
             amphora_id=PEER_ID),
    )  # fmt: skip
    replacement = "0d0d0d0d-0000-4000-8000-00000000000d"
    after = _files(
        renderer,
        samples.l7_lb(),
        half(vrrp(role="MASTER", priority=100, own_address="203.0.113.12",
                  peer_address="203.0.113.11", peer_amphora_id=replacement),
             amphora_id=PEER_ID),
    )  # fmt: skip
    assert after["haproxy.cfg"] == before["haproxy.cfg"]
    assert after["keepalived.conf"] != before["keepalived.conf"]


def test_keepalived_conf(renderer: HaproxyRenderer) -> None:
    text = _files(renderer, samples.l7_lb(), half(vrrp(), runtime_dir="/run/amp"))[
        "keepalived.conf"
    ][0]
    instance = text.split(f"vrrp_instance {samples.LB_ID} {{\n")[1]
    for line in (
        "state MASTER",
        "interface eth0",
        "virtual_router_id 1",
        "priority 100",
        "advert_int 0.10",
        "unicast_src_ip 203.0.113.11",
        "check_unicast_src",
    ):
        assert f"\n    {line}\n" in "\n" + instance
    assert "unicast_peer {\n        203.0.113.12\n    }" in instance
    assert "virtual_ipaddress {\n        203.0.113.10/24 dev eth0\n    }" in instance
    assert "track_script {\n        check_haproxy\n    }" in instance
    # Preemption stays on: a priority swap pushed by the orchestrator moves the VIP.
    assert "nopreempt" not in text and "preempt_delay" not in text
    assert f"    router_id {AMPHORA_ID}\n" in text
    for line in ("vrrp_version 3", "enable_script_security", "script_user root"):
        assert f"\n    {line}\n" in text
    script = text.split("vrrp_script check_haproxy {\n")[1].split("}")[0]
    assert '    script "/bin/sh /run/amp/conf/check_haproxy.sh"\n' in script
    assert "    interval 1\n" in script and "    fall 2\n" in script and "    rise 2\n" in script


def test_backup_half_and_ipv6(renderer: HaproxyRenderer) -> None:
    files = _files(
        renderer,
        samples.source_ip_lb(),
        half(vrrp(role="BACKUP", priority=90, router_id=255, interface="ens3", **V6)),
    )
    text = files["keepalived.conf"][0]
    assert "\n    state BACKUP\n" in text and "\n    priority 90\n" in text
    assert "\n    virtual_router_id 255\n" in text
    assert "unicast_src_ip 2001:db8::11\n" in text and "        2001:db8::12\n" in text
    assert "        2001:db8::10/64 dev ens3\n" in text
    cfg = files["haproxy.cfg"][0]
    v6 = "amp-2001-0db8-0000-0000-0000-0000-0000-00"
    assert f"    peer {v6}11 [2001:db8::11]:1025\n" in cfg
    assert f"    peer {v6}12 [2001:db8::12]:1025\n" in cfg


@pytest.mark.parametrize(("ms", "text"), [(10, "0.01"), (100, "0.10"), (1000, "1.00"),
                                         (1230, "1.23"), (40950, "40.95")])  # fmt: skip
def test_advert_interval_in_seconds(renderer: HaproxyRenderer, ms: int, text: str) -> None:
    conf = _files(renderer, samples.empty_lb(), half(vrrp(advert_interval_ms=ms)))
    assert f"\n    advert_int {text}\n" in conf["keepalived.conf"][0]


def test_target_vip_wins_and_is_the_keepalived_vip(renderer: HaproxyRenderer) -> None:
    files = _files(renderer, samples.l7_lb(), half(vrrp(), vip_address="203.0.113.99"))
    assert "        203.0.113.99/24 dev eth0\n" in files["keepalived.conf"][0]
    assert "bind 203.0.113.99:80" in files["haproxy.cfg"][0]


def test_check_script_watches_this_runtime_dirs_haproxy(renderer: HaproxyRenderer) -> None:
    one = _files(renderer, samples.l7_lb(), half(vrrp(), runtime_dir="/run/a"))
    other = _files(
        renderer, samples.full_lb(), half(vrrp(role="BACKUP", priority=5), runtime_dir="/run/a")
    )
    script = one["check_haproxy.sh"][0]
    assert script.startswith("#!/bin/sh\n")
    assert "run_dir='/run/a'\n" in script
    assert '"$run_dir/haproxy.pid"' in script and '-S $run_dir/master.sock "' in script
    # Nothing of the graph or the VRRP values reaches it: only the runtime dir.
    assert other["check_haproxy.sh"] == one["check_haproxy.sh"]


BAD = [
    ("role", {"role": "STANDALONE"}),
    ("role", {"role": "master"}),
    ("priority", {"priority": 0}),
    ("priority", {"priority": 255}),
    ("interface", {"interface": ""}),
    ("interface", {"interface": "eth0 dev lo"}),
    ("interface", {"interface": "eth0\n}"}),
    ("interface", {"interface": "a-very-long-ifname"}),
    ("interface", {"interface": ".."}),
    ("own_address", {"own_address": "203.0.113.11/24"}),
    ("own_address", {"own_address": "host.example"}),
    ("own_address", {"own_address": "2001:db8::11"}),
    ("own_address", {"own_address": VIP4}),
    ("peer_address", {"peer_address": ""}),
    ("peer_address", {"peer_address": "203.0.113.11"}),
    ("peer_address", {"peer_address": "fe80::1%eth0"}),
    ("peer_amphora_id", {"peer_amphora_id": "peer one"}),
    ("peer_amphora_id", {"peer_amphora_id": AMPHORA_ID}),
    ("router_id", {"router_id": 0}),
    ("router_id", {"router_id": 256}),
    ("advert_interval_ms", {"advert_interval_ms": 0}),
    ("advert_interval_ms", {"advert_interval_ms": 5}),
    ("advert_interval_ms", {"advert_interval_ms": 105}),
    ("advert_interval_ms", {"advert_interval_ms": 40960}),
    ("vip_prefix_length", {"vip_prefix_length": 0}),
    ("vip_prefix_length", {"vip_prefix_length": 33}),
    ("peers_port", {"peers_port": 0}),
    ("peers_port", {"peers_port": 65536}),
]


@pytest.mark.parametrize(("name", "override"), BAD)
def test_invalid_vrrp_values_are_refused_naming_the_field(renderer, name, override) -> None:
    with pytest.raises(InvalidInput) as err:
        renderer.render(samples.l7_lb(), half(vrrp(**override)))
    assert err.value.field == f"target.vrrp.{name}"
    assert f"target.vrrp.{name}" in err.value.user_message


def test_a_pair_needs_a_uuid_amphora_id(renderer: HaproxyRenderer) -> None:
    with pytest.raises(InvalidInput) as err:
        renderer.render(samples.l7_lb(), half(vrrp(), amphora_id="amp-1"))
    assert err.value.field == "target.amphora_id"
    renderer.render(samples.l7_lb(), samples.target(amphora_id="amp-1"))  # SINGLE: unused


def test_new_templates_end_every_output_in_a_strict_filter() -> None:
    env = build_environment()
    for template, least in (("keepalived.conf.j2", 15), ("check_haproxy.sh.j2", 1)):
        source = env.loader.get_source(env, template)[0]
        outputs = [
            node
            for output in env.parse(source).find_all(nodes.Output)
            for node in output.nodes
            if not isinstance(node, nodes.TemplateData)
        ]
        assert len(outputs) >= least
        for node in outputs:
            assert isinstance(node, nodes.Filter), f"{template}:{node.lineno} has no filter"
            assert node.name in FILTERS, f"{template}:{node.lineno}: {node.name} is not strict"


def test_keepalived_filters_refuse_what_they_cannot_write() -> None:
    assert FILTERS["ka_addr"]("2001:db8::1") == "2001:db8::1"
    assert FILTERS["ka_advert"](3000) == "3.00"
    for name, value in (("ka_addr", "1.2.3.4 dev lo"), ("ka_advert", 15), ("ka_state", "FAULT"),
                        ("ka_ifname", "eth0;")):  # fmt: skip
        with pytest.raises(InvalidInput):
            FILTERS[name](value)


def test_describe_advertises_active_standby(renderer: HaproxyRenderer) -> None:
    described = renderer.describe()
    assert "loadbalancer.topology.ACTIVE_STANDBY" in described.supported_features
    assert described.renderer_version == "haproxy-1.7.0"


def test_nginx_refuses_a_pair() -> None:
    target = nginx_samples.target()
    target.vrrp.CopyFrom(vrrp())
    with pytest.raises(Precondition) as err:
        NginxRenderer().render(nginx_samples.http_lb(), target)
    assert err.value.user_message == (
        "ACTIVE_STANDBY topology is not available with the nginx backend"
    )
    assert err.value.field == "target.vrrp"
    assert (
        "loadbalancer.topology.ACTIVE_STANDBY" not in NginxRenderer().describe().supported_features
    )
