"""Log offload end to end: the launcher's processes with syslog targets on a receiver on
loopback (UDP and TCP on one port), real haproxy and nginx, real HTTP requests.

One stack, two phases. TCP first: every request through an haproxy load balancer is one access
line over TCP naming its listener, status and client address and port; a reload (a config
change) brings the agent's admin line over TCP; an nginx load balancer is refused (nginx sends
syslog over UDP only). Then the orchestrator's processes restart with UDP, as an operator would
switch: the haproxy amphora's next pass renders UDP targets, and the same holds over UDP, with
haproxy's own admin lines on a reload ("Proxy <listener> stopped") and an nginx load balancer
beside it. Local log storage is off throughout: the amphorae write no log file.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest

from tests.support.api import Api, amphorae, wait_for
from tests.support.backends import Backend
from tests.support.stack import RunningStack, running_stack, wait_restarted
from tests.support.syslog import Message, SyslogReceiver

pytestmark = pytest.mark.e2e
PORT = 8080
REQUESTS = 5
# The test's client: an address of its own on loopback, so the access line's client is not
# just the default source address.
CLIENT = "127.0.0.77"
LOCAL0, LOCAL1 = 16, 17
# Octavia's access line (services/renderer/domain/log_offload.py).
ACCESS = re.compile(
    r"^(?P<project>\S+) (?P<lb>\S+) (?P<listener>\S+) (?P<client>\S+) (?P<client_port>\d+) "
    r'(?P<time>\S+) "(?P<request>[^"]*)" (?P<status>\d+) (?P<bytes_out>\d+) (?P<bytes_in>\d+) '
    r'(?P<verify>\S+) "(?P<dn>[^"]*)" (?P<pool>\S+) (?P<member>\S+) (?P<total>\S+) (?P<term>\S+)$'
)


def get(vip: str, path: str) -> tuple[int, int]:
    """One GET on a fresh connection from CLIENT: (status, the client's port)."""
    with socket.create_connection((vip, PORT), timeout=5, source_address=(CLIENT, 0)) as sock:
        client_port = sock.getsockname()[1]
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1]), client_port


def access_lines(receiver: SyslogReceiver, transport: str, marker: str) -> list[dict]:
    lines = []
    for m in receiver.messages():
        fields = ACCESS.match(m.text)
        if m.transport == transport and fields and marker in fields["request"]:
            assert (m.facility, m.severity) == (LOCAL0, 6), m
            lines.append(fields.groupdict())
    return lines


def check_access(
    receiver: SyslogReceiver, transport: str, marker: str, sent: dict[str, int], graph: dict
) -> None:
    """Exactly one line per request sent, each naming the load balancer, its listener, pool,
    the status and the client's address and port."""
    wait_for(
        lambda: len(access_lines(receiver, transport, marker)) >= len(sent),
        15,
        f"{len(sent)} access lines over {transport}",
    )
    time.sleep(0.5)  # a line sent twice would arrive within moments of the first copy
    lines = access_lines(receiver, transport, marker)
    assert len(lines) == len(sent), lines
    for line in lines:
        path = line["request"].split()[1]
        assert line["request"] == f"GET {path} HTTP/1.1"
        assert line["client"] == CLIENT and int(line["client_port"]) == sent[path], line
        assert line["status"] == "200", line
        assert line["listener"] == graph["listener"], line
        assert line["lb"] == graph["lb"] and line["project"] == graph["project"], line
        assert line["pool"] == graph["pool"], line
    assert sorted(line["request"].split()[1] for line in lines) == sorted(sent)


def send(vip: str, marker: str) -> dict[str, int]:
    sent = {}
    for i in range(REQUESTS):
        path = f"{marker}{i}"
        status, client_port = get(vip, path)
        assert status == 200
        sent[path] = client_port
    return sent


def create(api: Api, backend: Backend, name: str, flavor: str | None = None) -> dict:
    subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
    body = {
        "loadbalancer": {
            "name": name,
            "vip_subnet_id": subnet,
            "listeners": [
                {
                    "protocol": "HTTP",
                    "protocol_port": PORT,
                    "default_pool": {
                        "name": f"{name}-pool",
                        "protocol": "HTTP",
                        "lb_algorithm": "ROUND_ROBIN",
                        "members": [{"address": backend.host, "protocol_port": backend.port}],
                    },
                }
            ],
            **({"flavor_id": flavor} if flavor else {}),
        }
    }
    return api.http.post("/v2/lbaas/loadbalancers", json=body)


def graph_of(api: Api, admin: Api, lb_id: str, project: str) -> dict:
    lb = api.wait_lb(lb_id, timeout=60)
    listener = lb["listeners"][0]["id"]
    pool = api.get(f"/v2/lbaas/listeners/{listener}")["listener"]["default_pool_id"]
    (amphora,) = amphorae(admin, lb_id)
    return {
        "lb": lb_id,
        "vip": lb["vip_address"],
        "listener": listener,
        "pool": pool,
        "project": project,
        "amphora": amphora["id"],
    }


def reload(api: Api, graph: dict, limit: int) -> None:
    """A change that reaches the config (the listener's maxconn), so the engine reloads."""
    api.put(f"/v2/lbaas/listeners/{graph['listener']}", {"listener": {"connection_limit": limit}})
    api.wait_lb(graph["lb"], timeout=60)


