"""ACTIVE_STANDBY renderings against the real tools: `keepalived -t`, `haproxy -c` with peers, and
the check script against a real haproxy master started the way the agent starts it."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from amphora_agent import privileges
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from tests.unit.renderer import renderer_samples as samples
from tests.unit.renderer.golden_cases import CASES
from tests.unit.renderer.test_haproxy_vrrp import V6, half, vrrp

HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
KEEPALIVED = shutil.which("keepalived") or (
    "/usr/sbin/keepalived" if Path("/usr/sbin/keepalived").exists() else None
)
# keepalived -t refuses an interface this host does not have, and VRRP on loopback.
INTERFACE = next((name for _, name in socket.if_nameindex() if name != "lo"), None)


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lbaas-vrrp-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _lay_out(rendering, runtime_dir: Path) -> Path:
    """The agent's layout: files under conf/, the tools started from the runtime dir."""
    conf = runtime_dir / "conf"
    conf.mkdir()
    for item in rendering.files:
        path = conf / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.content)
        path.chmod(item.mode)
    return conf


def _half_for(lb, **overrides):
    v6 = ipaddress.ip_address(lb.vip.address).version == 6
    return vrrp(**{**(V6 if v6 else {}), "interface": INTERFACE or "eth0", **overrides})


@pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")
@pytest.mark.parametrize("name", sorted(CASES))
def test_haproxy_accepts_peers(name: str, runtime_dir: Path) -> None:
    lb, materials = CASES[name]
    target = half(_half_for(lb()), runtime_dir=str(runtime_dir))
    conf = _lay_out(HaproxyRenderer().render(lb(), target, materials()), runtime_dir)
    result = subprocess.run(
        [HAPROXY, "-c", "-f", str(conf / "haproxy.cfg")],
        capture_output=True, text=True, timeout=30, cwd=runtime_dir,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[ALERT]" not in output, output
    warnings = [line for line in output.splitlines() if "[WARNING]" in line]
    assert all("server state file" in line for line in warnings), output


@pytest.mark.skipif(KEEPALIVED is None, reason="keepalived is not installed")
@pytest.mark.skipif(INTERFACE is None, reason="no interface besides lo to run VRRP on")
@pytest.mark.parametrize(
    ("name", "overrides"),
    [(n, {}) for n in sorted(CASES)]
    + [("full.cfg", {"role": "BACKUP", "priority": 1, "router_id": 255,
                     "advert_interval_ms": 40950}),
       ("full.cfg", {"advert_interval_ms": 10, "priority": 254})],
)  # fmt: skip
def test_keepalived_accepts_the_half(name: str, overrides: dict, runtime_dir: Path) -> None:
    lb, materials = CASES[name]
    target = half(_half_for(lb(), **overrides), runtime_dir=str(runtime_dir))
    conf = _lay_out(HaproxyRenderer().render(lb(), target, materials()), runtime_dir)
    result = subprocess.run(
        [KEEPALIVED, "-t", "-f", str(conf / "keepalived.conf")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""  # not even a warning


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _check(conf: Path) -> int:
    # As keepalived runs it (vrrp_script check_haproxy).
    return subprocess.run(["/bin/sh", str(conf / "check_haproxy.sh")], timeout=10).returncode


@pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")
def test_check_script_follows_the_agents_haproxy(runtime_dir: Path) -> None:
    target = half(
        vrrp(own_address="127.0.0.1", peer_address="127.0.0.2", vip_prefix_length=8,
             peers_port=_free_port()),
        runtime_dir=str(runtime_dir), vip_address="127.0.0.10",
    )  # fmt: skip
    conf = _lay_out(HaproxyRenderer().render(samples.empty_lb(), target), runtime_dir)
    assert _check(conf) == 1  # no haproxy yet
    (runtime_dir / "haproxy.pid").write_text(f"{os.getpid()}\n")
    assert _check(conf) == 1  # a live pid that is not this runtime dir's haproxy master
    privileges.ensure_chroot(str(runtime_dir / privileges.CHROOT_DIR))  # as the agent does
    proc = subprocess.Popen(
        [HAPROXY, "-W", "-S", f"{runtime_dir}/master.sock", "-f", str(conf / "haproxy.cfg"),
         "-p", f"{runtime_dir}/haproxy.pid"],
        cwd=runtime_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while _check(conf) != 0:
            assert proc.poll() is None, "haproxy exited"
            assert time.monotonic() < deadline, "the check never passed"
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert _check(conf) == 1  # the master is gone (its pid file stays behind)
