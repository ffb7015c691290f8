"""The whole system started as processes through the real launcher, on free ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from deploy.local.stack import METRICS_ADDRESSES
from tests.support.backends import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def short_run_dir(prefix: str = "lbaas-") -> Path:
    """A run dir short enough for haproxy's unix socket paths (pytest's tmp paths are not)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


@dataclass
class RunningStack:
    run_dir: Path
    api_url: str
    env: dict[str, str]
    process: subprocess.Popen

    @property
    def tokens(self) -> dict:
        return yaml.safe_load((self.run_dir / "tokens.yaml").read_text())["tokens"]

    def token(self, role: str) -> str:
        return next(t for t, v in self.tokens.items() if role in v["roles"])

    def project(self, role: str) -> str:
        return next(v["project_id"] for v in self.tokens.values() if role in v["roles"])

    def service_pid(self, name: str) -> int:
        return int((self.run_dir / "pids" / f"{name}.pid").read_text())

    def metrics_url(self, name: str) -> str:
        """Where the launcher's service `name` (health-2 too) serves /metrics."""
        from deploy.local.stack import StackSettings

        return f"http://{StackSettings.from_env(self.env).metrics_addrs[name]}/metrics"

    def log(self, name: str) -> str:
        path = self.run_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_stack(
    run_dir: Path, timeout: float = 120.0, extra_env: dict[str, str] | None = None
) -> RunningStack:
    """Starts the launcher; extra_env (e.g. LBAAS_COMPUTE_DRIVER=noop) reaches every service.
    With LBAAS_HEALTH_REPLICAS or LBAAS_ORCHESTRATOR_WORKER_REPLICAS above 1 in extra_env, the
    extra replicas get free ports too (replica_ports), unless extra_env names theirs."""
    api_port = free_port()
    env = dict(os.environ)
    env.update(
        {
            # The compute host's (LBAAS_COMPUTE_DRIVER=remote; the workers call it there).
            "LBAAS_COMPUTE_HOST_ADDR": f"127.0.0.1:{free_port()}",
            "LBAAS_RUN_DIR": str(run_dir),
            "LBAAS_API_PORT": str(api_port),
            "LBAAS_ORCHESTRATOR_ADDR": f"127.0.0.1:{free_port()}",
            "LBAAS_ORCHESTRATOR_WORKER_ADDR": f"127.0.0.1:{free_port()}",
            "LBAAS_RENDERER_HAPROXY_ADDR": f"127.0.0.1:{free_port()}",
            "LBAAS_RENDERER_NGINX_ADDR": f"127.0.0.1:{free_port()}",
            "LBAAS_RENDERER_F5_AS3_ADDR": f"127.0.0.1:{free_port()}",
            "LBAAS_HEALTH_ADDR": f"127.0.0.1:{free_port()}",
            "LBAAS_HEALTH_UDP_ADDR": f"127.0.0.1:{free_port()}",
            # Each process's /metrics (deploy/local/stack.py METRICS_ADDRESSES).
            **{
                f"{prefix}_METRICS_ADDR": f"127.0.0.1:{free_port()}"
                for prefix, _ in METRICS_ADDRESSES.values()
            },
        }
    )
    env.pop("DATABASE_URL", None)
    env.pop("LBAAS_METRICS_ADDR", None)
    env.update(extra_env or {})
    env.update({k: v for k, v in replica_ports(env).items() if k not in env})
    return _launch(run_dir, env, f"http://127.0.0.1:{api_port}", timeout)


def replica_ports(env: dict[str, str]) -> dict[str, str]:
    """Free loopback addresses for the launcher's extra replicas (2..N) of the health service
    (LBAAS_HEALTH_<i>_ADDR, LBAAS_HEALTH_<i>_UDP_ADDR) and of the orchestrator worker
    (LBAAS_ORCHESTRATOR_WORKER_<i>_ADDR), by the counts in env. The launcher's default for them
    (the first replica's port + 10 * (i - 1)) may be taken when the first one is a free port."""
    wanted = {
        "LBAAS_HEALTH": (
            env.get("LBAAS_HEALTH_REPLICAS"),
            ("ADDR", "UDP_ADDR", "METRICS_ADDR"),
        ),
        "LBAAS_ORCHESTRATOR_WORKER": (
            env.get("LBAAS_ORCHESTRATOR_WORKER_REPLICAS"),
            ("ADDR", "METRICS_ADDR"),
        ),
    }
    out = {}
    for service, (count, settings) in wanted.items():
        for i in range(2, int(count or "1") + 1):
            for setting in settings:
                out[f"{service}_{i}_{setting}"] = f"127.0.0.1:{free_port()}"
    return out


