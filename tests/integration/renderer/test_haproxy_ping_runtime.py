"""PING monitors against the real haproxy and the real ping: the wrapper script's command line,
a member marked UP through the agent's own apply path (staging, `haproxy -c`, conf symlink,
master-worker start), and, inside a network namespace this test creates, a member whose address
does not answer marked DOWN while IPv4 and IPv6 loopback members stay UP.

Network traffic stays on 127.0.0.0/8 of this host or inside the test's own namespace."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lbaas.common.v1 import graph_pb2

from amphora_agent.applier import Applier, ConfigFile, Result
from amphora_agent.haproxy import Haproxy
from services.renderer.backends.haproxy import ping
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.domain.ports import Rendering
from tests.support.backends import free_port
from tests.unit.renderer import ping_samples as ps
from tests.unit.renderer import renderer_samples as samples

HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
PING = shutil.which("ping", path="/usr/sbin:/usr/bin:/sbin:/bin")
IS_ROOT = os.geteuid() == 0
pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(HAPROXY is None or PING is None, reason="haproxy or ping is missing"),
]


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lbaas-png-", dir="/tmp"))  # short: unix socket paths
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, **kw)


# -- the script's command line -------------------------------------------------------------------

FAKE_PING = """#!/bin/sh
printf '%s\\n' "$@" > "{log}"
exit 0
"""


def _unshare_works() -> bool:
    return IS_ROOT and shutil.which("unshare") is not None and _run(
        ["unshare", "--mount", "--propagation", "private", "true"]
    ).returncode == 0  # fmt: skip


@pytest.mark.skipif(not _unshare_works(), reason="needs root and unshare --mount")
def test_script_runs_ping_with_the_family_and_timeout_and_refuses_bad_input(
    runtime_dir: Path,
) -> None:
    """The real script, with a recording stand-in bind-mounted over the ping binary inside a
    private mount namespace (nothing is sent anywhere, the host's ping is untouched)."""
    script = runtime_dir / "ping-wrapper-3s.sh"
    script.write_bytes(ping.SCRIPT)
    script.chmod(ping.SCRIPT_MODE)
    log = runtime_dir / "argv"
    fake = runtime_dir / "fake-ping"
    fake.write_text(FAKE_PING.format(log=log))
    fake.chmod(0o755)
    real = os.path.realpath(PING)

    def check(addr_env: str | None, argv3: str, stand_in: Path = fake) -> tuple[int, list[str]]:
        log.unlink(missing_ok=True)
        env = {"HAPROXY_SERVER_ADDR": addr_env} if addr_env is not None else {}
        inner = 'mount --bind "$1" "$2" && exec "$3" NOT_USED NOT_USED "$4" 80'
        result = _run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "sh",
             str(stand_in), real, str(script), argv3],
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env},
        )  # fmt: skip
        return result.returncode, log.read_text().split() if log.exists() else []

    assert check("127.0.0.9", "127.0.0.9") == (0, ["-n", "-q", "-c", "1", "-W", "3", "-4",
                                                   "--", "127.0.0.9"])  # fmt: skip
    assert check("2001:db8::11", "2001:db8::11") == (
        0, ["-n", "-q", "-c", "1", "-W", "3", "-6", "--", "2001:db8::11"]
    )  # fmt: skip
    # No HAPROXY_SERVER_ADDR: the third argument (haproxy passes both).
    assert check(None, "::ffff:192.0.2.1")[1][-3:] == ["-6", "--", "::ffff:192.0.2.1"]
    for bad in ("-f", "localhost", "127.0.0.1;reboot", "1.2.3", "1.2.3.4.5", "256.1.1.1",
                "01.2.3.4", "1..2.3", "fe80::1%eth0", "::1 -f", "$(id)", ""):  # fmt: skip
        code, argv = check(bad, bad)
        assert code != 0 and argv == [], bad
    # A ping that is not executable is "missing": the check fails, nothing runs.
    not_exec = runtime_dir / "not-exec"
    not_exec.write_text(FAKE_PING.format(log=log))
    not_exec.chmod(0o644)
    assert check("127.0.0.9", "127.0.0.9", stand_in=not_exec) == (4, [])
    # The timeout comes from the file name only.
    for name in ("ping-wrapper-0s.sh", "ping-wrapper-s.sh", "ping-wrapper-86401s.sh",
                 "ping-wrapper-1x.sh", "other.sh"):  # fmt: skip
        renamed = script.rename(runtime_dir / name)
        result = _run([str(renamed), "NOT_USED", "NOT_USED", "127.0.0.9", "80"], env={})
        assert result.returncode == 3, name
        script = renamed.rename(runtime_dir / "ping-wrapper-3s.sh")


