"""TLS configs rendered for a real haproxy: SNI certificate choice, mandatory client
certificates (with a CRL), HSTS, X-SSL-* headers, SSL_DN_FIELD routing, HTTP->HTTPS redirect and
re-encryption to a TLS backend that verifies haproxy's client certificate, as the agent lays the
files out (conf -> configs/<version>/, haproxy's working directory on the runtime dir)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lbaas.common.v1 import graph_pb2

from amphora_agent import privileges
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from tests.support.backends import free_port
from tests.support.haproxy_socket import stop_masters
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer import tls_samples as ts

HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(
    HAPROXY is None or OPENSSL is None, reason="haproxy or openssl is not installed"
)


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # health checks and refused handshakes close connections abruptly


def _echo_server(name: str, tls: ssl.SSLContext | None = None) -> _Quiet:
    """Answers every request with its name and the request headers as JSON."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps({"name": name, "headers": dict(self.headers)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = _Quiet(("127.0.0.1", 0), Handler)
    if tls is not None:
        # The handshake happens in the handler thread, not in accept().
        server.socket = tls.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Site:
    https: int
    http: int
    files: Path  # client certificates for the tests' own clients
    runtime: Path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _graph(https: int, http_port: int, web: int, admin: int) -> graph_pb2.LoadBalancer:
    """terminated_lb, its default pool re-encrypting (verified, with a client certificate and
    an HTTPS monitor) to the TLS backend."""
    lb = ts.terminated_lb(
        https_port=https,
        http_port=http_port,
        web=[("127.0.0.1", web)],
        admin=[("127.0.0.1", admin)],
        redirect_to="https://www.example.test",
    )
    pool = next(p for p in lb.pools if p.meta.id == ts.WEB_POOL_ID)
    pool.tls_enabled = True
    pool.tls_container_ref = ts.BACKEND_CLIENT_REF
    pool.ca_tls_container_ref = ts.BACKEND_CA_REF
    pool.crl_container_ref = ts.BACKEND_CRL_REF
    pool.tls_versions[:] = ["TLSv1.2", "TLSv1.3"]
    pool.alpn_protocols[:] = ["http/1.1"]
    pool.healthmonitor.CopyFrom(
        graph_pb2.HealthMonitor(
            meta=samples.meta(ts.HM_IDS[3]), type="HTTPS", delay=1, timeout=1, max_retries=1,
            url_path="/health", expected_codes="200",
        )
    )  # fmt: skip
    return lb


