"""Fixtures for the amphora agent integration tests: a throwaway PKI, the agent as a real
process, tiny HTTP backends and haproxy configs shaped like the renderer's."""

from __future__ import annotations

import datetime
import http.server
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.amphora.v1 import amphora_service_pb2_grpc as pb_grpc

from amphora_agent.confighash import config_hash

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PYTHON = sys.executable
LISTENER_ID = "1c0ffee0-0000-4000-8000-000000000001"
POOL_ID = "1c0ffee0-0000-4000-8000-000000000002"
MEMBER_IDS = ("1c0ffee0-0000-4000-8000-0000000000a1", "1c0ffee0-0000-4000-8000-0000000000a2")
CONFLICT_LISTENER_ID = "1c0ffee0-0000-4000-8000-000000000003"
HEARTBEAT_KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)


# -- PKI ------------------------------------------------------------------------------------


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue(ca, cn: str, *, server: bool) -> tuple[bytes, bytes]:
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return _pem_key(key), cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Pki:
    ca_pem: bytes
    server: tuple[bytes, bytes]
    controller: tuple[bytes, bytes]
    stranger: tuple[bytes, bytes]  # right CA, wrong CN
    foreign: tuple[bytes, bytes]  # CN lbaas-controller, other CA


@pytest.fixture(scope="session")
def amphora_id() -> str:
    return f"a0a0a0a0-0000-4000-8000-{random.getrandbits(48):012x}"


@pytest.fixture(scope="session")
def pki(amphora_id) -> Pki:
    ca, other = make_ca("test amphora CA"), make_ca("some other CA")
    return Pki(
        ca_pem=ca[1].public_bytes(serialization.Encoding.PEM),
        server=issue(ca, amphora_id, server=True),
        controller=issue(ca, "lbaas-controller", server=False),
        stranger=issue(ca, "not-the-controller", server=False),
        foreign=issue(other, "lbaas-controller", server=False),
    )


def channel(port: int, pki: Pki, amphora_id: str, client=None) -> grpc.Channel:
    if client is None:
        creds = grpc.ssl_channel_credentials(root_certificates=pki.ca_pem)
    else:
        creds = grpc.ssl_channel_credentials(pki.ca_pem, client[0], client[1])
    options = [("grpc.ssl_target_name_override", amphora_id)]
    return grpc.secure_channel(f"127.0.0.1:{port}", creds, options=options)


