"""An ACTIVE_STANDBY pair for real: two agents, each in its own network namespace on one bridge,
configs from the real haproxy renderer, keepalived (VRRPv3, unicast) holding the VIP. The VIP
serves from the host, a stick-table entry reaches the BACKUP through haproxy peers, a role swap
moves the VIP without reloading haproxy on either half, the BACKUP takes over when every process
of the MASTER's namespace is killed, and a config without keepalived.conf stops keepalived and
releases the VIP.

Root only (namespaces, a bridge); skipped without keepalived or haproxy. Everything made here
(processes in the namespaces, the namespaces, the links) is removed on every exit path.
"""

from __future__ import annotations

import http.server
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field

import grpc
import pytest
from agent_harness import REPO, issue, make_ca, stub, wait_for
from cryptography.hazmat.primitives import serialization
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.backends.haproxy.renderer import HaproxyRenderer

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived is not installed"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]

SUBNET = ipaddress.ip_network("10.242.0.0/24")
HOST, VIP = "10.242.0.1", "10.242.0.100"
ADDRESSES = {"a": "10.242.0.11", "b": "10.242.0.12"}
LB_ID = "1c0ffee0-0000-4000-8000-00000000b001"
LISTENER_ID = "1c0ffee0-0000-4000-8000-00000000b002"
POOL_ID = "1c0ffee0-0000-4000-8000-00000000b003"
MEMBER_ID = "1c0ffee0-0000-4000-8000-00000000b004"
VIP_PORT = 80
PEERS_PORT = 1025
ADVERT_MS = 100
TAKEOVER_LIMIT = 10.0
APPLIED = pb.APPLY_RESULT_APPLIED


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _ns_pids(ns: str) -> list[int]:
    return [int(p) for p in _ip("netns", "pids", ns, check=False).split()]


def _has_vip(ns: str) -> bool:
    return f" {VIP}/" in _ip("-n", ns, "-o", "-4", "addr", "show", "dev", "eth0", check=False)


@dataclass
class Half:
    name: str  # "a" or "b"
    ns: str
    address: str
    amphora_id: str
    base: str  # certificates, logs
    run_dir: str
    proc: subprocess.Popen | None = None
    port: int = 0
    channel: grpc.Channel | None = None

    @property
    def client(self):
        return stub(self.channel)


@dataclass
class Pair:
    suffix: str
    bridge: str
    halves: dict[str, Half] = field(default_factory=dict)
    member_port: int = 0


