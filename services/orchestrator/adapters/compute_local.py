"""The `local` compute driver: each amphora is an amphora-agent process on this host.

The agent is started in its own session, detached from the orchestrator, so that an orchestrator
crash or restart leaves the data plane running; the orchestrator finds its amphorae again through
the compute id it recorded ("<pid>:<start time>"). The start time (field 22 of /proc/<pid>/stat)
guards every signal we send against pid reuse.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import InvalidInput, Precondition, Unavailable
from services.orchestrator.adapters.heartbeat_keys import (
    AGENT_KEY_FILE,
    AgentHeartbeat,
    AgentHeartbeatKeys,
    agent_key_files,
    update_agent_key_file,
    write_agent_key_file,
)
from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance, run_dir_amphora_path

log = logging.getLogger(__name__)

# The directory that holds `amphora_agent/` and `protos/`, so `python -m amphora_agent` resolves
# whatever the orchestrator's working directory is.
_REPO_ROOT = Path(__file__).resolve().parents[3]
# Where agents listen unless told otherwise: the host's loopback, reachable from this host only
# (a compute host in a container of its own listens where the workers reach it).
DEFAULT_AGENT_HOST = "127.0.0.1"
# What an agent takes from the orchestrator's environment (LC_* as well): PATH finds haproxy,
# nginx, keepalived and nft; the locale, time zone and home as the operator set them; and
# LBAAS_LOG_LEVEL, the one variable the agent reads (amphora_agent/__main__.py).
_AGENT_ENVIRONMENT = frozenset(
    {
        "PATH",
        "LANG",
        "TZ",
        "HOME",
        "LBAAS_LOG_LEVEL",
        "LBAAS_LOG_FORMAT",
        "LBAAS_AGENT_RUNTIME_PLANS",
    }
)
# And by prefix: the locale, and the tracing settings (OpenTelemetry's OTEL_* and LBAAS_TRACE_*:
# exporter, OTLP endpoint and headers, sampler, batch delay), so the agent's spans join the
# orchestrator's traces wherever those go.
_AGENT_ENVIRONMENT_PREFIXES = ("LC_", "OTEL_", "LBAAS_TRACE_")
_POLL_INTERVAL = 0.05


# --- /proc helpers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcStat:
    """The few fields of /proc/<pid>/stat the driver needs."""

    pid: int
    state: str  # "R", "S", "Z", ...
    session: int
    start_time: int  # clock ticks since boot; unique per pid incarnation

    @property
    def exited(self) -> bool:
        return self.state in ("Z", "X", "x")


def parse_proc_stat(text: str) -> ProcStat:
    """Parses /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses."""
    head, sep, tail = text.rpartition(")")
    if not sep:
        raise ValueError("not a /proc stat line")
    pid = int(head.split("(", 1)[0])
    rest = tail.split()  # rest[0] is field 3 (state)
    return ProcStat(pid=pid, state=rest[0], session=int(rest[3]), start_time=int(rest[19]))


def read_proc_stat(pid: int) -> ProcStat | None:
    try:
        return parse_proc_stat(Path(f"/proc/{pid}/stat").read_text())
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return None


def read_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def format_compute_id(pid: int, start_time: int) -> str:
    """A UUID-shaped id (as Nova's instance ids, which Octavia's clients expect), reversible:
    the pid in the first group, the process start time (clock ticks since boot) in the last,
    version 8 (custom) and the RFC 4122 variant in between."""
    return f"{pid:08x}-0000-8000-8000-{start_time:012x}"


_UUID_ID = re.compile(r"\A([0-9a-f]{8})-0000-8000-8000-([0-9a-f]{12})\Z")


def parse_compute_id(compute_id: str) -> tuple[int, int]:
    """(pid, start time) from format_compute_id's form, or from "<pid>:<start time>" (the form
    of releases before it, still in the database of an upgraded deployment); InvalidInput for
    anything else."""
    match = _UUID_ID.match(compute_id)
    if match:
        pid_text, start_text = str(int(match[1], 16)), str(int(match[2], 16))
        sep = ":"
    else:
        pid_text, sep, start_text = compute_id.partition(":")
    if not sep or not pid_text.isdigit() or not start_text.isdigit() or int(pid_text) <= 0:
        raise InvalidInput(
            "malformed local compute id", field="compute_id", operator_detail=repr(compute_id)
        )
    return int(pid_text), int(start_text)


# --- process handling ----------------------------------------------------------------------------


def _free_port(preferred: int | None, host: str) -> int:
    """preferred when it can be bound on host now, else a kernel-chosen port."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise Unavailable("no free port for the amphora agent")


