"""Target.log_offload in both renderers: golden outputs with syslog targets (UDP and TCP for
haproxy, UDP for nginx), the same output as before whenever nothing is to be sent, nginx's error
log off the disk, TCP refused by nginx, and targets checked naming the field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lbaas.renderer.v1 import renderer_service_pb2 as r

from services.common.errors import InvalidInput, Precondition
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.backends.nginx.renderer import NginxRenderer
from services.renderer.domain.log_offload import project_label
from tests.unit.renderer import nginx_samples
from tests.unit.renderer import renderer_samples as haproxy_samples
from tests.unit.renderer.golden_cases import CASES as HAPROXY_CASES
from tests.unit.renderer.test_nginx_render import CASES as NGINX_CASES
from tests.unit.renderer.test_nginx_render import TARGETS as NGINX_TARGETS

GOLDEN = Path(__file__).parent / "golden_log_offload"
PROJECT = "9f1c2a7e5b3d4c6a8e0f1a2b3c4d5e6f"
TENANT = [
    r.SyslogTarget(address="192.0.2.50", port=514),
    r.SyslogTarget(address="2001:db8::50", port=1514),
]
ADMIN = [r.SyslogTarget(address="192.0.2.51", port=514)]


def offload(protocol: int = r.LOG_PROTOCOL_UDP, **kw) -> r.LogOffload:
    return r.LogOffload(
        tenant_targets=kw.pop("tenant", TENANT),
        admin_targets=kw.pop("admin", ADMIN),
        protocol=protocol,
        **kw,
    )


def _haproxy(lb=None, log: r.LogOffload | None = None, materials=()) -> str:
    target = haproxy_samples.target()
    if log is not None:
        target.log_offload.CopyFrom(log)
    lb = lb or haproxy_samples.full_lb()
    lb.meta.project_id = PROJECT
    return HaproxyRenderer().render(lb, target, materials).files[0].content.decode()


def _nginx(lb=None, log: r.LogOffload | None = None, **target_fields) -> str:
    target = nginx_samples.target(**target_fields)
    if log is not None:
        target.log_offload.CopyFrom(log)
    lb = lb or nginx_samples.http_lb()
    lb.meta.project_id = PROJECT
    rendering = NginxRenderer().render(lb, target, nginx_samples.tls_materials())
    return rendering.files[0].content.decode()


GOLDENS = {
    "haproxy_udp.cfg": lambda: _haproxy(log=offload()),
    "haproxy_tcp.cfg": lambda: _haproxy(log=offload(r.LOG_PROTOCOL_TCP)),
    "nginx_l7_udp.conf": lambda: _nginx(nginx_samples.l7_lb(), offload()),
    "nginx_stream_no_local.conf": lambda: _nginx(
        nginx_samples.stream_lb(), offload(disable_local_log_storage=True)
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_matches_golden(name: str) -> None:
    text = GOLDENS[name]()
    golden = GOLDEN / name
    if os.environ.get("LBAAS_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text(), f"rendered config differs from {golden}"


NOTHING_TO_SEND = {
    "unset": None,
    "empty": r.LogOffload(),
    "tcp without targets": r.LogOffload(protocol=r.LOG_PROTOCOL_TCP),
}


@pytest.mark.parametrize("log", NOTHING_TO_SEND.values(), ids=NOTHING_TO_SEND.keys())
@pytest.mark.parametrize("case", sorted(HAPROXY_CASES))
def test_haproxy_renders_its_golden_file_when_nothing_is_sent(case: str, log) -> None:
    lb, materials = HAPROXY_CASES[case]
    golden = (Path(__file__).parent / "golden" / case).read_text()
    assert _haproxy(lb(), log, materials()) == golden
    # haproxy writes no log file itself: switching local storage off alone changes nothing.
    assert _haproxy(lb(), r.LogOffload(disable_local_log_storage=True), materials()) == golden


@pytest.mark.parametrize("log", NOTHING_TO_SEND.values(), ids=NOTHING_TO_SEND.keys())
@pytest.mark.parametrize("case", sorted(NGINX_CASES))
def test_nginx_renders_its_golden_file_when_nothing_is_sent(case: str, log) -> None:
    golden = (Path(__file__).parent / "golden_nginx" / case).read_text()
    assert _nginx(NGINX_CASES[case](), log, **NGINX_TARGETS.get(case, {})) == golden


def test_nginx_without_local_storage_sends_its_error_log_to_stderr_only() -> None:
    plain = _nginx()
    text = _nginx(log=r.LogOffload(disable_local_log_storage=True))
    assert text == plain.replace(
        "error_log /var/lib/lbaas/run/nginx.log notice;", "error_log stderr notice;"
    )
    assert "nginx.log" not in text


def test_haproxy_access_line_per_mode_and_admin_lines() -> None:
    text = _haproxy(log=offload())
    fields = "%B %U %[ssl_c_verify] %{+Q}[ssl_c_s_dn] %b %s %Tt %tsc"
    http = text.split(f"frontend {haproxy_samples.HTTP_LISTENER_ID}\n")[1].split("\n\n")[0]
    tcp = text.split(f"frontend {haproxy_samples.TCP_LISTENER_ID}\n")[1].split("\n\n")[0]
    lb = haproxy_samples.LB_ID
    assert f'    log-format "{PROJECT} {lb} %f %ci %cp %t %{{+Q}}r %ST {fields}"' in http
    # A TCP frontend has no request line or status (haproxy refuses %r there).
    assert f'    log-format "{PROJECT} {lb} %f %ci %cp %t - - {fields}"' in tcp
    assert "    log 192.0.2.51:514 len 8192 format rfc5424 local1 notice" in text
    assert "    log [2001:db8::50]:1514 len 8192 format rfc5424 local0 info" in text


def test_admin_targets_alone_send_the_engine_messages_without_access_lines() -> None:
    haproxy = _haproxy(log=offload(tenant=[]))
    assert "log-format" not in haproxy and "local0" not in haproxy
    assert "    log global\n" in haproxy and "local1 notice" in haproxy
    nginx = _nginx(log=offload(tenant=[]))
    assert "access_log syslog" not in nginx and "log_format" not in nginx
    assert "error_log syslog:server=192.0.2.51:514,facility=local1 notice;" in nginx


def test_tenant_targets_alone_leave_global_without_log_lines() -> None:
    text = _haproxy(log=offload(admin=[]))
    global_section = text.split("\nglobal\n", 1)[1].split("\n\n", 1)[0]
    assert "    log " not in global_section and "log global" not in text
    assert text.count("log-format") == 2


def test_nginx_refuses_tcp_and_does_not_advertise_it() -> None:
    with pytest.raises(Precondition) as err:
        _nginx(log=offload(r.LOG_PROTOCOL_TCP))
    assert err.value.field == "target.log_offload.protocol"
    assert "log_offload.tcp" in err.value.user_message
    assert "log_offload.tcp" not in NginxRenderer().describe().supported_features
    assert "log_offload.tcp" in HaproxyRenderer().describe().supported_features


@pytest.mark.parametrize(
    ("targets", "field"),
    [
        ([r.SyslogTarget(address="syslog.example.com", port=514)], "tenant_targets[0].address"),
        ([r.SyslogTarget(address="192.0.2.1", port=0)], "tenant_targets[0].port"),
        ([r.SyslogTarget(address="192.0.2.1", port=70000)], "tenant_targets[0].port"),
        ([r.SyslogTarget(address="0.0.0.0", port=514)], "tenant_targets[0].address"),
        ([r.SyslogTarget(address="192.0.2.1", port=514 + i) for i in range(9)], "tenant_targets"),
    ],
)
@pytest.mark.parametrize("render", [_haproxy, _nginx], ids=["haproxy", "nginx"])
def test_bad_targets_are_refused_naming_the_field(render, targets, field) -> None:
    with pytest.raises(InvalidInput) as err:
        render(log=offload(tenant=targets))
    assert err.value.field == f"target.log_offload.{field}"


def test_a_repeated_target_is_rendered_once() -> None:
    text = _haproxy(log=offload(tenant=[TENANT[0], TENANT[0]], admin=[]))
    assert text.count("192.0.2.50:514") == 1


@pytest.mark.parametrize(
    ("project", "label"),
    [
        (PROJECT, PROJECT),
        ("", "-"),
        ("my project", "my_project"),
        ("a%b$c\"d'e\\f", "a_b_c_d_e_f"),
        ("tenant-1.prod_x", "tenant-1.prod_x"),
    ],
)
def test_project_ids_are_made_safe_for_every_log_format(project: str, label: str) -> None:
    assert project_label(project) == label
    lb = haproxy_samples.full_lb()
    target = haproxy_samples.target()
    target.log_offload.CopyFrom(offload())
    lb.meta.project_id = project
    text = HaproxyRenderer().render(lb, target).files[0].content.decode()
    assert f'log-format "{label} {haproxy_samples.LB_ID} ' in text
