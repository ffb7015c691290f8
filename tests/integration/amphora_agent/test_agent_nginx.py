"""The amphora agent managing a real nginx, fed by the real nginx renderer: HTTP to both members,
TERMINATED_HTTPS with SNI, L7 routing by path, INVALID configs that change nothing, a reload
under load that loses no request, a failed reload that rolls back, forced re-apply and the
renderer version recorded without a reload."""

from __future__ import annotations

import http.client
import os
import random
import socket
import ssl
import subprocess
import threading
import time

import pytest
from agent_harness import stub, wait_for
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.common.v1 import graph_pb2
from lbaas.health.v1 import heartbeat_pb2

from amphora_agent.confighash import config_hash
from services.renderer.backends.nginx.renderer import NginxRenderer
from tests.support.backends import Backend
from tests.unit.renderer import nginx_samples as samples

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        not os.path.exists("/usr/lib/nginx/modules/ngx_stream_module.so"),
        reason="nginx with the stream module is not installed (make system-deps)",
    ),
]

APPLIED, UNCHANGED = pb.APPLY_RESULT_APPLIED, pb.APPLY_RESULT_UNCHANGED
INVALID, ROLLED_BACK = pb.APPLY_RESULT_INVALID, pb.APPLY_RESULT_ROLLED_BACK
LB_ID = samples.LB_ID
HTTP_ID, TLS_ID, TCP_ID = samples.HTTP_LISTENER_ID, samples.TLS_LISTENER_ID, samples.TCP_LISTENER_ID
WEB_ID, API_ID = samples.WEB_POOL_ID, samples.API_POOL_ID
M = samples.MEMBER_IDS


@pytest.fixture
def web_api():
    started = [Backend(name).start() for name in ("web-1", "web-2", "api-1")]
    try:
        yield started
    finally:
        for backend in started:
            backend.stop()


@pytest.fixture
def nginx_agent(make_agent):
    agent = make_agent("nginx")
    agent.start()
    return agent


def _vip_ports(count: int) -> tuple[str, list[int]]:
    """A 127.x address and ports free on it now (kept apart from the haproxy tests' 127.10)."""
    address = f"127.11.{random.randint(1, 254)}.{random.randint(1, 254)}"
    ports, probes = [], []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind((address, 0))
            probes.append(probe)
            ports.append(probe.getsockname()[1])
    finally:
        for probe in probes:
            probe.close()
    return address, ports


def _graph(backends, ports, *, web_weight: int = 1) -> graph_pb2.LoadBalancer:
    web1, web2, api = backends
    meta = samples.meta
    web = samples.pool(
        WEB_ID,
        [
            samples.member(0, "127.0.0.1", web1.port, weight=web_weight),
            samples.member(1, "127.0.0.1", web2.port),
        ],
    )
    api_pool = samples.pool(API_ID, [samples.member(2, "127.0.0.1", api.port)])
    to_api = graph_pb2.L7Policy(
        meta=meta(samples.POLICY_IDS[0]),
        action="REDIRECT_TO_POOL",
        position=1,
        redirect_pool_id=API_ID,
        rules=[
            graph_pb2.L7Rule(
                meta=meta(samples.RULE_IDS[0]),
                type="PATH",
                compare_type="STARTS_WITH",
                value="/api",
            )
        ],
    )
    http_listener = graph_pb2.Listener(
        meta=meta(HTTP_ID),
        protocol="HTTP",
        protocol_port=ports[0],
        connection_limit=-1,
        default_pool_id=WEB_ID,
        l7policies=[to_api],
        insert_headers={"X-Forwarded-For": "true"},
    )
    tls_listener = graph_pb2.Listener(
        meta=meta(TLS_ID),
        protocol="TERMINATED_HTTPS",
        protocol_port=ports[1],
        connection_limit=-1,
        default_pool_id=API_ID,
        default_tls_container_ref=samples.DEFAULT_REF,
        sni_container_refs=list(samples.SNI_REFS),
        alpn_protocols=["h2", "http/1.1"],
    )
    # A TCP listener in front of the API pool: the stream module through the same agent.
    tcp_listener = graph_pb2.Listener(
        meta=meta(TCP_ID),
        protocol="TCP",
        protocol_port=ports[2],
        connection_limit=100,
        default_pool_id=API_ID,
    )
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="127.0.0.1"),
        listeners=[http_listener, tls_listener, tcp_listener],
        pools=[web, api_pool],
    )