# -- processes --------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Agent:
    """The agent as a subprocess on a runtime dir; port 0, read back from agent.port."""

    def __init__(
        self,
        base: str,
        pki: Pki,
        amphora_id: str,
        heartbeat_port: int,
        backend: str = "haproxy",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.base, self.pki, self.amphora_id = base, pki, amphora_id
        self.backend = backend
        self.extra_args = tuple(extra_args)  # more agent flags, e.g. --no-runtime-plans
        self.run_dir = os.path.join(base, "amp")
        self.heartbeat_port = heartbeat_port
        self.proc: subprocess.Popen | None = None
        self.port = 0
        files = {"agent.crt": pki.server[1], "agent.key": pki.server[0], "ca.crt": pki.ca_pem}
        for name, data in files.items():
            with open(os.path.join(base, name), "wb") as fh:
                fh.write(data)
        with open(os.path.join(base, "heartbeat.keys"), "w") as fh:
            fh.write(f"k1 {HEARTBEAT_KEY.hex()}\nk0 {'ff' * 32}\n")

    def start(self) -> None:
        port_file = os.path.join(self.run_dir, "agent.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        argv = [PYTHON, "-m", "amphora_agent", "--amphora-id", self.amphora_id,
                "--listen", "127.0.0.1:0",
                "--tls-cert", os.path.join(self.base, "agent.crt"),
                "--tls-key", os.path.join(self.base, "agent.key"),
                "--client-ca", os.path.join(self.base, "ca.crt"),
                "--runtime-dir", self.run_dir,
                "--heartbeat-target", f"127.0.0.1:{self.heartbeat_port}",
                "--heartbeat-key-file", os.path.join(self.base, "heartbeat.keys"),
                "--heartbeat-interval", "0.2",
                "--backend", self.backend, *self.extra_args]  # fmt: skip
        with open(os.path.join(self.base, "agent.log"), "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=log)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"agent exited {self.proc.returncode}: {self.log()}")
            try:
                with open(port_file) as fh:
                    return int(fh.read())
            except (OSError, ValueError):
                return 0

        self.port = wait_for(ready, 30, "the agent to listen")

    def log(self) -> str:
        with open(os.path.join(self.base, "agent.log"), errors="replace") as fh:
            return fh.read()[-4000:]

    def haproxy_pids(self) -> list[int]:
        """The master (from haproxy.pid, or nginx.pid for nginx) and its children."""
        try:
            pid_file = "nginx.pid" if self.backend == "nginx" else "haproxy.pid"
            master = int(open(os.path.join(self.run_dir, pid_file)).read().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        pids = [master]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == master:
                    pids.append(int(entry))
        return [pid for pid in pids if pid_alive(pid)]

    def stop(self, sig=signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self) -> None:
        haproxy = self.haproxy_pids()
        self.stop()
        for pid in haproxy:  # our own haproxy, should the agent have left it behind
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)

    def client(self, which=None):
        cert = self.pki.controller if which is None else which
        return channel(self.port, self.pki, self.amphora_id, cert)


@pytest.fixture
def workdir():
    path = tempfile.mkdtemp(prefix="amp-agent-")
    try:
        yield path
    finally:
        if not os.environ.get("AMPHORA_AGENT_KEEP_TMP"):  # set it to debug a failure
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def heartbeat_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture
def make_agent(workdir, pki, amphora_id, heartbeat_socket):
    agents: list[Agent] = []

    def make(backend: str = "haproxy", extra_args: tuple[str, ...] = ()) -> Agent:
        port = heartbeat_socket.getsockname()[1]
        agent = Agent(workdir, pki, amphora_id, port, backend, extra_args)
        agents.append(agent)
        return agent

    try:
        yield make
    finally:
        for agent in agents:
            agent.cleanup()


@pytest.fixture
def agent(make_agent) -> Agent:
    started = make_agent()
    started.start()
    return started


# -- backends and configs ---------------------------------------------------------------------


class Backend:
    def __init__(self, name: str) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.name = name
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.stopped = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def backends():
    started = [Backend("backend-a"), Backend("backend-b")]
    try:
        yield started
    finally:
        for backend in started:
            backend.stop()


def free_vip() -> tuple[str, int]:
    """A 127.10.x.y address and a port free on it right now."""
    address = f"127.10.{random.randint(1, 254)}.{random.randint(1, 254)}"
    with socket.socket() as probe:
        probe.bind((address, 0))
        return address, probe.getsockname()[1]


def render(
    run_dir: str, vip: tuple[str, int], backends, *, extra_frontend: str = "", marker: str = ""
) -> str:
    servers = "\n".join(
        f"    server {member} 127.0.0.1:{backend.port} check inter 200ms fall 2 rise 2"
        for member, backend in zip(MEMBER_IDS, backends, strict=True)
    )
    return f"""# {marker}
global
    stats socket {run_dir}/haproxy.sock mode 600 level admin expose-fd listeners
    server-state-file {run_dir}/servers.state
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global

frontend {LISTENER_ID}
    bind {vip[0]}:{vip[1]}
    default_backend {POOL_ID}
{extra_frontend}
backend {POOL_ID}
    balance roundrobin
{servers}

frontend lbaas-internal
    bind unix@{run_dir}/internal.sock
    http-request return status 200
"""


def apply_request(cfg: str, *, extra: dict[str, bytes] | None = None, version: str = "test-1"):
    files = {"haproxy.cfg": cfg.encode(), **(extra or {})}
    digest = config_hash(files.items())
    return pb.ApplyConfigRequest(
        files=[pb.ConfigFile(path=p, content=c, mode=0o640) for p, c in files.items()],
        config_hash=digest,
        renderer_version=version,
    )


def stub(chan) -> pb_grpc.AmphoraAgentServiceStub:
    return pb_grpc.AmphoraAgentServiceStub(chan)


def fetch(vip: tuple[str, int], timeout: float = 5.0) -> str:
    with socket.create_connection(vip, timeout=timeout) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not (head.startswith(b"HTTP/1.") and head[8:13] == b" 200 "):
        raise AssertionError(f"bad answer: {head[:80]!r}")
    return body.decode()