def restart_stack(old: RunningStack, timeout: float = 120.0) -> RunningStack:
    return _launch(old.run_dir, old.env, old.api_url, timeout)


def restart_service(
    stack: RunningStack, name: str, extra_env: dict[str, str], timeout: float = 60.0
) -> int:
    """Redeploys one service (e.g. "renderer-haproxy") with extra_env: writes the launcher's
    <run dir>/env/<name>.env, stops the service, and waits until the launcher has started it
    again and it answers its gRPC health check. Returns the new pid."""
    env_dir = stack.run_dir / "env"
    env_dir.mkdir(exist_ok=True)
    (env_dir / f"{name}.env").write_text("".join(f"{k}={v}\n" for k, v in extra_env.items()))
    old = stack.service_pid(name)
    os.kill(old, signal.SIGTERM)
    return wait_restarted(stack, name, old, timeout)


def wait_restarted(stack: RunningStack, name: str, old_pid: int, timeout: float = 60.0) -> int:
    """Waits until the launcher has started service `name` again (a pid other than old_pid in
    its pid file) and the new process answers its gRPC health check. Returns the new pid."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    address = _service_address(stack, name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid = stack.service_pid(name)
        except (OSError, ValueError):
            pid = old_pid
        if pid != old_pid:
            try:
                with operator_channel(stack, address, service_identity(name)) as ch:
                    resp = health_pb2_grpc.HealthStub(ch).Check(
                        health_pb2.HealthCheckRequest(), timeout=1
                    )
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return pid
            except grpc.RpcError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} was not restarted:\n" + _tail(stack.run_dir))


def service_identity(name: str) -> str:
    """The internal-TLS identity of the launcher's service `name` (health-2 -> health)."""
    from services.common import internal_tls as t

    for prefix, identity in (
        ("renderer", t.RENDERER),
        ("orchestrator-worker", t.WORKER),
        ("orchestrator", t.ORCHESTRATOR),
        ("health", t.HEALTH),
        ("compute", t.COMPUTE),
    ):
        if name.startswith(prefix):
            return identity
    raise ValueError(f"no gRPC service {name!r}")


def operator_channel(stack: RunningStack, address: str, target: str):
    """A blocking channel to a service of the stack (target: its identity), as the operator's
    certificate (what grpcurl would present)."""
    from services.common.internal_tls import OPERATOR, InternalTLS, blocking_channel

    return blocking_channel(address, target, InternalTLS(stack.run_dir / "internal-tls", OPERATOR))


def _service_address(stack: RunningStack, name: str) -> str:
    if name.startswith("renderer-"):
        backend = name.removeprefix("renderer-")
        return stack.env[f"LBAAS_RENDERER_{backend.upper().replace('-', '_')}_ADDR"]
    return stack.env[f"LBAAS_{name.upper().replace('-', '_')}_ADDR"]