def _request(agent, lb, *, force=False, version=None) -> pb.ApplyConfigRequest:
    rendering = NginxRenderer().render(
        lb,
        samples.target(runtime_dir=agent.run_dir, vip_address=agent.vip),
        samples.tls_materials(),
    )
    return pb.ApplyConfigRequest(
        files=[pb.ConfigFile(path=f.path, content=f.content, mode=f.mode) for f in rendering.files],
        config_hash=rendering.config_hash,
        renderer_version=version or rendering.renderer_version,
        force=force,
    )


def _get(address: str, port: int, path: str = "/", host: str = "lb.example") -> str:
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        answer = conn.getresponse()
        body = answer.read().decode()
        assert answer.status == 200, (answer.status, body[:200])
        return body
    finally:
        conn.close()


def _served_cn(address: str, port: int, servername: str | None) -> str:
    argv = ["openssl", "s_client", "-connect", f"{address}:{port}", "-brief"]
    if servername:
        argv += ["-servername", servername]
    else:
        argv += ["-noservername"]
    done = subprocess.run(argv, input=b"", capture_output=True, timeout=15, check=False)
    text = (done.stdout + done.stderr).decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("Peer certificate:"):
            return line.split("CN", 1)[1].lstrip(" =").split(",")[0].strip()
    raise AssertionError(f"no peer certificate in: {text[-800:]}")


def _workers(agent) -> set[int]:
    return set(agent.haproxy_pids()[1:])