def test_script_pings_loopback_for_real(runtime_dir: Path) -> None:
    script = runtime_dir / "ping-wrapper-1s.sh"
    script.write_bytes(ping.SCRIPT)
    script.chmod(ping.SCRIPT_MODE)
    result = _run([str(script), "NOT_USED", "NOT_USED", "127.0.0.1", "80"], env={})
    assert result.returncode == 0, result


# -- haproxy, as the agent runs it ---------------------------------------------------------------


def _lb(addresses: list[str], port: int) -> graph_pb2.LoadBalancer:
    """The TCP listener of the PING sample, one pool whose members have these addresses,
    checked every second with a 1 s timeout; one result moves a member either way."""
    lb = ps.ping_lb()
    del lb.listeners[0]
    lb.listeners[0].protocol_port = port
    pool = next(p for p in lb.pools if p.meta.id == ps.DB_POOL_ID)
    del lb.pools[:]
    pool.healthmonitor.CopyFrom(ps.ping_monitor(ps.HM_IDS[1], delay=1, timeout=1))
    pool.healthmonitor.max_retries = pool.healthmonitor.max_retries_down = 1
    del pool.members[:]
    for index, address in enumerate(addresses):
        pool.members.append(ps.member(index, address, 9))
    lb.pools.append(pool)
    return lb


def _render(lb: graph_pb2.LoadBalancer, runtime_dir: Path, vip: str) -> Rendering:
    return HaproxyRenderer().render(
        lb, samples.target(runtime_dir=str(runtime_dir), vip_address=vip)
    )