class Member:
    """The pool's one member: a tiny HTTP server on the host's bridge address."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"member"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _kill_namespace_processes(ns: str) -> None:
    for pid in _ns_pids(ns):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def pair():
    if _ip("-o", "addr", "show", "to", str(SUBNET), check=False).strip():
        pytest.skip(f"{SUBNET} is already in use on this host")
    suffix = secrets.token_hex(3)
    bridge = f"lbk-{suffix}"
    made = Pair(suffix, bridge)
    links: list[str] = []
    namespaces: list[str] = []
    tmp = tempfile.mkdtemp(prefix="lbk-", dir="/tmp")
    member = None
    try:
        _ip("link", "add", bridge, "type", "bridge")
        links.append(bridge)
        _ip("addr", "add", f"{HOST}/{SUBNET.prefixlen}", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for name, address in ADDRESSES.items():
            ns, host_side = f"lbk-{suffix}-{name}", f"lbk{suffix}{name}"
            _ip("netns", "add", ns)
            namespaces.append(ns)
            _ip("link", "add", host_side, "type", "veth", "peer", "name", "eth0", "netns", ns)
            links.append(host_side)
            _ip("link", "set", host_side, "master", bridge, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{address}/{SUBNET.prefixlen}", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            # The BACKUP's haproxy binds the VIP it does not hold (yet).
            _ip("netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_nonlocal_bind")
            amphora_id = f"1c0ffee0-0000-4000-8000-{secrets.token_hex(6)}"
            base = os.path.join(tmp, name)
            os.makedirs(base)
            made.halves[name] = Half(name, ns, address, amphora_id, base, os.path.join(base, "run"))
        member = Member()
        made.member_port = member.port
        _start_agents(made)
        yield made
    finally:
        for half in made.halves.values():
            if half.channel is not None:
                half.channel.close()
            if half.proc is not None and half.proc.poll() is None:
                half.proc.terminate()  # the agent stops keepalived and haproxy itself
                try:
                    half.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        for ns in namespaces:  # whatever is left in the namespaces, then the namespaces
            _kill_namespace_processes(ns)
            deadline = time.monotonic() + 10
            while _ns_pids(ns) and time.monotonic() < deadline:
                time.sleep(0.05)
        for half in made.halves.values():
            if half.proc is not None and half.proc.poll() is None:
                half.proc.kill()
            if half.proc is not None:
                half.proc.wait(10)
        for ns in namespaces:
            _ip("netns", "del", ns, check=False)
        for link in reversed(links):
            _ip("link", "del", link, check=False)
        if member is not None:
            member.stop()
        if os.environ.get("AMPHORA_AGENT_KEEP_TMP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _start_agents(made: Pair) -> None:
    ca = make_ca("lbk test CA")
    ca_pem = ca[1].public_bytes(serialization.Encoding.PEM)
    controller = issue(ca, "lbaas-controller", server=False)
    heartbeat_sink = f"{HOST}:9"  # discard: nothing listens, the agents do not mind
    for half in made.halves.values():
        key, cert = issue(ca, half.amphora_id, server=True)
        files = {"agent.crt": cert, "agent.key": key, "ca.crt": ca_pem,
                 "heartbeat.keys": f"k1 {'00' * 32}\n".encode()}  # fmt: skip
        for name, data in files.items():
            with open(os.path.join(half.base, name), "wb") as fh:
                fh.write(data)
        argv = ["ip", "netns", "exec", half.ns, sys.executable, "-m", "amphora_agent",
                "--amphora-id", half.amphora_id, "--listen", f"{half.address}:0",
                "--tls-cert", os.path.join(half.base, "agent.crt"),
                "--tls-key", os.path.join(half.base, "agent.key"),
                "--client-ca", os.path.join(half.base, "ca.crt"),
                "--runtime-dir", half.run_dir,
                "--heartbeat-target", heartbeat_sink,
                "--heartbeat-key-file", os.path.join(half.base, "heartbeat.keys")]  # fmt: skip
        with open(os.path.join(half.base, "agent.log"), "ab") as log:
            half.proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=log)
    for half in made.halves.values():

        def ready(half=half):
            if half.proc.poll() is not None:
                raise AssertionError(f"agent {half.name} exited: {_tail(half, 'agent.log')}")
            try:
                with open(os.path.join(half.run_dir, "agent.port")) as fh:
                    return int(fh.read())
            except (OSError, ValueError):
                return 0

        half.port = wait_for(ready, 30, f"agent {half.name} to listen")
        creds = grpc.ssl_channel_credentials(ca_pem, controller[0], controller[1])
        half.channel = grpc.secure_channel(
            f"{half.address}:{half.port}",
            creds,
            options=[("grpc.ssl_target_name_override", half.amphora_id)],
        )


def _tail(half: Half, name: str) -> str:
    for path in (os.path.join(half.base, name), os.path.join(half.run_dir, name)):
        try:
            with open(path, errors="replace") as fh:
                return fh.read()[-3000:]
        except OSError:
            continue
    return ""


def _graph(member_port: int) -> graph_pb2.LoadBalancer:
    meta = lambda id_: graph_pb2.ResourceMeta(id=id_, admin_state_up=True)  # noqa: E731
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address=VIP),
        topology="ACTIVE_STANDBY",
        listeners=[
            graph_pb2.Listener(
                meta=meta(LISTENER_ID), protocol="HTTP", protocol_port=VIP_PORT,
                connection_limit=-1, default_pool_id=POOL_ID,
            )
        ],
        pools=[
            graph_pb2.Pool(
                meta=meta(POOL_ID), protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                listener_ids=[LISTENER_ID],
                # A stick table: its entries travel to the other half through haproxy peers.
                session_persistence=graph_pb2.SessionPersistence(type="SOURCE_IP"),
                members=[
                    graph_pb2.Member(
                        meta=meta(MEMBER_ID), address=HOST, protocol_port=member_port, weight=1
                    )
                ],
            )
        ],
    )  # fmt: skip


def _apply(made: Pair, name: str, role: str | None, force: bool = False) -> pb.ApplyConfigResponse:
    """Render this half (role None: SINGLE, no vrrp) from its GetInfo, as the orchestrator
    does, and apply it."""
    half = made.halves[name]
    peer = made.halves["b" if name == "a" else "a"]
    info = half.client.GetInfo(pb.GetInfoRequest(), timeout=10)
    target = renderer_service_pb2.Target(
        amphora_id=info.amphora_id,
        agent_api_version=info.api_version,
        haproxy_version=info.haproxy_version,
        openssl_version=info.openssl_version,
        keepalived_version=info.keepalived_version,
        runtime_dir=info.runtime_dir,
        vip_address=VIP,
    )
    if role is not None:
        target.vrrp.CopyFrom(
            renderer_service_pb2.Vrrp(
                role=role, priority=100 if role == "MASTER" else 90, interface="eth0",
                own_address=half.address, peer_amphora_id=peer.amphora_id,
                peer_address=peer.address, router_id=1, advert_interval_ms=ADVERT_MS,
                vip_prefix_length=SUBNET.prefixlen, peers_port=PEERS_PORT,
            )
        )  # fmt: skip
    rendering = HaproxyRenderer().render(_graph(made.member_port), target)
    reply = half.client.ApplyConfig(
        pb.ApplyConfigRequest(
            files=[pb.ConfigFile(path=f.path, content=f.content, mode=f.mode)
                   for f in rendering.files],
            config_hash=rendering.config_hash,
            renderer_version=rendering.renderer_version,
            force=force,
        ),
        timeout=60,
    )  # fmt: skip
    assert reply.result == APPLIED, (reply, _tail(half, "keepalived.log"))
    return reply


def _get(timeout: float = 1.0) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{VIP}:{VIP_PORT}/", timeout=timeout) as resp:
            return resp.read().decode()
    except OSError:
        return None


def _keepalived_pid(half: Half) -> int | None:
    try:
        pid = int(open(os.path.join(half.run_dir, "keepalived.pid")).read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid in _ns_pids(half.ns) else None


def _runtime(half: Half, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as sock:  # unix sockets do not care about namespaces
        sock.settimeout(5)
        sock.connect(os.path.join(half.run_dir, "haproxy.sock"))
        sock.sendall(f"{command}\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data.decode()


def _show_table(half: Half) -> str:
    return _runtime(half, f"show table {POOL_ID}")


def _haproxy_worker(half: Half) -> int:
    """The pid of the haproxy worker serving this half (a reload starts a new one)."""
    info = dict(
        line.split(": ", 1) for line in _runtime(half, "show info").splitlines() if ": " in line
    )
    return int(info["Pid"])


def _vip_holder(made: Pair) -> str | None:
    held = [n for n, h in made.halves.items() if _has_vip(h.ns)]
    return held[0] if len(held) == 1 else None


def test_active_standby_pair_takes_over(pair: Pair) -> None:
    a, b = pair.halves["a"], pair.halves["b"]
    info = a.client.GetInfo(pb.GetInfoRequest(), timeout=10)
    assert info.keepalived_version.count(".") == 2
    assert "vrrp-keepalived" in info.capabilities

    # The MASTER's config first, then the BACKUP's (the order the orchestrator pushes them in).
    _apply(pair, "a", "MASTER")
    _apply(pair, "b", "BACKUP")
    wait_for(lambda: _vip_holder(pair) == "a", 10, "the MASTER to hold the VIP")
    time.sleep(5 * ADVERT_MS / 1000)  # a freshly started BACKUP does not take it
    assert _vip_holder(pair) == "a"
    assert wait_for(lambda: _get(), 10, "the VIP to serve") == "member"

    # SOURCE_IP persistence: the host's entry reaches the BACKUP's table through haproxy peers.
    wait_for(lambda: f"key={HOST} " in _show_table(b), 10, "the stick table to sync")

    # A role swap pushed by the orchestrator (priorities swapped) moves the VIP.
    _apply(pair, "a", "BACKUP")
    time.sleep(5 * ADVERT_MS / 1000)
    assert _vip_holder(pair) == "a"  # equal priorities for now: no move
    _apply(pair, "b", "MASTER")
    wait_for(lambda: _vip_holder(pair) == "b", 10, "the VIP to move to the new MASTER")
    assert wait_for(lambda: _get(), 10, "the VIP to serve from b") == "member"

    # Every process in the MASTER's namespace dies: the BACKUP serves the VIP again.
    assert _keepalived_pid(b) is not None
    started = time.monotonic()
    _kill_namespace_processes(b.ns)
    served = None
    while time.monotonic() - started < TAKEOVER_LIMIT:
        served = _get(timeout=0.2)
        if served:
            break
        time.sleep(0.02)
    gap = time.monotonic() - started
    print(f"\nVIP served again {gap:.2f}s after every process of the MASTER was killed")
    assert served == "member", f"no answer on the VIP within {TAKEOVER_LIMIT}s"
    assert _has_vip(a.ns)

    # A config without keepalived.conf (SINGLE) stops keepalived, which releases the VIP.
    keepalived = _keepalived_pid(a)
    assert keepalived is not None
    _apply(pair, "a", None)
    wait_for(lambda: keepalived not in _ns_pids(a.ns), 10, "keepalived to stop")
    assert _keepalived_pid(a) is None and not _has_vip(a.ns)
    info = a.client.GetInfo(pb.GetInfoRequest(), timeout=10)
    applied = a.client.GetAppliedConfig(pb.GetAppliedConfigRequest(), timeout=10)
    assert [f.path for f in applied.files] == ["haproxy.cfg"]
    assert info.applied_config_hash == applied.config_hash


def test_keepalived_is_restarted_and_stops_with_the_agent(pair: Pair) -> None:
    a = pair.halves["a"]
    _apply(pair, "a", "MASTER")
    _apply(pair, "b", "BACKUP")
    wait_for(lambda: _vip_holder(pair) == "a", 10, "the MASTER to hold the VIP")
    first = wait_for(lambda: _keepalived_pid(a), 10, "keepalived's pid file")

    # keepalived dies alone (the VIP stays on eth0): the agent starts it again.
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: (_keepalived_pid(a) or first) != first, 10, "keepalived to be restarted")
    wait_for(lambda: _vip_holder(pair) == "a", 10, "the MASTER to hold the VIP again")
    assert wait_for(lambda: _get(), 10, "the VIP to serve") == "member"

    # The agent stops (SIGTERM): keepalived stops with it and the BACKUP takes the VIP.
    a.proc.terminate()
    assert a.proc.wait(15) == 0
    wait_for(lambda: _keepalived_pid(a) is None, 5, "keepalived to stop with the agent")
    wait_for(lambda: _vip_holder(pair) == "b", 5, "the BACKUP to take the VIP")
    assert wait_for(lambda: _get(), 10, "the VIP to serve from b") == "member"


def test_a_role_swap_leaves_haproxy_running_as_it_was(pair: Pair) -> None:
    """A change of keepalived's files only (here the roles, as for the survivor of a failover
    whose new peer has the dead one's address) SIGHUPs keepalived and does not reload haproxy,
    so the stick-table entries a half learned from its peer stay in its running process."""
    a, b = pair.halves["a"], pair.halves["b"]
    _apply(pair, "a", "MASTER")
    _apply(pair, "b", "BACKUP")
    wait_for(lambda: _vip_holder(pair) == "a", 10, "the MASTER to hold the VIP")
    assert wait_for(lambda: _get(), 10, "the VIP to serve") == "member"
    wait_for(lambda: f"key={HOST} " in _show_table(b), 10, "the stick table to sync")
    workers = {name: _haproxy_worker(half) for name, half in pair.halves.items()}
    keepalived = {name: _keepalived_pid(half) for name, half in pair.halves.items()}
    first = {name: os.readlink(os.path.join(h.run_dir, "conf")) for name, h in pair.halves.items()}

    # Swap the roles and back: two keepalived-only changes per half, so the version each
    # haproxy was loaded from is pruned on the way.
    for master, backup in (("b", "a"), ("a", "b")):
        _apply(pair, backup, "BACKUP")
        _apply(pair, master, "MASTER")
        wait_for(lambda m=master: _vip_holder(pair) == m, 10, f"the VIP to move to {master}")
        assert wait_for(lambda: _get(), 10, f"the VIP to serve from {master}") == "member"
        assert {name: _haproxy_worker(half) for name, half in pair.halves.items()} == workers
        assert f"key={HOST} " in _show_table(b)  # learned from a, still in b's process
    assert {name: _keepalived_pid(half) for name, half in pair.halves.items()} == keepalived
    for name, half in pair.halves.items():
        assert not os.path.exists(os.path.join(half.run_dir, first[name]))

    # A reload reads conf/ (the version haproxy was loaded from is gone): it works, and it is
    # what the worker pid tells apart.
    _apply(pair, "a", "MASTER", force=True)
    assert _haproxy_worker(a) != workers["a"]
    assert _haproxy_worker(b) == workers["b"]
    assert wait_for(lambda: _get(), 10, "the VIP to serve after a reload") == "member"