def _write_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # O_CREAT's mode does not apply to a file that already existed


def _session_members(session_id: int) -> list[int]:
    """Pids of processes in a session, except its leader."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == session_id:
            continue
        stat = read_proc_stat(int(entry.name))
        if stat is not None and stat.session == session_id and not stat.exited:
            members.append(stat.pid)
    return members


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _agent_pid_from_file(amphora_dir: Path, amphora_id: str) -> int | None:
    """The pid in amphora_dir/agent.pid if that process is an agent for amphora_id."""
    try:
        pid = int((amphora_dir / "agent.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if pid <= 0:
        return None
    stat = read_proc_stat(pid)
    if stat is None or stat.exited or amphora_id not in read_cmdline(pid):
        return None
    return pid


class _Reaper:
    """Collects exit statuses of the agents this process started, so they do not stay zombies."""

    def __init__(self) -> None:
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def adopt(self, proc: subprocess.Popen[bytes]) -> None:
        self._children[proc.pid] = proc

    def reap(self, pid: int) -> None:
        proc = self._children.get(pid)
        if proc is not None:
            if proc.poll() is not None:
                del self._children[pid]
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass  # not our child (we restarted since); its new parent reaps it


def _is_running(pid: int, start_time: int, reaper: _Reaper) -> bool:
    """pid is the process that started at start_time, and has not exited (reaps it if it has)."""
    stat = read_proc_stat(pid)
    if stat is None or stat.start_time != start_time:
        return False
    if stat.exited:
        reaper.reap(pid)
        return False
    return True


async def _wait_exit(pid: int, start_time: int, timeout: float, reaper: _Reaper) -> bool:
    deadline = time.monotonic() + timeout
    while _is_running(pid, start_time, reaper):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL_INTERVAL)
    return True


async def _stop_process(pid: int, start_time: int, timeout: float, reaper: _Reaper) -> None:
    """SIGTERM, bounded wait, then SIGKILL of the whole session; then kills leftovers of it.

    The agent is a session leader (start_new_session), so its haproxy shares its session id. A
    session id cannot be reused as a pid while any member lives, so every non-leader process in
    that session is ours even after the leader is gone.
    """
    if not _is_running(pid, start_time, reaper):
        return
    _signal(pid, signal.SIGTERM)
    if not await _wait_exit(pid, start_time, timeout, reaper):
        log.warning("agent pid %d ignored SIGTERM for %.1fs; killing it", pid, timeout)
        if _is_running(pid, start_time, reaper):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                _signal(pid, signal.SIGKILL)
        await _wait_exit(pid, start_time, 5.0, reaper)
    for member in _session_members(pid):
        log.warning("killing pid %d left behind by agent pid %d", member, pid)
        _signal(member, signal.SIGKILL)


def _log_tail(path: Path, limit: int = 2000) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


# --- the driver ----------------------------------------------------------------------------------


class LocalComputeDriver:
    """ComputeDriver whose amphorae are agent processes under run_dir/amphorae/<id>/."""

    def __init__(
        self,
        run_dir: Path,
        health_udp_addr: str | Sequence[str],
        heartbeat_key_file: Path | None,
        heartbeat_interval: float,
        python: str = sys.executable,
        *,
        stop_timeout: float = 10.0,
        startup_timeout: float = 5.0,
        agent_host: str = DEFAULT_AGENT_HOST,
        advertised_host: str = "",
        agent_log_args: Sequence[str] = (),
    ):
        """agent_host: the address agents listen on; advertised_host: the host of the agent
        address returned, as the orchestrator reaches it (default agent_host); agent_log_args:
        the agents' log offload flags (services/common/log_offload.py, LogOffload.agent_args).

        heartbeat_key_file None (a compute host, which holds no master keys): every create
        brings the agent's AgentHeartbeat, and health_udp_addr and heartbeat_interval are
        unused."""
        self._run_dir = Path(run_dir)
        # Every health replica gets every heartbeat.
        self._health_udp_addrs = (
            [health_udp_addr] if isinstance(health_udp_addr, str) else list(health_udp_addr)
        )
        # heartbeat_key_file holds the master keys: agents get only keys derived for them.
        self._heartbeat_keys = (
            AgentHeartbeatKeys(Path(heartbeat_key_file)) if heartbeat_key_file else None
        )
        self._agent_host = agent_host
        self._advertised_host = advertised_host or agent_host
        self._heartbeat_interval = heartbeat_interval
        self._python = python
        self._stop_timeout = stop_timeout
        self._startup_timeout = startup_timeout
        self._reaper = _Reaper()
        self._agent_log_args = tuple(agent_log_args)

    # Agents of this driver share the host's network namespace, where a drain's SYN filter on
    # a VIP would also hold back the replacement that binds the same VIP (SO_REUSEPORT) and
    # would outlive an agent killed mid-drain: no Drain (the orchestrator deletes the old
    # amphora without one). The netns driver's agents drain in their own namespace.
    agent_drain_args: tuple[str, ...] = ("--nft-bin", "")

    def _agent_command(
        self,
        spec: AmphoraSpec,
        amphora_dir: Path,
        port: int,
        heartbeat: AgentHeartbeat | None = None,
    ) -> list[str]:
        """heartbeat None: this driver's own health targets and interval."""
        targets = heartbeat.targets if heartbeat else self._health_udp_addrs
        interval = heartbeat.interval if heartbeat else self._heartbeat_interval
        return [
            self._python, "-m", "amphora_agent",
            "--amphora-id", spec.amphora_id,
            "--listen", f"{self._agent_host}:{port}",
            "--tls-cert", str(amphora_dir / "agent.crt"),
            "--tls-key", str(amphora_dir / "agent.key"),
            "--client-ca", str(amphora_dir / "ca.crt"),
            "--runtime-dir", str(amphora_dir),
            *(a for addr in targets for a in ("--heartbeat-target", addr)),
            "--heartbeat-key-file", str(amphora_dir / AGENT_KEY_FILE),
            "--heartbeat-interval", str(interval),
            "--backend", spec.backend_type,
            *self.agent_drain_args,
            *self._agent_log_args,
        ]  # fmt: skip

    def _master_keys(self) -> AgentHeartbeatKeys:
        if self._heartbeat_keys is None:
            raise Precondition(
                "this compute driver has no heartbeat keys",
                operator_detail="started without a master key file: every create must bring "
                "the agent's heartbeat settings",
            )
        return self._heartbeat_keys

    def _write_heartbeat_key(self, amphora_dir: Path, amphora_id: str) -> None:
        """The agent's own heartbeat keys (heartbeat_keys.py), never the master file."""
        self._master_keys().write(amphora_dir, amphora_id)

    def agent_heartbeat(self, amphora_id: str) -> AgentHeartbeat:
        """How amphora_id's agent sends heartbeats: this driver's health targets and interval,
        and keys derived for it from the master file (Unavailable when that cannot be read)."""
        return AgentHeartbeat(
            targets=tuple(self._health_udp_addrs),
            interval=self._heartbeat_interval,
            key_file=self._master_keys().agent_file(amphora_id),
        )

    async def sync_heartbeat_keys(self) -> int:
        """Rewrites the agents' key files after the master file changed (housekeeping); the
        agents re-read theirs when it changes. Returns how many were rewritten."""
        keys = self._master_keys()
        return await asyncio.to_thread(keys.sync, self._run_dir / "amphorae")

    def heartbeat_key_files(self) -> dict[str, bytes]:
        """amphora id -> its agent's heartbeat key file, for every amphora here that has one."""
        return agent_key_files(self._run_dir / "amphorae")

    def update_heartbeat_key(self, amphora_id: str, key_file: bytes) -> bool:
        """Replaces amphora_id's heartbeat key file unless it holds key_file already (True when
        it did); an amphora that is gone, or has none, is left alone."""
        return update_agent_key_file(self._amphora_dir(amphora_id), key_file)

    def _amphora_dir(self, amphora_id: str) -> Path:
        """run_dir/amphorae/<amphora id>; InvalidInput for an id that is not a plain name."""
        amphora_dir = run_dir_amphora_path(self._run_dir, amphora_id)
        if amphora_dir.resolve().parent != (self._run_dir / "amphorae").resolve():
            raise InvalidInput("amphora id is not a plain name", field="amphora_id")
        return amphora_dir

    def _agent_env(self) -> dict[str, str]:
        """An allow-list: the orchestrator's environment holds its database URL and secrets,
        and an agent (the data plane) needs none of them."""
        env = {
            name: value
            for name, value in os.environ.items()
            if name in _AGENT_ENVIRONMENT or name.startswith(_AGENT_ENVIRONMENT_PREFIXES)
        }
        # Tracing as the orchestrator's (services/common/tracing.py); its spans in the run dir's
        # traces/ beside the services' unless a trace file or OTLP is configured.
        env.setdefault("LBAAS_TRACE_FILE", str(self._run_dir / "traces" / "amphora-agent.jsonl"))
        paths = [str(_REPO_ROOT), str(_REPO_ROOT / "protos")]
        if os.environ.get("PYTHONPATH"):
            paths.append(os.environ["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env

    async def create_amphora(
        self, spec: AmphoraSpec, heartbeat: AgentHeartbeat | None = None
    ) -> ComputeInstance:
        """Starts the agent; replaces any agent still running for the same amphora id.

        heartbeat: how the agent sends heartbeats, from a caller that holds the master keys
        (a compute host passes on the worker's); None: agent_heartbeat, this driver's own.

        Re-creating an amphora whose directory exists (the agents were stopped, or the last
        create failed) reuses the directory with fresh certificates and a new port.
        """
        amphora_dir = self._amphora_dir(spec.amphora_id)
        leftover = _agent_pid_from_file(amphora_dir, spec.amphora_id)
        if leftover is not None:
            stat = read_proc_stat(leftover)
            if stat is not None:
                log.info("replacing agent pid %d of amphora %s", leftover, spec.amphora_id)
                await _stop_process(leftover, stat.start_time, self._stop_timeout, self._reaper)
        # The directory is kept when it exists: after `make run` stopped the agents (stop_all),
        # the restarted agent finds its last applied config there again.
        amphora_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        (amphora_dir / "agent.pid").unlink(missing_ok=True)

        _write_file(amphora_dir / "agent.crt", spec.certificate.cert_pem, 0o644)
        _write_file(amphora_dir / "agent.key", spec.certificate.key_pem, 0o600)
        _write_file(amphora_dir / "ca.crt", spec.certificate.ca_pem, 0o644)
        if heartbeat is None:
            heartbeat = self.agent_heartbeat(spec.amphora_id)
        write_agent_key_file(amphora_dir, heartbeat.key_file)
        port = _free_port(spec.agent_port, self._agent_host)
        command = self._agent_command(spec, amphora_dir, port, heartbeat)

        log_path = amphora_dir / "agent.log"
        with open(log_path, "ab") as log_file:
            proc = subprocess.Popen(
                command,
                cwd=_REPO_ROOT,
                env=self._agent_env(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                close_fds=True,
                # Its own session: signals to the orchestrator's process group (Ctrl-C, a
                # supervisor killing the group) do not reach the data plane.
                start_new_session=True,
            )
        self._reaper.adopt(proc)
        stat = read_proc_stat(proc.pid)
        if stat is None:  # exited and reaped by someone before we could look: cannot happen
            raise Unavailable("amphora agent exited at once", operator_detail=_log_tail(log_path))
        await self._wait_started(proc, amphora_dir, log_path)
        log.info("amphora %s: agent pid %d on port %d", spec.amphora_id, proc.pid, port)
        return ComputeInstance(
            compute_id=format_compute_id(proc.pid, stat.start_time),
            agent_address=f"{self._advertised_host}:{port}",
            details={"port": str(port), "pid": str(proc.pid), "amphora_dir": str(amphora_dir)},
        )

    async def _wait_started(
        self, proc: subprocess.Popen[bytes], amphora_dir: Path, log_path: Path
    ) -> None:
        """Waits until the agent wrote its pid file; raises if it exits first.

        A slow start is not an error (the port promises only that the process exists): after
        startup_timeout the caller proceeds, and its GetInfo retries cover the rest.
        """
        pid_file = amphora_dir / "agent.pid"
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise Unavailable(
                    "amphora agent exited during start",
                    operator_detail=f"exit status {code}; log: {_log_tail(log_path)}",
                )
            try:
                if pid_file.read_text().strip() == str(proc.pid):
                    return
            except FileNotFoundError:
                pass
            await asyncio.sleep(_POLL_INTERVAL)
        log.warning("agent pid %d has not written %s yet; proceeding", proc.pid, pid_file)

    async def is_alive(self, compute_id: str) -> bool:
        try:
            pid, start_time = parse_compute_id(compute_id)
        except InvalidInput:
            return False
        return _is_running(pid, start_time, self._reaper)

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        """Stops the recorded process and any agent the pid file names for this amphora.

        Checking the pid file as well covers an agent whose compute id was never recorded (the
        orchestrator crashed between starting it and saving the id).
        """
        amphora_dir = self._amphora_dir(amphora_id)
        targets: dict[int, int] = {}
        try:
            pid, start_time = parse_compute_id(compute_id)
            targets[pid] = start_time
        except InvalidInput:
            if compute_id:
                log.warning("amphora %s: ignoring malformed compute id %r", amphora_id, compute_id)
        from_file = _agent_pid_from_file(amphora_dir, amphora_id)
        if from_file is not None and from_file not in targets:
            stat = read_proc_stat(from_file)
            if stat is not None:
                targets[from_file] = stat.start_time
        await asyncio.gather(
            *(_stop_process(p, s, self._stop_timeout, self._reaper) for p, s in targets.items())
        )
        shutil.rmtree(amphora_dir, ignore_errors=True)

    async def take_vip(
        self, amphora_id: str, vip_address: str, prefix_length: int, previous: Sequence[str]
    ) -> None:
        """A no-op: local amphorae share the host's network stack."""


def stop_all(run_dir: Path, timeout: float = 10.0) -> list[int]:
    """SIGTERMs every local agent under run_dir and waits up to timeout for them to exit.

    For the launcher's shutdown: amphora directories stay, so the orchestrator brings the
    amphorae back at the next start. Agents still running after timeout get SIGKILL (whole
    session). Returns the pids signalled.
    """
    found: dict[int, int] = {}
    amphorae = Path(run_dir) / "amphorae"
    if amphorae.is_dir():
        for amphora_dir in sorted(amphorae.iterdir()):
            pid = _agent_pid_from_file(amphora_dir, amphora_dir.name)
            stat = read_proc_stat(pid) if pid is not None else None
            if stat is not None:
                found[stat.pid] = stat.start_time
    reaper = _Reaper()
    for pid, start_time in found.items():
        if _is_running(pid, start_time, reaper):
            _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_is_running(p, s, reaper) for p, s in found.items()):
        time.sleep(_POLL_INTERVAL)
    for pid, start_time in found.items():
        if _is_running(pid, start_time, reaper):
            log.warning("agent pid %d ignored SIGTERM; killing its session", pid)
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                _signal(pid, signal.SIGKILL)
    return list(found)