def _servers(sock_path: Path) -> dict[str, dict[str, str]]:
    """`show stat` rows of the PING pool's servers, by member id, as {column: value}."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(str(sock_path))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {
        r["svname"]: r
        for r in rows
        if r["pxname"] == ps.DB_POOL_ID and r["svname"] in ps.MEMBER_IDS
    }


def _wait_for(sock_path: Path, want: dict[str, tuple[str, set[str]]], timeout: float = 30) -> None:
    """Until every member has the status and one of the check results; else the last table."""
    deadline = time.monotonic() + timeout
    seen: dict[str, tuple[str, str]] = {}
    while time.monotonic() < deadline:
        try:
            rows = _servers(sock_path)
        except OSError:
            rows = {}
        seen = {m: (r["status"], r["check_status"]) for m, r in rows.items()}
        if all(m in seen and seen[m][0] == s and seen[m][1] in c for m, (s, c) in want.items()):
            return
        time.sleep(0.2)
    raise AssertionError(f"wanted {want}, haproxy reports {seen}")


def test_agent_applies_a_ping_config_and_a_loopback_member_is_up(runtime_dir: Path) -> None:
    """The agent's Applier stages the files, runs `haproxy -c` in its validate layout, points
    conf/ at the version and starts haproxy in the runtime dir: the check runs
    conf/ping-wrapper-1s.sh from there and passes (PROCOK, not merely the initial UP)."""
    rendering = _render(_lb(["127.0.0.1", "127.0.0.2"], free_port()), runtime_dir, "127.0.0.1")
    process = Haproxy(HAPROXY, str(runtime_dir))
    applier = Applier(str(runtime_dir), process)
    files = [ConfigFile(f.path, f.content, f.mode) for f in rendering.files]

    async def scenario() -> None:
        try:
            outcome = await applier.apply(files, rendering.config_hash, rendering.renderer_version)
            assert outcome.result == Result.APPLIED, outcome.detail
            script = runtime_dir / "conf" / "ping-wrapper-1s.sh"
            assert script.read_bytes() == ping.SCRIPT
            assert script.stat().st_mode & 0o777 == 0o755
            await asyncio.to_thread(
                _wait_for,
                runtime_dir / "haproxy.sock",
                {ps.MEMBER_IDS[0]: ("UP", {"PROCOK"}), ps.MEMBER_IDS[1]: ("UP", {"PROCOK"})},
            )
        finally:
            await process.stop()

    asyncio.run(scenario())


# -- UP and DOWN inside a network namespace ------------------------------------------------------

# A neighbour on lbp0's network whose veth peer (lbp1) is down and has no address: nobody answers
# its ARP. (An address put on lbp1 itself would still answer: it stays local while lbp1 is down.)
UNREACHABLE = "192.0.2.2"


def _netns_works() -> bool:
    return (
        IS_ROOT and shutil.which("ip") is not None and _run(["ip", "netns", "list"]).returncode == 0
    )


@pytest.fixture
def netns() -> Iterator[str]:
    if not _netns_works():
        pytest.skip("needs root and `ip netns`: the DOWN half was not run")
    name = f"lbaas-ping-{uuid.uuid4().hex[:8]}"
    created = _run(["ip", "netns", "add", name])
    if created.returncode != 0:
        pytest.skip(f"ip netns add failed: {created.stderr.strip()}")
    try:
        for argv in (
            ["link", "set", "lo", "up"],
            ["link", "add", "lbp0", "type", "veth", "peer", "name", "lbp1"],
            ["addr", "add", "192.0.2.1/24", "dev", "lbp0"],
            ["link", "set", "lbp0", "up"],
            ["link", "set", "lbp1", "down"],
        ):
            done = _run(["ip", "-n", name, *argv])
            if done.returncode != 0:
                pytest.skip(f"ip -n {name} {' '.join(argv)}: {done.stderr.strip()}")
        yield name
    finally:
        _run(["ip", "netns", "del", name])


def _ipv6_loopback(ns: str) -> bool:
    return "::1" in _run(["ip", "-n", ns, "-6", "addr", "show", "dev", "lo"]).stdout


def test_in_a_namespace_an_unanswered_member_is_down_and_loopbacks_are_up(
    runtime_dir: Path, netns: str
) -> None:
    # Nothing in the namespace answers for UNREACHABLE; the ping stand-alone agrees.
    probe = _run(["ip", "netns", "exec", netns, PING, "-n", "-c", "1", "-W", "1", UNREACHABLE])
    assert probe.returncode != 0, probe.stdout
    addresses = ["127.0.0.1", UNREACHABLE] + (["::1"] if _ipv6_loopback(netns) else [])
    rendering = _render(_lb(addresses, 8080), runtime_dir, "127.0.0.1")
    # The agent's layout: files under configs/<version>/, conf -> it, cwd on the runtime dir.
    version = runtime_dir / "configs" / "v1"
    for item in rendering.files:
        path = version / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.content)
        path.chmod(item.mode)
    (runtime_dir / "conf").symlink_to("configs/v1")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, HAPROXY, "-W", "-S", f"{runtime_dir}/master.sock",
         "-f", "conf/haproxy.cfg", "-p", f"{runtime_dir}/haproxy.pid"],
        cwd=runtime_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        # ping -W 1 and haproxy's 1 s deadline race: the check fails either way (PROCERR: ping
        # exited non-zero; PROCTOUT: haproxy killed it).
        want = {ps.MEMBER_IDS[0]: ("UP", {"PROCOK"}),
                ps.MEMBER_IDS[1]: ("DOWN", {"PROCERR", "PROCTOUT"})}  # fmt: skip
        if len(addresses) == 3:
            want[ps.MEMBER_IDS[2]] = ("UP", {"PROCOK"})  # ping -6 ::1 inside the namespace
        _wait_for(runtime_dir / "haproxy.sock", want)
        assert proc.poll() is None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
