"""Drain for real: the agent in a network namespace of its own (joined to the host by a veth),
the real nft and kernel. While a drain is on, a new connection to a drained address (IPv4 and
IPv6) gets no answer to its SYN, connections already open keep working, other addresses are
untouched, and Drain counts the open ones and returns as soon as they are closed. A lift, the
hold timer, the agent's SIGTERM and the start after a SIGKILL all remove the drain.

Root only (a namespace, a veth); skipped without nft or iproute2. Everything made here (the
agent, the namespace, the link) is removed on every exit path.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import grpc
import pytest
from agent_harness import HEARTBEAT_KEY, REPO, Pki, stub, wait_for
from lbaas.amphora.v1 import amphora_service_pb2 as pb

from amphora_agent.drain import find_nft, table_name

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not find_nft("nft"), reason="nft is not installed"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]

PORT = 8080
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _nft_table(ns: str, table: str) -> str | None:
    """`nft list table` in the namespace; None when there is no such table."""
    done = subprocess.run(
        ["ip", "netns", "exec", ns, find_nft("nft"), "list", "table", "inet", table],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    return done.stdout if done.returncode == 0 else None


def socket_in(ns: str, family: int) -> socket.socket:
    """A TCP socket of the namespace: made by a thread that joined it (a network namespace is
    per thread); the socket stays in it whichever thread uses it afterwards."""
    out: dict[str, object] = {}

    def make() -> None:
        try:
            with open(f"/run/netns/{ns}") as fh:
                if _libc.setns(fh.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {ns}")
            out["sock"] = socket.socket(family, socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the caller
            out["error"] = exc

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["sock"]  # type: ignore[return-value]


class EchoServer:
    """Echoes each connection until the client closes it, then closes it (so the server's side
    goes away at once instead of waiting in CLOSE_WAIT)."""

    def __init__(self, ns: str, family: int, host: str) -> None:
        self.listener = socket_in(ns, family)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            self.listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.listener.bind((host, PORT))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._echo, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(None)
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def stop(self) -> None:
        self.stopped.set()
        self.threads[0].join(5)
        self.listener.close()


@dataclass
class Amphora:
    ns: str
    link: str
    host: str  # the host's end of the veth
    address: str  # the amphora's own address (eth0), where the agent listens
    vip: str
    address6: str
    vip6: str
    base: str
    amphora_id: str
    pki: Pki
    proc: subprocess.Popen | None = None
    channel: grpc.Channel | None = None
    servers: list[EchoServer] = field(default_factory=list)
    clients: list[socket.socket] = field(default_factory=list)

    @property
    def table(self) -> str:
        return table_name(self.amphora_id)

    @property
    def run_dir(self) -> str:
        return os.path.join(self.base, "run")

    def start_agent(self) -> None:
        port_file = os.path.join(self.run_dir, "agent.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        argv = ["ip", "netns", "exec", self.ns, sys.executable, "-m", "amphora_agent",
                "--amphora-id", self.amphora_id, "--listen", f"{self.address}:0",
                "--tls-cert", os.path.join(self.base, "agent.crt"),
                "--tls-key", os.path.join(self.base, "agent.key"),
                "--client-ca", os.path.join(self.base, "ca.crt"),
                "--runtime-dir", self.run_dir,
                "--heartbeat-target", f"{self.host}:9",  # discard: nothing listens
                "--heartbeat-key-file", os.path.join(self.base, "heartbeat.keys")]  # fmt: skip
        with open(os.path.join(self.base, "agent.log"), "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=log)

        def ready() -> int:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited {self.proc.returncode}: {self.log()}")
            try:
                with open(port_file) as fh:
                    return int(fh.read())
            except (OSError, ValueError):
                return 0

        port = wait_for(ready, 30, "the agent to listen")
        if self.channel is not None:
            self.channel.close()
        creds = grpc.ssl_channel_credentials(
            self.pki.ca_pem, self.pki.controller[0], self.pki.controller[1]
        )
        self.channel = grpc.secure_channel(
            f"{self.address}:{port}",
            creds,
            options=[("grpc.ssl_target_name_override", self.amphora_id)],
        )

    def stop_agent(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(15)

    def log(self) -> str:
        with open(os.path.join(self.base, "agent.log"), errors="replace") as fh:
            return fh.read()[-4000:]

    @property
    def client(self):
        return stub(self.channel)

    def drain(self, addresses, timeout_ms: int, hold_ms: int = 0) -> pb.DrainResponse:
        request = pb.DrainRequest(addresses=addresses, timeout_ms=timeout_ms, hold_ms=hold_ms)
        return self.client.Drain(request, timeout=timeout_ms / 1000 + 10)

    def connect(self, dest: str, source: str, timeout: float = 0.5) -> socket.socket:
        """A connection from inside the namespace, from `source` (so its own end does not
        count as a connection on the drained address)."""
        family = socket.AF_INET6 if ":" in dest else socket.AF_INET
        sock = socket_in(self.ns, family)
        try:
            sock.settimeout(timeout)
            sock.bind((source, 0))
            sock.connect((dest, PORT))
        except BaseException:
            sock.close()
            raise
        sock.settimeout(5)
        self.clients.append(sock)
        return sock


def _echoes(sock: socket.socket) -> bool:
    payload = secrets.token_bytes(16)
    sock.sendall(payload)
    data = b""
    while len(data) < len(payload):
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    return data == payload


def _refused_at_syn(amp: Amphora, dest: str, source: str) -> bool:
    """True when a connect gets no answer at all (the SYN dropped): neither an accept nor a
    reset."""
    try:
        amp.connect(dest, source, timeout=0.5).close()
    except TimeoutError:
        return True
    return False


@pytest.fixture
def amphora(workdir, pki, amphora_id):
    third = random.randint(0, 255)
    subnet = ipaddress.ip_network(f"10.241.{third}.0/24")
    if _ip("-o", "addr", "show", "to", str(subnet), check=False).strip():
        pytest.skip(f"{subnet} is already in use on this host")
    suffix = secrets.token_hex(3)
    prefix6 = f"fd00:241:{third:x}:{secrets.randbits(16):x}"
    amp = Amphora(
        ns=f"lbd-{suffix}", link=f"lbd{suffix}", host=f"10.241.{third}.1",
        address=f"10.241.{third}.2", vip=f"10.241.{third}.100",
        address6=f"{prefix6}::2", vip6=f"{prefix6}::100",
        base=workdir, amphora_id=amphora_id, pki=pki,
    )  # fmt: skip
    made_ns = made_link = False
    try:
        _ip("netns", "add", amp.ns)
        made_ns = True
        _ip("link", "add", amp.link, "type", "veth", "peer", "name", "eth0", "netns", amp.ns)
        made_link = True
        _ip("addr", "add", f"{amp.host}/24", "dev", amp.link)
        _ip("link", "set", amp.link, "up")
        _ip("-n", amp.ns, "link", "set", "lo", "up")
        for address in (amp.address, amp.vip):
            _ip("-n", amp.ns, "addr", "add", f"{address}/24", "dev", "eth0")
        for address in (amp.address6, amp.vip6):
            _ip("-n", amp.ns, "addr", "add", f"{address}/64", "dev", "eth0", "nodad")
        _ip("-n", amp.ns, "link", "set", "eth0", "up")
        files = {"agent.crt": pki.server[1], "agent.key": pki.server[0], "ca.crt": pki.ca_pem,
                 "heartbeat.keys": f"k1 {HEARTBEAT_KEY.hex()}\n".encode()}  # fmt: skip
        for name, data in files.items():
            with open(os.path.join(workdir, name), "wb") as fh:
                fh.write(data)
        amp.servers = [
            EchoServer(amp.ns, socket.AF_INET, "0.0.0.0"),
            EchoServer(amp.ns, socket.AF_INET6, "::"),
        ]
        amp.start_agent()
        yield amp
    finally:
        for sock in amp.clients:
            sock.close()
        for server in amp.servers:
            server.stop()
        if amp.channel is not None:
            amp.channel.close()
        if amp.proc is not None and amp.proc.poll() is None:
            amp.proc.terminate()
            try:
                amp.proc.wait(10)
            except subprocess.TimeoutExpired:
                amp.proc.kill()
                amp.proc.wait(10)
        if made_ns:
            for pid in _ip("netns", "pids", amp.ns, check=False).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _ip("netns", "del", amp.ns, check=False)  # its tables and eth0 go with it
        if made_link:
            _ip("link", "del", amp.link, check=False)


def test_drain_drops_new_connections_and_waits_for_open_ones(amphora: Amphora) -> None:
    amp = amphora
    assert "drain" in amp.client.GetInfo(pb.GetInfoRequest(), timeout=10).capabilities
    assert _nft_table(amp.ns, amp.table) is None
    held = amp.connect(amp.vip, amp.address)
    held6 = amp.connect(amp.vip6, amp.address6)
    assert _echoes(held) and _echoes(held6)

    began = time.monotonic()
    reply = amp.drain([amp.vip, amp.vip6], timeout_ms=300, hold_ms=60_000)
    assert time.monotonic() - began >= 0.3
    assert reply.remaining == 2  # the server's end of each held connection, and nothing else
    listed = _nft_table(amp.ns, amp.table)
    assert listed is not None and f"ip daddr {amp.vip} " in listed, listed

    assert _refused_at_syn(amp, amp.vip, amp.address)
    assert _refused_at_syn(amp, amp.vip6, amp.address6)
    listed = _nft_table(amp.ns, amp.table) or ""
    assert "counter packets 0 " not in listed, listed  # both rules dropped the SYNs
    assert _echoes(held) and _echoes(held6)  # connections under way go on
    amp.connect(amp.address, amp.address).close()  # an address not drained still serves
    amp.connect(amp.address6, amp.address6).close()

    # A second Drain replaces the first (here: the same addresses) and returns once the
    # connections have ended.
    future = amp.client.Drain.future(
        pb.DrainRequest(addresses=[amp.vip, amp.vip6], timeout_ms=20_000), timeout=30
    )
    time.sleep(0.5)
    assert not future.done()
    held.close()
    held6.close()
    closed = time.monotonic()
    assert future.result().remaining == 0
    assert time.monotonic() - closed < 15  # because they ended: the timeout is 20 s
    assert _refused_at_syn(amp, amp.vip, amp.address)  # still draining

    assert amp.drain([], timeout_ms=5000).remaining == 0  # lift, at once
    assert _nft_table(amp.ns, amp.table) is None
    assert _echoes(amp.connect(amp.vip, amp.address))
    assert _echoes(amp.connect(amp.vip6, amp.address6))
    assert amp.drain([], timeout_ms=0).remaining == 0  # lifting again is no error

    # An abandoned drain lifts by itself.
    amp.drain([amp.vip], timeout_ms=0, hold_ms=3000)
    set_at = time.monotonic()
    assert _refused_at_syn(amp, amp.vip, amp.address)
    wait_for(lambda: _nft_table(amp.ns, amp.table) is None, 30, "the hold to lift the drain")
    assert time.monotonic() - set_at > 2.9
    assert _echoes(amp.connect(amp.vip, amp.address))


def test_bad_addresses_are_refused(amphora: Amphora) -> None:
    for bad in ("10.0.0.1/32", "vip", "fe80::1%eth0"):
        with pytest.raises(grpc.RpcError) as caught:
            amphora.drain([amphora.vip, bad], timeout_ms=0)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _nft_table(amphora.ns, amphora.table) is None


def test_the_agent_lifts_the_drain_when_it_stops_and_after_a_crash(amphora: Amphora) -> None:
    amp = amphora
    amp.drain([amp.vip], timeout_ms=0, hold_ms=600_000)
    assert amp.stop_agent(signal.SIGKILL) == -signal.SIGKILL
    assert _nft_table(amp.ns, amp.table) is not None  # a crashed agent leaves it behind
    assert _refused_at_syn(amp, amp.vip, amp.address)
    amp.start_agent()
    assert _nft_table(amp.ns, amp.table) is None  # gone before the agent serves
    assert _echoes(amp.connect(amp.vip, amp.address))

    amp.drain([amp.vip], timeout_ms=0, hold_ms=600_000)
    assert _nft_table(amp.ns, amp.table) is not None
    assert amp.stop_agent(signal.SIGTERM) == 0
    assert _nft_table(amp.ns, amp.table) is None
    assert _echoes(amp.connect(amp.vip, amp.address))
