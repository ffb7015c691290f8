"""Workers that drop root, through the agent as a real process with the real renderers: haproxy's
workers run as haproxy, chrooted into an empty directory, and serve HTTP and TERMINATED_HTTPS;
with a PING monitor they run unchrooted and the check (script and ping, unprivileged) marks the
member up; the agent still reads `show info;show stat` over the stats socket. nginx's workers run
as www-data and proxy request bodies, and its temp paths are writable by www-data. The masters
stay root. Every worker is a child of the master named in the pid file, read from /proc."""

from __future__ import annotations

import grp
import http.client
import os
import pwd
import random
import shutil
import socket
import ssl
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from agent_harness import stub, wait_for
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.backends.nginx.renderer import NginxRenderer
from tests.unit.renderer import nginx_samples, tls_samples

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(os.geteuid() != 0, reason="workers drop root only under a root master"),
]

APPLIED = pb.APPLY_RESULT_APPLIED
LB_ID = "0d3c6e52-1d7b-4a51-9d3e-5d3f0c7a2a31"
HTTP_ID, TLS_ID = "1d1d1d1d-0000-4000-8000-000000000001", "1d1d1d1d-0000-4000-8000-000000000002"
WEB_ID, SECURE_ID = "2d2d2d2d-0000-4000-8000-000000000001", "2d2d2d2d-0000-4000-8000-000000000002"
MEMBER_IDS = [f"3e3e3e3e-0000-4000-8000-00000000000{i}" for i in range(1, 5)]
HM_ID = "4e4e4e4e-0000-4000-8000-000000000001"


def _ids(name: str) -> tuple[int, int]:
    try:
        return pwd.getpwnam(name).pw_uid, grp.getgrnam(name).gr_gid
    except KeyError:
        pytest.skip(f"no {name} user and group (make system-deps)")


# -- processes -------------------------------------------------------------------------------


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:  # gone meanwhile (an old worker finishing after a reload)
        return {}


def _master_and_workers(agent) -> tuple[int, list[int]]:
    pids = agent.haproxy_pids()  # the master from its pid file, then its children
    assert len(pids) >= 2, f"no worker: {pids}"
    return pids[0], pids[1:]


def _assert_workers(agent, uid: int, gid: int, root: str) -> list[int]:
    """The master is root; every worker runs with uid/gid in all four slots (real, effective,
    saved, filesystem), no supplementary group 0, and the given root directory."""
    master, workers = _master_and_workers(agent)
    assert _status(master)["Uid"].split() == ["0"] * 4
    for pid in workers:
        status = _status(pid)
        if not status:
            continue
        assert status["Uid"].split() == [str(uid)] * 4, (pid, status)
        assert status["Gid"].split() == [str(gid)] * 4, (pid, status)
        assert "0" not in status["Groups"].split(), (pid, status)
        assert os.readlink(f"/proc/{pid}/root") == root, pid
    return workers


# -- a backend that answers GET and POST -----------------------------------------------------