def _launch(run_dir: Path, env: dict[str, str], api_url: str, timeout: float) -> RunningStack:
    run_dir.mkdir(parents=True, exist_ok=True)
    out = open(run_dir / "stack.out", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.stack"],
        cwd=REPO_ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    out.close()
    stack = RunningStack(run_dir, api_url, env, proc)
    deadline = time.monotonic() + timeout
    while not (run_dir / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_stack(stack)
            raise RuntimeError("stack did not start:\n" + _tail(run_dir))
        time.sleep(0.2)
    return stack


def stop_stack(stack: RunningStack, timeout: float = 60.0) -> None:
    """Stops the launcher, then makes sure nothing it or its services started is left."""
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
        try:
            stack.process.wait(timeout)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    for pid in leftover_pids(stack.run_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def leftover_pids(run_dir: Path) -> list[int]:
    """Pids of processes started for this run dir: its path is in their command line (agents,
    haproxy, postgres) or their environment names it (the services)."""
    found = []
    marker = str(run_dir).encode()
    env_marker = b"LBAAS_RUN_DIR=" + marker + b"\0"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes() or env_marker in (
                (entry / "environ").read_bytes()
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _tail(run_dir: Path, lines: int = 60) -> str:
    parts = []
    for path in [run_dir / "stack.out", *sorted((run_dir / "logs").glob("*.log"))]:
        if path.exists():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(text))
    return "\n".join(parts)


@contextlib.contextmanager
def running_stack(prefix: str = "lbaas-", extra_env: dict[str, str] | None = None):
    """A stack in a fresh short run dir; stopped, checked for leftovers and removed afterwards."""
    run_dir = short_run_dir(prefix)
    try:
        stack = start_stack(run_dir, extra_env=extra_env)
        try:
            yield stack
        finally:
            stop_stack(stack)
        assert leftover_pids(run_dir) == [], "processes left behind after the stack stopped"
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def amphora_pids(run_dir: Path, amphora_id: str) -> list[int]:
    """Pids of one local amphora's processes: its agent and its haproxy (or nginx) processes,
    found by their command line naming the amphora's directory (a zombie's names nothing)."""
    amphora_dir = str(run_dir / "amphorae" / amphora_id).encode()
    found = []
    for pid in leftover_pids(run_dir):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a == amphora_dir or a.startswith(amphora_dir + b"/") for a in argv):
            found.append(pid)
    return found


def process_start_time(pid: int) -> int | None:
    """The process's start time (field 22 of /proc/<pid>/stat, unique per pid incarnation);
    None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return None if fields[0] in ("Z", "X", "x") else int(fields[19])


def kill_amphora(run_dir: Path, amphora_id: str) -> dict[int, int]:
    """SIGKILLs every process of a local amphora (amphora_pids) at once; returns {pid: start
    time} of those it found alive. The agent goes last: its haproxy would otherwise die of the
    parent-death signal first, and each process is to get a SIGKILL of its own."""
    try:
        agent = int((run_dir / "amphorae" / amphora_id / "agent.pid").read_text())
    except (OSError, ValueError):
        agent = 0
    pids = amphora_pids(run_dir, amphora_id)
    started = {p: s for p in pids if (s := process_start_time(p)) is not None}
    for pid in sorted(started, key=lambda p: p == agent):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return started


def health_rows(stack: RunningStack) -> list:
    """The health service's amphora rows (lbaas.health.v1.AmphoraHealth), from its gRPC API."""
    from lbaas.health.v1 import health_service_pb2, health_service_pb2_grpc

    with operator_channel(stack, stack.env["LBAAS_HEALTH_ADDR"], "health") as channel:
        stub = health_service_pb2_grpc.HealthServiceStub(channel)
        request = health_service_pb2.ListAmphoraHealthRequest()
        return list(stub.ListAmphoraHealth(request, timeout=5).amphorae)


def health_settled(stack: RunningStack, live_amphorae: set[str]) -> bool:
    """The health service knows only live amphorae (ids from the amphora API) and none is stale:
    no amphora deleted or killed earlier still counts towards its failover circuit breaker."""
    return all(h.amphora_id in live_amphorae and not h.stale for h in health_rows(stack))


def failover_status(stack: RunningStack):
    """The health service's lbaas.health.v1.FailoverStatus (breaker, hold-off, failovers asked
    for and claimed), from its gRPC API."""
    from lbaas.health.v1 import health_service_pb2, health_service_pb2_grpc

    with operator_channel(stack, stack.env["LBAAS_HEALTH_ADDR"], "health") as channel:
        stub = health_service_pb2_grpc.HealthServiceStub(channel)
        request = health_service_pb2.GetFailoverStatusRequest()
        return stub.GetFailoverStatus(request, timeout=5).status