def test_http_sni_and_l7_through_nginx(nginx_agent, web_api, heartbeat_socket):
    agent = nginx_agent
    agent.vip, ports = _vip_ports(3)
    address = agent.vip
    with agent.client() as chan:
        info = stub(chan).GetInfo(pb.GetInfoRequest(), timeout=5)
        assert info.backend_type == "nginx"
        assert info.nginx_version.count(".") == 2 and info.nginx_version[0].isdigit()
        assert info.haproxy_version == "" and info.applied_renderer_version == ""
        assert "apply-force" in info.capabilities
        request = _request(agent, _graph(web_api, ports))
        done = stub(chan).ApplyConfig(request, timeout=60)
        assert done.result == APPLIED, done.detail
        info = stub(chan).GetInfo(pb.GetInfoRequest(), timeout=5)
        assert info.applied_config_hash == request.config_hash
        assert info.applied_renderer_version == "nginx-1.3.0"

    # HTTP: round robin over both members; L7 by path: /api goes to the API pool.
    seen = {_get(address, ports[0]) for _ in range(6)}
    assert seen == {"web-1", "web-2"}
    assert {_get(address, ports[0], "/api/v1") for _ in range(3)} == {"api-1"}
    assert _get(address, ports[0], "/apix") == "api-1"  # STARTS_WITH, as Octavia's
    assert _get(address, ports[0], "/x/api") in {"web-1", "web-2"}

    # TERMINATED_HTTPS: each SNI name gets its certificate, anything else the default one.
    assert _served_cn(address, ports[1], "a.example.com") == "a.example.com"
    assert _served_cn(address, ports[1], "www.a.example.com") == "a.example.com"
    assert _served_cn(address, ports[1], "x.b.example.com") == "b.example.com"
    assert _served_cn(address, ports[1], "other.example.org") == samples.DEFAULT_HOST
    assert _served_cn(address, ports[1], None) == samples.DEFAULT_HOST
    context = ssl.create_default_context(cadata=samples.tls_issued()["ca"].cert_pem.decode())
    raw = socket.create_connection((address, ports[1]), timeout=5)
    with context.wrap_socket(raw, server_hostname="a.example.com") as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"api-1")

    # TCP (stream module): bytes relayed to the API pool.
    with socket.create_connection((address, ports[2]), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := raw.recv(4096):
            data += chunk
    assert data.endswith(b"api-1")

    # Heartbeats: every listener OPEN, members without checks reported as "no check".
    def beat_with_listeners():
        from lbaas.health.v1 import heartbeat_pb2 as hb

        envelope = hb.HeartbeatEnvelope.FromString(heartbeat_socket.recv(65535))
        beat = heartbeat_pb2.Heartbeat.FromString(envelope.payload)
        return beat if beat.listeners else None

    beat = wait_for(beat_with_listeners, 10, "a heartbeat with listeners")
    assert {lr.listener_id: lr.status for lr in beat.listeners} == {
        HTTP_ID: "OPEN",
        TLS_ID: "OPEN",
        TCP_ID: "OPEN",
    }
    members = {m.member_id: m.status for p in beat.pools for m in p.members}
    assert members == {M[0]: "no check", M[1]: "no check", M[2]: "no check"}


def test_invalid_config_changes_nothing_and_failed_reload_rolls_back(nginx_agent, web_api):
    agent = nginx_agent
    agent.vip, ports = _vip_ports(3)
    with agent.client() as chan:
        good = _request(agent, _graph(web_api, ports))
        assert stub(chan).ApplyConfig(good, timeout=60).result == APPLIED
        workers = _workers(agent)

        files = {f.path: f.content for f in good.files}
        files["nginx.conf"] = files["nginx.conf"].replace(
            b"events {", b"no_such_directive;\nevents {"
        )
        bad = pb.ApplyConfigRequest(
            files=[pb.ConfigFile(path=p, content=c, mode=0o644) for p, c in files.items()],
            config_hash=config_hash(files.items()),
            renderer_version="nginx-1.2.0",
        )
        done = stub(chan).ApplyConfig(bad, timeout=60)
        assert done.result == INVALID
        assert "no_such_directive" in done.detail
        assert done.applied_config_hash == good.config_hash
        assert _workers(agent) == workers  # not even reloaded
        assert _get(agent.vip, ports[0]) in {"web-1", "web-2"}

        # A port held by another program passes `nginx -t` (it tolerates addresses in use) but
        # the reload cannot bind it: the agent restores the last good config.
        with socket.socket() as squatter:
            squatter.bind((agent.vip, 0))
            squatter.listen(1)
            moved = _graph(web_api, [ports[0], ports[1], squatter.getsockname()[1]])
            done = stub(chan).ApplyConfig(_request(agent, moved), timeout=60)
        assert done.result == ROLLED_BACK, done.detail
        assert done.applied_config_hash == good.config_hash
        assert _get(agent.vip, ports[0]) in {"web-1", "web-2"}
        assert _get(agent.vip, ports[0], "/api") == "api-1"


def test_reload_under_load_loses_no_request(nginx_agent, web_api):
    agent = nginx_agent
    agent.vip, ports = _vip_ports(3)
    results: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        deadline = time.monotonic() + 60  # bounded even if the test body fails
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                results.append(_get(agent.vip, ports[0]))
            except Exception as exc:  # noqa: BLE001 - every failure is a lost request
                failures.append(repr(exc))

    with agent.client() as chan:
        assert stub(chan).ApplyConfig(
            _request(agent, _graph(web_api, ports)), timeout=60
        ).result == (APPLIED)
        worker = threading.Thread(target=load, daemon=True)
        worker.start()
        try:
            for weight in (2, 3, 4, 5):
                time.sleep(0.3)
                request = _request(agent, _graph(web_api, ports, web_weight=weight))
                done = stub(chan).ApplyConfig(request, timeout=60)
                assert done.result == APPLIED, done.detail
            time.sleep(0.3)
        finally:
            stop.set()
            worker.join(30)
    assert not failures, failures[:5]
    assert len(results) > 20 and set(results) == {"web-1", "web-2"}


def test_force_reapplies_and_a_new_renderer_version_is_recorded(nginx_agent, web_api):
    agent = nginx_agent
    agent.vip, ports = _vip_ports(3)
    lb = _graph(web_api, ports)
    with agent.client() as chan:
        first = _request(agent, lb)
        assert stub(chan).ApplyConfig(first, timeout=60).result == APPLIED
        workers = _workers(agent)

        assert stub(chan).ApplyConfig(first, timeout=60).result == UNCHANGED
        renamed = _request(agent, lb, version="nginx-1.0.1")
        assert renamed.config_hash == first.config_hash
        assert stub(chan).ApplyConfig(renamed, timeout=60).result == UNCHANGED
        info = stub(chan).GetInfo(pb.GetInfoRequest(), timeout=5)
        assert info.applied_renderer_version == "nginx-1.0.1"
        applied = stub(chan).GetAppliedConfig(pb.GetAppliedConfigRequest(), timeout=5)
        assert applied.renderer_version == "nginx-1.0.1"
        assert _workers(agent) == workers  # no reload for a renderer version

        forced = _request(agent, lb, force=True, version="nginx-1.0.1")
        done = stub(chan).ApplyConfig(forced, timeout=60)
        assert done.result == APPLIED and done.applied_config_hash == first.config_hash
        wait_for(lambda: _workers(agent) - workers, 10, "new nginx workers")
        assert _get(agent.vip, ports[0]) in {"web-1", "web-2"}