def _wait_port(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"haproxy exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    p = ts.pki()
    root = Path(tempfile.mkdtemp(prefix="lbaas-tls-", dir="/tmp"))
    servers: list[_Quiet] = []
    proc: subprocess.Popen | None = None
    try:
        files = root / "client"
        files.mkdir()
        backend_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        backend_tls.load_cert_chain(
            _write(files / "backend.crt", p.backend_server.cert_pem),
            _write(files / "backend.key", p.backend_server.key_pem),
        )
        # The backend demands haproxy's client certificate: `crt` on the server line works.
        backend_tls.verify_mode = ssl.CERT_REQUIRED
        backend_tls.load_verify_locations(cadata=p.backend_ca.cert_pem.decode())
        web = _echo_server("tls-backend", backend_tls)
        admin = _echo_server("admin")
        servers += [web, admin]
        for name, issued in (("client", p.client), ("other", p.other_client),
                             ("revoked", p.revoked_client)):  # fmt: skip
            _write(files / f"{name}.crt", issued.cert_pem)
            _write(files / f"{name}.key", issued.key_pem)
        _write(files / "server-ca.crt", p.server_ca.cert_pem)

        https, http_port = free_port(), free_port()
        runtime = root / "run"
        runtime.mkdir()
        rendering = HaproxyRenderer().render(
            _graph(https, http_port, web.server_address[1], admin.server_address[1]),
            samples.target(runtime_dir=str(runtime), vip_address="127.0.0.1"),
            ts.materials(),
        )
        # As the agent applies a config: a versioned directory and a conf link to it.
        version = runtime / "configs" / "v1"
        for item in rendering.files:
            path = version / item.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(item.content)
            path.chmod(item.mode)
        (runtime / "conf").symlink_to(Path("configs") / "v1")
        privileges.ensure_chroot(str(runtime / privileges.CHROOT_DIR))  # as the agent does
        proc = subprocess.Popen(
            [HAPROXY, "-W", "-S", f"{runtime}/master.sock", "-f", "conf/haproxy.cfg",
             "-p", f"{runtime}/haproxy.pid"],
            cwd=runtime, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        _wait_port(https, proc, deadline)
        _wait_port(http_port, proc, deadline)
        site = Site(https=https, http=http_port, files=files, runtime=runtime)
        _wait_until_backend_up(site, deadline)
        yield site
    finally:
        if proc is not None:
            stop_masters([proc])
            if proc.stdout:
                proc.stdout.close()
        for server in servers:
            server.shutdown()
            server.server_close()
        shutil.rmtree(root, ignore_errors=True)


def _client_context(site: Site, cert: str | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(site.files / "server-ca.crt"))
    if cert:
        ctx.load_cert_chain(str(site.files / f"{cert}.crt"), str(site.files / f"{cert}.key"))
    return ctx


def _get(site: Site, cert: str | None, path: str = "/") -> http.client.HTTPResponse:
    conn = http.client.HTTPSConnection(
        "127.0.0.1", site.https, context=_client_context(site, cert), timeout=10
    )
    conn.request("GET", path)
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


def _wait_until_backend_up(site: Site, deadline: float) -> None:
    """The re-encrypting pool's HTTPS monitor must mark the member up before traffic flows."""
    while True:
        try:
            if _get(site, "other").status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the TLS backend never came up behind haproxy")
        time.sleep(0.2)


def _served_subject(site: Site, servername: str | None) -> str:
    args = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{site.https}",
            "-cert", str(site.files / "client.crt"), "-key", str(site.files / "client.key")]  # fmt: skip
    args += ["-servername", servername] if servername else ["-noservername"]
    result = subprocess.run(args, input="", capture_output=True, text=True, timeout=15, check=False)
    subjects = [line for line in result.stdout.splitlines() if line.startswith("subject=")]
    assert subjects, result.stdout + result.stderr
    return subjects[0].split("CN", 1)[1].strip(" =")


@pytest.mark.parametrize(
    ("servername", "cn"),
    [
        ("a.example.test", "a.example.test"),
        ("www.a.example.test", "a.example.test"),
        ("b.example.test", "b.example.test"),
        ("x.b.example.test", "b.example.test"),  # wildcard SAN
        ("unknown.example.test", ts.DEFAULT_NAME),
        (None, ts.DEFAULT_NAME),
    ],
)
def test_sni_chooses_the_certificate(site: Site, servername: str | None, cn: str) -> None:
    assert _served_subject(site, servername) == cn


def test_mandatory_client_authentication(site: Site) -> None:
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        _get(site, None)
    # Revoked by the listener's CRL.
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        _get(site, "revoked")
    assert _get(site, "other").status == 200


def test_reencryption_headers_and_hsts(site: Site) -> None:
    response = _get(site, "other")
    body = json.loads(response.body)  # type: ignore[attr-defined]
    # Reached the TLS backend, which verified haproxy's client certificate; haproxy verified
    # the backend's against the pool CA.
    assert body["name"] == "tls-backend"
    headers = {k.lower(): v for k, v in body["headers"].items()}
    assert headers["x-ssl-client-cn"] == "user-client", headers
    assert headers["x-ssl-client-verify"] == "0"
    assert headers["x-ssl-client-has-cert"] == "1"
    assert headers["x-ssl-issuer"] == "/CN=Sample Client CA"
    assert headers["x-forwarded-proto"] == "https"
    assert response.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload"
    )


def test_ssl_dn_field_rule_routes(site: Site) -> None:
    body = json.loads(_get(site, "client").body)  # type: ignore[attr-defined]
    assert body["name"] == "admin"  # CN admin-client
    body = json.loads(_get(site, "other").body)  # type: ignore[attr-defined]
    assert body["name"] == "tls-backend"


def test_alpn_offers_h2(site: Site) -> None:
    result = subprocess.run(
        [OPENSSL, "s_client", "-connect", f"127.0.0.1:{site.https}", "-alpn", "h2",
         "-cert", str(site.files / "client.crt"), "-key", str(site.files / "client.key")],
        input="", capture_output=True, text=True, timeout=15, check=False,
    )  # fmt: skip
    assert "ALPN protocol: h2" in result.stdout, result.stdout


def test_http_redirects_to_https(site: Site) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.http, timeout=10)
    conn.request("GET", "/some/path?q=1")
    response = conn.getresponse()
    conn.close()
    assert response.status == 301
    assert response.getheader("Location") == "https://www.example.test/some/path?q=1"


def test_workers_serve_tls_unprivileged_in_an_empty_chroot(site: Site) -> None:
    """The master read the keys (root, 0600) at start; the workers that terminate TLS run as
    haproxy, chrooted into the runtime dir's empty chroot/, and still serve (the tests above)."""
    assert _get(site, "other").status == 200
    master = int((site.runtime / "haproxy.pid").read_text().split()[0])
    workers = [
        int(pid)
        for pid in os.listdir("/proc")
        if pid.isdigit() and _status(int(pid)).get("PPid") == str(master)
    ]
    assert workers
    assert _status(master)["Uid"].split() == ["0"] * 4  # the master stays root
    chroot = site.runtime / privileges.CHROOT_DIR
    for pid in workers:
        status = _status(pid)
        assert "0" not in status["Uid"].split() and "0" not in status["Gid"].split(), status
        assert os.readlink(f"/proc/{pid}/root") == str(chroot)
    assert list(chroot.iterdir()) == []
    keys = [p for p in (site.runtime / "conf" / "certs").iterdir() if p.suffix == ".pem"]
    assert keys and all(p.stat().st_uid == 0 for p in keys)


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:
        return {}