class Echo:
    """Answers with its name and the number of body bytes it received (chunked or not)."""

    def __init__(self, name: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body_length(self) -> int:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    total = 0
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        total += len(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return total
                return len(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _answer(self, received: int) -> None:
                body = f"{name} {received}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(0)

            def do_POST(self) -> None:  # noqa: N802
                self._answer(self._body_length())

            def log_message(self, *args: object) -> None:
                pass

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # health checks close connections abruptly

        self.server = Quiet(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def echo():
    started = Echo("echo")
    try:
        yield started
    finally:
        started.stop()


def _vip_ports(prefix: str, count: int) -> tuple[str, list[int]]:
    address = f"{prefix}.{random.randint(1, 254)}.{random.randint(1, 254)}"
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind((address, 0))
            probes.append(probe)
        return address, [p.getsockname()[1] for p in probes]
    finally:
        for probe in probes:
            probe.close()


def _request(rendering) -> pb.ApplyConfigRequest:
    return pb.ApplyConfigRequest(
        files=[pb.ConfigFile(path=f.path, content=f.content, mode=f.mode) for f in rendering.files],
        config_hash=rendering.config_hash,
        renderer_version=rendering.renderer_version,
    )


def _target(info: pb.GetInfoResponse, vip: str) -> renderer_service_pb2.Target:
    """As the orchestrator builds it from GetInfo."""
    return renderer_service_pb2.Target(
        amphora_id=info.amphora_id,
        agent_api_version=info.api_version,
        haproxy_version=info.haproxy_version,
        nginx_version=info.nginx_version,
        openssl_version=info.openssl_version,
        runtime_dir=info.runtime_dir,
        vip_address=vip,
    )


def _member(index: int, port: int) -> graph_pb2.Member:
    return graph_pb2.Member(
        meta=graph_pb2.ResourceMeta(id=MEMBER_IDS[index], admin_state_up=True),
        address="127.0.0.1",
        protocol_port=port,
        weight=1,
    )


def _graph(ports: list[int], member_port: int, *, ping: bool) -> graph_pb2.LoadBalancer:
    """HTTP on ports[0] and TERMINATED_HTTPS on ports[1], each with a pool of one member;
    with `ping`, the HTTP pool has a PING monitor (1 s, one result moves the member)."""

    def meta(id_: str) -> graph_pb2.ResourceMeta:
        return graph_pb2.ResourceMeta(id=id_, admin_state_up=True)

    web = graph_pb2.Pool(
        meta=meta(WEB_ID), protocol="HTTP", lb_algorithm="ROUND_ROBIN",
        members=[_member(0, member_port)],
    )  # fmt: skip
    if ping:
        web.healthmonitor.CopyFrom(
            graph_pb2.HealthMonitor(
                meta=meta(HM_ID), type="PING", delay=1, timeout=1, max_retries=1,
                max_retries_down=1,
            )
        )  # fmt: skip
    secure = graph_pb2.Pool(
        meta=meta(SECURE_ID), protocol="HTTP", lb_algorithm="ROUND_ROBIN",
        members=[_member(1, member_port)],
    )  # fmt: skip
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="127.0.0.1"),
        listeners=[
            graph_pb2.Listener(
                meta=meta(HTTP_ID), protocol="HTTP", protocol_port=ports[0],
                connection_limit=-1, default_pool_id=WEB_ID,
            ),
            graph_pb2.Listener(
                meta=meta(TLS_ID), protocol="TERMINATED_HTTPS", protocol_port=ports[1],
                connection_limit=-1, default_pool_id=SECURE_ID,
                default_tls_container_ref=tls_samples.DEFAULT_REF,
            ),
        ],
        pools=[web, secure],
    )  # fmt: skip


def _http(address: str, port: int, method: str = "GET", body=None, **kw) -> str:
    conn = http.client.HTTPConnection(address, port, timeout=10)
    try:
        conn.request(method, "/", body=body, **kw)
        answer = conn.getresponse()
        text = answer.read().decode()
        assert answer.status == 200, (answer.status, text[:200])
        return text
    finally:
        conn.close()


def _https(address: str, port: int, ca_pem: bytes) -> tuple[str, str]:
    """(body, the served certificate's CN) of a GET over TLS, the certificate verified."""
    ctx = ssl.create_default_context(cadata=ca_pem.decode())
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection(address, port, context=ctx, timeout=10)
    try:
        conn.request("GET", "/")
        answer = conn.getresponse()
        text = answer.read().decode()
        assert answer.status == 200, (answer.status, text[:200])
        subject = dict(item[0] for item in conn.sock.getpeercert()["subject"])
        return text, subject["commonName"]
    finally:
        conn.close()


# -- haproxy ---------------------------------------------------------------------------------


def _show_stat(agent) -> dict[str, dict[str, str]]:
    """`show stat` rows of the pools' servers by member id (over the stats socket, as root)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(os.path.join(agent.run_dir, "haproxy.sock"))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {r["svname"]: r for r in rows if r["svname"] in MEMBER_IDS}


def test_haproxy_workers_drop_root_serve_tls_and_a_ping_check_marks_a_member_up(make_agent, echo):
    uid, gid = _ids("haproxy")
    agent = make_agent()
    agent.start()
    run_dir = Path(agent.run_dir)
    chroot = run_dir / "chroot"
    # Prepared at the agent's start: an empty root-owned chroot, the runtime dir searchable by
    # the workers' group (and no more: no listing, no writing).
    assert chroot.is_dir() and not chroot.is_symlink() and list(chroot.iterdir()) == []
    assert (chroot.stat().st_uid, stat.S_IMODE(chroot.stat().st_mode)) == (0, 0o755)
    assert run_dir.stat().st_gid == gid and stat.S_IMODE(run_dir.stat().st_mode) & 0o070 == 0o010
    pki = tls_samples.pki()
    vip, ports = _vip_ports("127.12", 2)
    with agent.client() as chan:
        agent_stub = stub(chan)
        info = agent_stub.GetInfo(pb.GetInfoRequest(), timeout=10)
        assert info.api_version == "1.1"
        target = _target(info, vip)

        # Without a PING monitor: chrooted.
        rendering = HaproxyRenderer().render(
            _graph(ports, echo.port, ping=False), target, tls_samples.materials()
        )
        assert b"\n    chroot " in rendering.files[0].content
        reply = agent_stub.ApplyConfig(_request(rendering), timeout=60)
        assert reply.result == APPLIED, reply.detail
        first = _assert_workers(agent, uid, gid, str(chroot))
        assert _http(vip, ports[0]) == "echo 0"
        assert _http(vip, ports[0], "POST", b"x" * 100_000) == "echo 100000"
        assert _https(vip, ports[1], pki.server_ca.cert_pem) == ("echo 0", tls_samples.DEFAULT_NAME)
        # The agent still reads `show info;show stat` over the stats socket (root, 0600).
        stats = agent_stub.GetStats(pb.GetStatsRequest(), timeout=10)
        counted = {s.listener_id: s.total_connections for s in stats.listeners}
        assert counted.get(HTTP_ID, 0) >= 2 and counted.get(TLS_ID, 0) >= 1, counted
        assert list(chroot.iterdir()) == []  # the workers cannot write there

        # With a PING monitor: reloaded, still unprivileged, not chrooted (the check execs
        # conf/ping-wrapper-1s.sh and ping), and the check passes (PROCOK, not just initial UP).
        rendering = HaproxyRenderer().render(
            _graph(ports, echo.port, ping=True), target, tls_samples.materials()
        )
        assert b"\n    chroot " not in rendering.files[0].content
        reply = agent_stub.ApplyConfig(_request(rendering), timeout=60)
        assert reply.result == APPLIED, reply.detail

        def pinged() -> bool:
            row = _show_stat(agent).get(MEMBER_IDS[0], {})
            return (row.get("status"), row.get("check_status")) == ("UP", "PROCOK")

        wait_for(pinged, 30, "the PING check to pass")
        second = _assert_workers(agent, uid, gid, "/")
        assert not set(second) & set(first)
        assert _http(vip, ports[0]) == "echo 0"
        assert _https(vip, ports[1], pki.server_ca.cert_pem)[0] == "echo 0"
        # The script is searchable for the workers' group only through the conf link.
        version = (run_dir / "conf").resolve()
        assert (version.stat().st_gid, stat.S_IMODE(version.stat().st_mode)) == (gid, 0o710)
        assert stat.S_IMODE((version / "certs").stat().st_mode) == 0o700


# -- nginx -----------------------------------------------------------------------------------

TEMP_DIRS = ("nginx-client-body", "nginx-proxy", "nginx-fastcgi", "nginx-uwsgi", "nginx-scgi")


@pytest.mark.skipif(
    not os.path.exists("/usr/lib/nginx/modules/ngx_stream_module.so"),
    reason="nginx with the stream module is not installed (make system-deps)",
)
def test_nginx_workers_run_as_www_data_and_proxy_request_bodies(make_agent, workdir, echo):
    uid, gid = _ids("www-data")
    # As on an appliance (/var/lib/...), the runtime dir's parents are searchable; the agent
    # warns when they are not (its temp paths would be out of the workers' reach).
    os.chmod(workdir, 0o711)
    agent = make_agent("nginx")
    agent.start()
    run_dir = Path(agent.run_dir)
    assert run_dir.stat().st_gid == gid and stat.S_IMODE(run_dir.stat().st_mode) & 0o070 == 0o010
    assert not (run_dir / "chroot").exists()
    vip, ports = _vip_ports("127.13", 2)
    graph = _graph(ports, echo.port, ping=False)
    graph.listeners[1].default_tls_container_ref = nginx_samples.DEFAULT_REF
    with agent.client() as chan:
        agent_stub = stub(chan)
        info = agent_stub.GetInfo(pb.GetInfoRequest(), timeout=10)
        assert info.api_version == "1.1"
        rendering = NginxRenderer().render(graph, _target(info, vip), nginx_samples.tls_materials())
        assert b"\nuser www-data www-data;\n" in rendering.files[0].content
        reply = agent_stub.ApplyConfig(_request(rendering), timeout=60)
        assert reply.result == APPLIED, reply.detail
    _assert_workers(agent, uid, gid, "/")

    # Request bodies reach the member: small, larger than every buffer, and chunked.
    assert _http(vip, ports[0], "POST", b"x" * 100) == "echo 100"
    big = 5 * 1024 * 1024
    assert _http(vip, ports[0], "POST", b"y" * big) == f"echo {big}"
    chunks = [b"z" * 65536] * 16
    assert _http(vip, ports[0], "POST", iter(chunks), encode_chunked=True) == "echo 1048576"
    # TERMINATED_HTTPS: the master read the key (root, 0600); a www-data worker serves.
    ca = nginx_samples.tls_issued()["ca"].cert_pem
    assert _https(vip, ports[1], ca) == ("echo 0", nginx_samples.DEFAULT_HOST)

    # Should nginx spool a body, its temp paths are the workers': created by the master owned
    # by www-data (0700), and reachable and writable by www-data through the runtime dir.
    for name in TEMP_DIRS:
        path = run_dir / name
        assert (path.stat().st_uid, stat.S_IMODE(path.stat().st_mode)) == (uid, 0o700), name
    if shutil.which("setpriv"):
        probe = run_dir / "nginx-client-body" / "probe"
        done = subprocess.run(
            ["setpriv", "--reuid", "www-data", "--regid", "www-data", "--init-groups",
             "sh", "-c", 'echo body > "$0" && cat "$0"', str(probe)],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        assert done.returncode == 0 and done.stdout == "body\n", done.stderr
        assert probe.stat().st_uid == uid
        probe.unlink()
