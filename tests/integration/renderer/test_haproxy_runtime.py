"""Rendered configs against the real haproxy: `haproxy -c`, and real starts under master-worker."""

from __future__ import annotations

import http.server
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from lbaas.renderer.v1 import renderer_service_pb2

from amphora_agent import privileges
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from tests.support.haproxy_socket import ask, stop_masters
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer.golden_cases import CASES

HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
GOLDEN = Path(__file__).parents[2] / "unit" / "renderer" / "golden"
pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    # Short path under /tmp: unix socket paths are limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="lbaas-rnd-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _check(cfg: Path, cwd: Path | None = None) -> None:
    result = subprocess.run(
        [HAPROXY, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30, cwd=cwd
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[ALERT]" not in output, output
    # The only acceptable warning: the server state file does not exist before the first reload.
    warnings = [line for line in output.splitlines() if "[WARNING]" in line]
    assert all("server state file" in line for line in warnings), output


@pytest.mark.parametrize("golden", sorted(p.name for p in GOLDEN.glob("*.cfg")))
def test_golden_config_passes_haproxy_check(golden: str, runtime_dir: Path) -> None:
    """The golden text, beside the companion files (certificates, crt-lists) its case renders,
    laid out as the agent does: files under conf/, haproxy's working directory above it."""
    lb, materials = CASES[golden]
    rendering = HaproxyRenderer().render(lb(), samples.target(), materials())
    conf = runtime_dir / "conf"
    conf.mkdir()
    for item in rendering.files[1:]:
        path = conf / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.content)
        path.chmod(item.mode)
    cfg = conf / "haproxy.cfg"
    cfg.write_text((GOLDEN / golden).read_text())
    _check(cfg, cwd=runtime_dir)


def test_goldens_exist() -> None:
    assert len(list(GOLDEN.glob("*.cfg"))) >= 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _render(lb, runtime_dir: Path) -> Path:
    rendering = HaproxyRenderer().render(
        lb, samples.target(runtime_dir=str(runtime_dir), vip_address="127.0.0.1")
    )
    cfg = runtime_dir / "haproxy.cfg"
    cfg.write_bytes(rendering.files[0].content)
    return cfg


@pytest.fixture
def start_haproxy(runtime_dir: Path) -> Iterator:
    """Starts haproxy the way the agent does; stops it (and its worker) even when a test fails."""
    procs: list[subprocess.Popen] = []

    def start(cfg: Path) -> subprocess.Popen:
        # As the agent prepares the runtime dir: the workers chroot into an empty directory.
        privileges.ensure_chroot(str(runtime_dir / privileges.CHROOT_DIR))
        proc = subprocess.Popen(
            [HAPROXY, "-W", "-S", f"{runtime_dir}/master.sock", "-f", str(cfg),
             "-p", f"{runtime_dir}/haproxy.pid"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        procs.append(proc)
        return proc

    yield start
    stop_masters(procs)
    for proc in procs:
        if proc.stdout:
            proc.stdout.close()


def _show_stat(sock_path: Path, deadline: float) -> list[list[str]]:
    data = ask(sock_path, "show stat", deadline)
    return [line.split(",") for line in data.splitlines() if line and line[0] != "#"]


def test_zero_listener_config_starts_and_stays_up(runtime_dir: Path, start_haproxy) -> None:
    proc = start_haproxy(_render(samples.empty_lb(), runtime_dir))
    rows = _show_stat(runtime_dir / "haproxy.sock", time.monotonic() + 10)
    assert [row[:2] for row in rows] == [["lbaas-internal", "FRONTEND"]]
    time.sleep(1.0)
    assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
    assert (runtime_dir / "internal.sock").exists()
    assert (runtime_dir / "haproxy.pid").read_text().strip().isdigit()


def test_full_config_starts_and_show_stat_uses_object_ids(runtime_dir: Path, start_haproxy) -> None:
    lb = samples.full_lb()
    for listener in lb.listeners:
        listener.protocol_port = _free_port()
    proc = start_haproxy(_render(lb, runtime_dir))
    rows = _show_stat(runtime_dir / "haproxy.sock", time.monotonic() + 10)
    names = {(row[0], row[1]) for row in rows}
    assert (samples.HTTP_LISTENER_ID, "FRONTEND") in names
    assert (samples.TCP_LISTENER_ID, "FRONTEND") in names
    for member_id in samples.MEMBER_IDS[:4]:
        assert (samples.HTTP_POOL_ID, member_id) in names
    for member_id in samples.MEMBER_IDS[4:]:
        assert (samples.TCP_POOL_ID, member_id) in names
    assert not any(samples.ORPHAN_POOL_ID in row[0] for row in rows)
    assert proc.poll() is None


def test_sized_config_passes_the_check_and_runs_with_its_size(
    runtime_dir: Path, start_haproxy
) -> None:
    """Target.size reaches the running haproxy: its threads and its global maxconn."""
    # With a global maxconn haproxy raises its file descriptor limit to about 2 x maxconn and
    # refuses to start when it cannot: stay within what this process may raise it to.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    maxconn = 5000 if hard == resource.RLIM_INFINITY else min(5000, (hard - 200) // 2)
    if maxconn < 100:
        pytest.skip(f"file descriptor hard limit {hard} is too low to start haproxy sized")
    # Without nbthread haproxy starts a thread per CPU: ask for a different number.
    threads = 1 if len(os.sched_getaffinity(0)) > 1 else 2
    lb = samples.full_lb()
    for listener in lb.listeners:
        listener.protocol_port = _free_port()
    target = samples.target(runtime_dir=str(runtime_dir), vip_address="127.0.0.1")
    target.size.CopyFrom(renderer_service_pb2.Size(threads=threads, max_connections=maxconn))
    cfg = runtime_dir / "haproxy.cfg"
    cfg.write_bytes(HaproxyRenderer().render(lb, target).files[0].content)
    assert f"    nbthread {threads}\n    maxconn {maxconn}\n" in cfg.read_text()
    _check(cfg)
    proc = start_haproxy(cfg)
    info = ask(runtime_dir / "haproxy.sock", "show info", time.monotonic() + 10)
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    assert fields["Nbthread"] == str(threads), info
    assert fields["Maxconn"] == str(maxconn), info
    assert proc.poll() is None


class _Named(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_backends() -> Iterator[dict[str, int]]:
    servers = {}
    for name in ("web", "api"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Named)
        server.name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    try:
        yield {name: server.server_address[1] for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def _get(url: str, deadline: float, **headers: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    while True:
        try:
            with opener.open(request, timeout=5) as reply:
                return reply.status, reply.read().decode(), reply.headers.get("Location", "")
        except urllib.error.HTTPError as err:
            return err.code, "", err.headers.get("Location", "")
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_l7_policies_route_reject_and_redirect(
    runtime_dir: Path, start_haproxy, http_backends: dict[str, int]
) -> None:
    lb = samples.l7_lb()
    listener = lb.listeners[0]
    listener.protocol_port = _free_port()
    listener.allowed_cidrs[:] = ["127.0.0.0/8"]
    pools = {p.meta.id: p for p in lb.pools}
    pools[samples.WEB_POOL_ID].members[1].meta.admin_state_up = False
    for pool_id, name in ((samples.WEB_POOL_ID, "web"), (samples.API_POOL_ID, "api")):
        for member in pools[pool_id].members:
            member.address, member.protocol_port = "127.0.0.1", http_backends[name]
    # Route /api/ by path alone (the sample also wants a *.example.com host).
    del listener.l7policies[0].rules[1]
    vip = "127.40.0.1"
    rendering = HaproxyRenderer().render(
        lb, samples.target(runtime_dir=str(runtime_dir), vip_address=vip)
    )
    cfg = runtime_dir / "haproxy.cfg"
    cfg.write_bytes(rendering.files[0].content)
    _check(cfg)
    proc = start_haproxy(cfg)
    base = f"http://{vip}:{listener.protocol_port}"
    deadline = time.monotonic() + 10
    assert _get(f"{base}/", deadline)[:2] == (200, "web")
    assert _get(f"{base}/api/v1", deadline)[:2] == (200, "api")
    assert _get(f"{base}/other/api/", deadline)[:2] == (200, "web")
    assert _get(f"{base}/admin/x.php", deadline)[0] == 403
    status, _, location = _get(f"{base}/x", deadline, Host="old.example.com")
    assert (status, location) == (301, "https://www.example.com/moved?from=old%20site")
    status, _, location = _get(f"{base}/a.gif?q=1", deadline, **{"User-Agent": "Mozilla/5.0"})
    assert (status, location) == (302, "https://secure.example.com/a.gif?q=1")
    assert proc.poll() is None
