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
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lbaas.common.v1 import graph_pb2

from amphora_agent import privileges
from amphora_agent.applier import Applier, ConfigFile, Result
from amphora_agent.haproxy import Haproxy
from services.renderer.backends.haproxy import ping
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.domain.ports import Rendering
from tests.support.backends import free_port
from tests.support.haproxy_socket import stop_masters
from tests.unit.renderer import ping_samples as ps
from tests.unit.renderer import renderer_samples as samples

HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
PING = shutil.which("ping", path="/usr/sbin:/usr/bin:/sbin:/bin")
IS_ROOT = os.geteuid() == 0
REPO = Path(__file__).parents[3]
AGENT_API, LEGACY_AGENT_API = "1.1", "1.0"
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


def _render(
    lb: graph_pb2.LoadBalancer, runtime_dir: Path, vip: str, workers: privileges.Workers | None
) -> Rendering:
    # An agent that could not prepare for unprivileged workers (not root) reports API 1.0.
    api = AGENT_API if workers is not None else LEGACY_AGENT_API
    return HaproxyRenderer().render(
        lb, samples.target(runtime_dir=str(runtime_dir), vip_address=vip, agent_api_version=api)
    )


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except OSError:  # gone meanwhile
        return {}


def _workers_of(runtime_dir: Path) -> list[int]:
    master = (runtime_dir / "haproxy.pid").read_text().split()[0]
    return [
        int(pid)
        for pid in os.listdir("/proc")
        if pid.isdigit() and _status(int(pid)).get("PPid") == master
    ]


def _assert_unprivileged_and_unchrooted(runtime_dir: Path, workers: privileges.Workers) -> None:
    """A PING config's workers run as haproxy without a chroot (the check execs a script and
    ping from the real root)."""
    pids = _workers_of(runtime_dir)
    assert pids
    for pid in pids:
        status = _status(pid)
        assert status["Uid"].split() == [str(workers.uid)] * 4, status
        assert status["Gid"].split() == [str(workers.gid)] * 4, status
        assert os.readlink(f"/proc/{pid}/root") == "/"


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
    conf/ping-wrapper-1s.sh from there and passes (PROCOK, not merely the initial UP). As root,
    prepared as the agent prepares (privileges.py), the workers and so the check and its ping
    run as haproxy, without privileges."""
    workers = privileges.prepare("haproxy", str(runtime_dir))
    lb = _lb(["127.0.0.1", "127.0.0.2"], free_port())
    rendering = _render(lb, runtime_dir, "127.0.0.1", workers)
    process = Haproxy(HAPROXY, str(runtime_dir), workers.chroot if workers else None)
    applier = Applier(str(runtime_dir), process, search_gid=workers.gid if workers else None)
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
            if workers is not None:
                assert b"\n    user haproxy\n" in rendering.files[0].content
                _assert_unprivileged_and_unchrooted(runtime_dir, workers)
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


def _ping_as(netns: str, user: str, address: str) -> subprocess.CompletedProcess:
    """ping inside the namespace as `user`, with no_new_privs as haproxy's workers have it: the
    binary's file capability (cap_net_raw) does not apply, only ping_group_range does."""
    return _run(["ip", "netns", "exec", netns, "setpriv", "--reuid", user, "--regid", user,
                 "--clear-groups", "--no-new-privs", "sh", "-c", '"$0" "$@"', PING, "-n", "-c",
                 "1", "-W", "1", address])  # fmt: skip


def _allow_ping_in(netns: str, gid: int) -> subprocess.CompletedProcess:
    """The agent's own allow_ping, run inside the namespace (as a netns agent runs)."""
    code = "import sys; from amphora_agent import privileges as p; "
    code += "sys.exit(0 if p.allow_ping(int(sys.argv[1])) else 1)"
    return _run(["ip", "netns", "exec", netns, sys.executable, "-c", code, str(gid)], cwd=REPO)


def test_in_a_namespace_an_unanswered_member_is_down_and_loopbacks_are_up(
    runtime_dir: Path, netns: str
) -> None:
    """haproxy's unprivileged workers ping inside a namespace once the agent's allow_ping has
    admitted their group there (each namespace starts with "1 0": nobody)."""
    # Nothing in the namespace answers for UNREACHABLE; the ping stand-alone agrees.
    probe = _run(["ip", "netns", "exec", netns, PING, "-n", "-c", "1", "-W", "1", UNREACHABLE])
    assert probe.returncode != 0, probe.stdout
    workers = privileges.prepare("haproxy", str(runtime_dir))
    assert workers is not None, "root with a haproxy user and group (make system-deps)"
    if shutil.which("setpriv"):
        refused = _ping_as(netns, workers.user, "127.0.0.1")
        assert refused.returncode != 0, "ping worked unprivileged before the range admitted it"
    allowed = _allow_ping_in(netns, workers.gid)
    assert allowed.returncode == 0, allowed.stderr
    if shutil.which("setpriv"):
        done = _ping_as(netns, workers.user, "127.0.0.1")
        assert done.returncode == 0, done.stdout + done.stderr
    addresses = ["127.0.0.1", UNREACHABLE] + (["::1"] if _ipv6_loopback(netns) else [])
    rendering = _render(_lb(addresses, 8080), runtime_dir, "127.0.0.1", workers)
    # The agent's layout: files under configs/<version>/, conf -> it, cwd on the runtime dir;
    # configs/ and the version searchable by the workers' group (they exec the script).
    version = runtime_dir / "configs" / "v1"
    for item in rendering.files:
        path = version / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.content)
        path.chmod(item.mode)
    for directory in (runtime_dir / "configs", version):
        privileges.grant_search(str(directory), workers.gid)
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
        _assert_unprivileged_and_unchrooted(runtime_dir, workers)
    finally:
        stop_masters([proc])
        if proc.stdout:
            proc.stdout.close()
