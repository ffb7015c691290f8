"""Runtime plans against the real haproxy: render config A, start haproxy under master-worker as
the agent does, render B with a member change, send the plan's commands over the stats socket as
the agent does (one connection, haproxy's interactive mode), then check `show servers state` against the plan's expected states, real HTTP traffic
through the frontend, and that the worker never changed (no reload).

Traffic stays on 127.0.0.0/8 of this host."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lbaas.common.v1 import graph_pb2, runtime_pb2

from amphora_agent import privileges, stats
from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from services.renderer.domain.ports import Rendering
from tests.support.backends import Backend, free_port
from tests.support.haproxy_socket import ask, stop_masters
from tests.unit.renderer import renderer_samples as samples

HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)
pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed"),
]

LISTENER_ID = "1a1a1a1a-0000-4000-8000-0000000000e1"
POOL_ID = "2b2b2b2b-0000-4000-8000-0000000000e1"
HM_ID = "4d4d4d4d-0000-4000-8000-0000000000e1"
MEMBER_IDS = {name: f"3c3c3c3c-0000-4000-8000-0000000000{i:02x}" for i, name in
              enumerate("abcd", start=0xE1)}  # fmt: skip
VIP = "127.0.0.1"
WAIT = 10.0  # seconds any poll may take
# What haproxy 2.6 answers on success: nothing, or one of these texts (an error is anything else,
# for example "No such server." or "'cookie' option is not accepted for dynamic server").
SUCCESS_PREFIXES = ("New server registered.", "Server deleted.", "IP changed from ",
                    "no need to change the addr, port changed from ")  # fmt: skip
# srv_admin_state bits that mean maintenance (SRV_ADMF_MAINT: forced, inherited, resolution).
MAINT_MASK = 0x23


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    # Short path under /tmp: unix socket paths are limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="lbaas-rtp-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def backends() -> Iterator[dict[str, Backend]]:
    started: dict[str, Backend] = {}
    try:
        for name in "abcd":
            started[name] = Backend(name).start()
        yield started
    finally:
        for backend in started.values():
            backend.stop()


@pytest.fixture
def haproxy(runtime_dir: Path) -> Iterator[Callable[[Rendering], subprocess.Popen]]:
    """Writes a rendering as the agent lays it out (files under conf/, haproxy's working
    directory above it) and starts haproxy under master-worker; stops it even when a test
    fails. Its output goes to a file: every server state change is a warning on stderr, and a
    pipe nobody reads blocks the worker once full (about 400 servers set ready)."""
    procs: list[subprocess.Popen] = []

    def start(rendering: Rendering) -> subprocess.Popen:
        _write(rendering, runtime_dir)
        privileges.ensure_chroot(str(runtime_dir / privileges.CHROOT_DIR))
        check = subprocess.run(
            [HAPROXY, "-c", "-f", "conf/haproxy.cfg"],
            capture_output=True, text=True, timeout=30, cwd=runtime_dir,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        with open(runtime_dir / "haproxy.log", "ab") as log:
            proc = subprocess.Popen(
                [HAPROXY, "-W", "-S", f"{runtime_dir}/master.sock", "-f", "conf/haproxy.cfg",
                 "-p", f"{runtime_dir}/haproxy.pid"],
                stdout=log, stderr=subprocess.STDOUT, cwd=runtime_dir,
            )  # fmt: skip
        procs.append(proc)
        return proc

    yield start
    stop_masters(procs)


def _write(rendering: Rendering, runtime_dir: Path) -> None:
    conf = runtime_dir / "conf"
    for item in rendering.files:
        path = conf / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.content)
        path.chmod(item.mode)


def _member(name: str, port: int, **fields) -> graph_pb2.Member:
    up = fields.pop("up", True)
    return graph_pb2.Member(
        meta=samples.meta(MEMBER_IDS[name], up=up),
        address="127.0.0.1",
        protocol_port=port,
        weight=fields.pop("weight", 1),
        **fields,
    )


def _lb(
    listener_port: int, members: list[graph_pb2.Member], **pool_fields
) -> graph_pb2.LoadBalancer:
    pool = graph_pb2.Pool(
        meta=samples.meta(POOL_ID),
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
        listener_ids=[LISTENER_ID],
        healthmonitor=graph_pb2.HealthMonitor(
            meta=samples.meta(HM_ID),
            type="HTTP",
            delay=1,
            timeout=1,
            max_retries=1,
            url_path="/",
            expected_codes="200",
        ),  # fmt: skip
        members=members,
        **pool_fields,
    )
    return graph_pb2.LoadBalancer(
        meta=samples.meta(samples.LB_ID),
        vip=graph_pb2.Vip(address=VIP),
        topology="SINGLE",
        listeners=[
            graph_pb2.Listener(
                meta=samples.meta(LISTENER_ID),
                protocol="HTTP",
                protocol_port=listener_port,
                connection_limit=-1,
                default_pool_id=POOL_ID,
            )
        ],  # fmt: skip
        pools=[pool],
    )


def _worker_pid(sock_path: Path) -> str:
    info = ask(sock_path, "show info", time.monotonic() + WAIT)
    return dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)["Pid"]


def _servers(sock_path: Path) -> dict[tuple[str, str], dict[str, str]]:
    lines = ask(sock_path, "show servers state", time.monotonic() + WAIT).splitlines()
    header = next(line for line in lines if line.startswith("# be_id"))[2:].split()
    rows = [dict(zip(header, line.split(), strict=True)) for line in lines
            if line and line[0].isdigit() and len(line.split()) == len(header)]  # fmt: skip
    return {(row["be_name"], row["srv_name"]): row for row in rows}


def _apply(sock_path: Path, plan: runtime_pb2.RuntimePlan) -> float:
    """Sends every command on one connection as the agent does (stats.runtime_commands); fails
    on any answer that is not a success. Returns the seconds it took."""
    started = time.perf_counter()
    commands = list(plan.commands)
    answers = asyncio.run(stats.runtime_commands(str(sock_path), commands, timeout=WAIT))
    assert len(answers) == len(commands)
    for command, answer in zip(commands, answers, strict=True):
        answer = answer.strip()
        assert answer == "" or answer.startswith(SUCCESS_PREFIXES), (command, answer)
    return time.perf_counter() - started


def _assert_expected(sock_path: Path, plan: runtime_pb2.RuntimePlan) -> None:
    servers = _servers(sock_path)
    assert plan.expected
    for state in plan.expected:
        row = servers.get((state.backend, state.server))
        if not state.present:
            assert row is None, state
            continue
        assert row is not None, state
        seen = (row["srv_addr"], int(row["srv_port"]), int(row["srv_uweight"]),
                bool(int(row["srv_admin_state"]) & MAINT_MASK))  # fmt: skip
        assert seen == (state.address, state.port, state.weight, state.maintenance), state


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return ""


def _until(url: str, done: Callable[[Counter], bool], requests: int = 30) -> Counter:
    """Rounds of `requests` requests until one round satisfies `done` (bounded by WAIT)."""
    deadline = time.monotonic() + WAIT
    while True:
        seen = Counter(_get(url) for _ in range(requests))
        if done(seen) or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


class _Step:
    """The running config and the rendering it came from; each change renders, plans, applies."""

    def __init__(self, runtime_dir: Path, rendering: Rendering, target) -> None:
        self.sock = runtime_dir / "haproxy.sock"
        self.runtime_dir = runtime_dir
        self.rendering = rendering
        self.target = target

    def change(self, graph: graph_pb2.LoadBalancer) -> tuple[runtime_pb2.RuntimePlan, float]:
        renderer = HaproxyRenderer()
        new = renderer.render(graph, self.target)
        plan = renderer.runtime_plan(new, self.rendering.files, self.target)
        assert plan is not None
        assert plan.from_config_hash == self.rendering.config_hash
        seconds = _apply(self.sock, plan)
        _assert_expected(self.sock, plan)
        # The agent then swaps the file without a reload; the new file must be valid as is.
        _write(new, self.runtime_dir)
        check = subprocess.run(
            [HAPROXY, "-c", "-f", "conf/haproxy.cfg"],
            capture_output=True, text=True, timeout=30, cwd=self.runtime_dir,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        self.rendering = new
        return plan, seconds


def test_member_changes_reach_traffic_without_a_reload(
    runtime_dir: Path, backends: dict[str, Backend], haproxy
) -> None:
    port = free_port()
    target = samples.target(runtime_dir=str(runtime_dir), vip_address=VIP)
    ports = {name: backend.port for name, backend in backends.items()}
    members = {name: _member(name, ports[name]) for name in "ab"}
    rendering = HaproxyRenderer().render(_lb(port, list(members.values())), target)
    proc = haproxy(rendering)
    sock = runtime_dir / "haproxy.sock"
    url = f"http://{VIP}:{port}/"
    seen = _until(url, lambda s: s["a"] > 0 and s["b"] > 0)
    assert set(seen) == {"a", "b"}, seen
    pid = _worker_pid(sock)
    step = _Step(runtime_dir, rendering, target)

    # Added: c takes traffic.
    members["c"] = _member("c", ports["c"])
    plan, _ = step.change(_lb(port, list(members.values())))
    assert plan.commands[0].startswith(f"add server {POOL_ID}/{MEMBER_IDS['c']} 127.0.0.1:")
    seen = _until(url, lambda s: {"a", "b", "c"} <= set(s))
    assert set(seen) == {"a", "b", "c"}, seen

    # Weight 0: a takes no new traffic.
    members["a"] = _member("a", ports["a"], weight=0)
    plan, _ = step.change(_lb(port, list(members.values())))
    assert list(plan.commands) == [f"set server {POOL_ID}/{MEMBER_IDS['a']} weight 0"]
    seen = _until(url, lambda s: set(s) == {"b", "c"})
    assert set(seen) == {"b", "c"}, seen

    # Admin down: b is in maintenance.
    members["a"] = _member("a", ports["a"])
    members["b"] = _member("b", ports["b"], up=False)
    plan, _ = step.change(_lb(port, list(members.values())))
    assert f"set server {POOL_ID}/{MEMBER_IDS['b']} state maint" in plan.commands
    seen = _until(url, lambda s: set(s) == {"a", "c"})
    assert set(seen) == {"a", "c"}, seen

    # Address change: c's member now points at backend d.
    members["c"] = _member("c", ports["d"])
    plan, _ = step.change(_lb(port, list(members.values())))
    assert list(plan.commands) == [
        f"set server {POOL_ID}/{MEMBER_IDS['c']} addr 127.0.0.1 port {ports['d']}"
    ]
    seen = _until(url, lambda s: set(s) == {"a", "d"})
    assert set(seen) == {"a", "d"}, seen

    # Removed: c is gone, and b comes back.
    del members["c"]
    members["b"] = _member("b", ports["b"])
    plan, _ = step.change(_lb(port, list(members.values())))
    assert plan.commands[-1] == f"del server {POOL_ID}/{MEMBER_IDS['c']}"
    assert (POOL_ID, MEMBER_IDS["c"]) not in _servers(sock)
    seen = _until(url, lambda s: set(s) == {"a", "b"})
    assert set(seen) == {"a", "b"}, seen

    assert _worker_pid(sock) == pid
    assert proc.poll() is None


def test_source_ip_persistence_keeps_its_stick_table(
    runtime_dir: Path, backends: dict[str, Backend], haproxy
) -> None:
    """A runtime add keeps the stick table: no reload, so no entry is lost."""
    port = free_port()
    target = samples.target(runtime_dir=str(runtime_dir), vip_address=VIP)
    ports = {name: backend.port for name, backend in backends.items()}
    members = [_member("a", ports["a"])]
    persistence = graph_pb2.SessionPersistence(type="SOURCE_IP")
    rendering = HaproxyRenderer().render(
        _lb(port, members, session_persistence=persistence), target
    )
    haproxy(rendering)
    sock = runtime_dir / "haproxy.sock"
    url = f"http://{VIP}:{port}/"
    assert set(_until(url, lambda s: s["a"] > 0)) == {"a"}
    table = ask(sock, f"show table {POOL_ID}", time.monotonic() + WAIT)
    assert "key=127.0.0.1" in table, table
    pid = _worker_pid(sock)

    members.append(_member("b", ports["b"]))
    _Step(runtime_dir, rendering, target).change(
        _lb(port, members, session_persistence=persistence)
    )
    # The client stays on a: its entry survived, and b never sees it.
    seen = Counter(_get(url) for _ in range(20))
    assert seen == Counter({"a": 20}), seen
    assert "key=127.0.0.1" in ask(sock, f"show table {POOL_ID}", time.monotonic() + WAIT)
    assert _worker_pid(sock) == pid


def test_a_thousand_members_in_one_plan(
    runtime_dir: Path, backends: dict[str, Backend], haproxy
) -> None:
    port = free_port()
    target = samples.target(runtime_dir=str(runtime_dir), vip_address=VIP)
    a = backends["a"].port
    members = [_member("a", a)]
    rendering = HaproxyRenderer().render(_lb(port, members), target)
    haproxy(rendering)
    sock = runtime_dir / "haproxy.sock"
    url = f"http://{VIP}:{port}/"
    assert set(_until(url, lambda s: s["a"] > 0)) == {"a"}
    pid = _worker_pid(sock)

    one = [*members, _member("b", backends["b"].port)]
    step = _Step(runtime_dir, rendering, target)
    plan, one_seconds = step.change(_lb(port, one))
    assert len(plan.commands) == 3

    many = one + [
        graph_pb2.Member(meta=samples.meta(f"5f5f5f5f-0000-4000-8000-{i:012d}"),
                         address="127.0.0.1", protocol_port=a, weight=1)
        for i in range(1000)
    ]  # fmt: skip
    plan, many_seconds = step.change(_lb(port, many))
    assert len(plan.commands) == 3000 and len(plan.expected) == 1000
    assert len(_servers(sock)) == 1002
    print(f"\nplan of 1 add: {one_seconds * 1000:.1f} ms; of 1,000 adds: {many_seconds:.2f} s")
    assert many_seconds < 60, many_seconds
    assert _worker_pid(sock) == pid