def admin_line(
    receiver: SyslogReceiver, since: int, transport: str, host: str, text: str
) -> Message:
    """The first admin message (facility local1) received after the first `since` ones, over
    transport, from host (any host when ""), containing text."""

    def match(m: Message) -> bool:
        return (
            m.transport == transport
            and m.facility == LOCAL1
            and (not host or m.host == host)
            and text in m.text
        )

    wait_for(
        lambda: [m for m in receiver.messages()[since:] if match(m)],
        15,
        f"an admin line {text!r} over {transport}",
    )
    return next(m for m in receiver.messages()[since:] if match(m))


def test_access_and_admin_logs_reach_syslog_over_tcp_then_udp() -> None:
    backend = Backend("logged").start()
    with SyslogReceiver() as tenant, SyslogReceiver() as admin_rx:
        env = {
            "LBAAS_TENANT_LOG_TARGETS": tenant.address,
            "LBAAS_ADMIN_LOG_TARGETS": admin_rx.address,
            "LBAAS_LOG_PROTOCOL": "tcp",
            "LBAAS_DISABLE_LOCAL_LOG_STORAGE": "true",
        }
        try:
            with running_stack("lbaas-log-", extra_env=env) as stack:
                _scenario(stack, tenant, admin_rx, backend)
        finally:
            backend.stop()


def _scenario(
    stack: RunningStack, tenant: SyslogReceiver, admin_rx: SyslogReceiver, backend: Backend
) -> None:
    api = Api(stack.api_url, stack.token("member"))
    admin = Api(stack.api_url, stack.token("admin"))
    try:
        project = stack.project("member")
        flavor = _nginx_flavor(admin)

        # -- TCP ------------------------------------------------------------------------
        made = create(api, backend, "ha")
        assert made.status_code == 201, made.text
        refused = create(api, backend, "nx", flavor)
        # What the nginx backend cannot do is Octavia's 501 for the provider.
        assert refused.status_code == 501 and "log_offload.tcp" in refused.text, refused.text
        ha = graph_of(api, admin, made.json()["loadbalancer"]["id"], project)
        host = f"amphora-{ha['amphora']}"

        check_access(tenant, "tcp", "/tcp/", send(ha["vip"], "/tcp/"), ha)
        since = len(admin_rx.messages())
        reload(api, ha, 1000)
        line = admin_line(admin_rx, since, "tcp", host, "applied config")
        assert (line.host, line.app) == (host, "amphora-agent"), line

        # -- UDP: the operator switches and restarts the orchestrator's processes ---------
        since = len(admin_rx.messages())
        restart(stack, ("orchestrator-worker", "orchestrator"), {"LBAAS_LOG_PROTOCOL": "udp"})
        # The worker's start pass pushes every config again, now with UDP targets; the agent
        # (whose own flags are those it was built with: TCP) says when haproxy has reloaded.
        admin_line(admin_rx, since, "tcp", host, "applied config")
        applied = stack.run_dir / "amphorae" / ha["amphora"] / "conf" / "haproxy.cfg"
        assert f"log {tenant.address} " in applied.read_text()

        check_access(tenant, "udp", "/udp/", send(ha["vip"], "/udp/"), ha)
        since = len(admin_rx.messages())
        reload(api, ha, 2000)
        line = admin_line(admin_rx, since, "udp", host, f"Proxy {ha['listener']} stopped")
        assert line.host == host and line.app == "haproxy", line

        made = create(api, backend, "nx", flavor)
        assert made.status_code == 201, made.text
        nx = graph_of(api, admin, made.json()["loadbalancer"]["id"], project)
        check_access(tenant, "udp", "/nginx/", send(nx["vip"], "/nginx/"), nx)
        since = len(admin_rx.messages())
        reload(api, nx, 3000)
        line = admin_line(admin_rx, since, "udp", "", "reconfiguring")
        assert line.app == "nginx", line
        admin_line(admin_rx, since, "udp", f"amphora-{nx['amphora']}", "applied config")

        # -- local log storage off: no engine log file, no agent log record on disk -----
        for graph, engine_log in ((ha, "haproxy.log"), (nx, "nginx.log")):
            amphora_dir = stack.run_dir / "amphorae" / graph["amphora"]
            assert not (amphora_dir / engine_log).exists()
            assert "applied config" not in (amphora_dir / "agent.log").read_text()
    finally:
        api.close()
        admin.close()


def restart(stack: RunningStack, services: tuple[str, ...], env: dict[str, str]) -> None:
    """Redeploys services with env at once (the launcher's env files; tests.support.stack
    restart_service does one at a time)."""
    old = {}
    for name in services:
        (stack.run_dir / "env").mkdir(exist_ok=True)
        (stack.run_dir / "env" / f"{name}.env").write_text(
            "".join(f"{k}={v}\n" for k, v in env.items())
        )
        old[name] = stack.service_pid(name)
        os.kill(old[name], signal.SIGTERM)
    for name, pid in old.items():
        wait_restarted(stack, name, pid)


def _nginx_flavor(admin: Api) -> str:
    profile = admin.post(
        "/v2/lbaas/flavorprofiles",
        {
            "flavorprofile": {
                "name": "nginx-engine",
                "provider_name": "amphora",
                "flavor_data": '{"backend": "nginx"}',
            }
        },
    )["flavorprofile"]
    return admin.post(
        "/v2/lbaas/flavors",
        {"flavor": {"name": "nginx", "flavor_profile_id": profile["id"], "enabled": True}},
    )["flavor"]["id"]
