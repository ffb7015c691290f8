"""The nginx process: version probes, `nginx -t`, a foreground master, graceful reload, stop,
and what can honestly be reported about it (open-source nginx has no per-listener counters and
no active health checks).

The master runs as the agent's child with `-p {runtime_dir}/ -c {runtime_dir}/conf/nginx.conf
-g "daemon off;"`; the rendered config puts its pid file, error log and temp paths under the
runtime dir. A reload is SIGHUP: the master re-reads conf/nginx.conf (the symlink now points at
the new version) and starts new workers only when the new config loads, so new worker pids are
the confirmation; an [emerg] line in the error log after the signal is the failure.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import time

from amphora_agent.process import (
    ProcessError,
    die_with_parent,
    process_log,
    run_text,
    run_validator,
    stop_stale_master,
)
from amphora_agent.stats import FrontendStat, MemberStat, PoolStat, StatSnapshot

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0
RELOAD_TIMEOUT = 10.0
_FAILURE = re.compile(r"\[emerg\]")
# A listener that cannot bind yet is retried (5 times, 500 ms apart) before the reload fails.
_BIND_RETRY = "try again to bind()"
# How long a log line may take to follow the one before it while the master is busy.
_LOG_SETTLE = 0.2
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_LISTENER_LINE = re.compile(rf"^# lbaas-listener ({_UUID})$")
_POOL_LINE = re.compile(rf"^# lbaas-pool ({_UUID})$")
_MEMBER_LINE = re.compile(rf"^# lbaas-member ({_UUID}) ({_UUID}) (nocheck|drain)$")
# Member states the renderer writes -> what the health service understands: without active
# checks nginx knows nothing about a member's health, which is Octavia's NO_MONITOR ("no check").
_MEMBER_STATUS = {"nocheck": "no check", "drain": "DRAIN"}


class NginxError(ProcessError):
    """nginx failed to start or reload; str() is the operator detail."""


def probe_versions(binary: str) -> tuple[str, str]:
    """(nginx version, OpenSSL version in use), "" when unknown."""
    text = run_text([binary, "-V"])
    found = re.search(r"nginx/(\d+\.\d+\.\d+)", text)
    nginx_version = found.group(1) if found else ""
    found = re.search(r"running with OpenSSL (\S+)", text) or re.search(
        r"built with OpenSSL (\S+)", text
    )
    return nginx_version, found.group(1) if found else ""


def _children(pid: int) -> set[int]:
    """Live child pids of pid (its workers, for an nginx master)."""
    found = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


class Nginx:
    """One nginx master running as the agent's child, reading {runtime_dir}/conf/nginx.conf."""

    main_file = "nginx.conf"

    def __init__(self, binary: str, runtime_dir: str, *, local_logs: bool = True) -> None:
        self.binary = binary
        self.runtime_dir = runtime_dir
        self.prefix = runtime_dir.rstrip("/") + "/"
        self.main_cfg = os.path.join(runtime_dir, "conf", self.main_file)
        # The renderer's `pid` and `error_log`; the master's own stderr goes to the same log.
        self.pid_file = os.path.join(runtime_dir, "nginx.pid")
        # With local log storage off the renderer sends the error log to stderr, and the
        # master's output stays in memory.
        self.log_file = os.path.join(runtime_dir, "nginx.log")
        self._log = process_log(self.log_file, local_logs)
        self._proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _argv(self, cfg_path: str, *extra: str) -> list[str]:
        return [self.binary, *extra, "-p", self.prefix, "-c", cfg_path, "-g", "daemon off;"]

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        # Relative paths in the config (certs/...) resolve against the config's own directory,
        # so the staged copy is checked with its own files. `nginx -t` also binds the listeners
        # (an address in use by the running master is tolerated), so a VIP the host does not
        # have or a port another program holds is INVALID here rather than a failed reload.
        return await run_validator(self._argv(cfg_path, "-t", "-q"), cwd, "nginx -t")

    def stop_stale(self) -> None:
        """Stop a master left behind by an earlier agent run on this runtime dir."""
        stop_stale_master(self.pid_file, self.main_cfg, "nginx")

    async def start(self) -> None:
        """Start the master and wait for its workers; raise NginxError otherwise."""
        if self.running:
            return
        offset = self._log.size()
        with self._log.open() as log_fh:
            # Popen from the event loop thread: PDEATHSIG fires when the forking *thread* exits.
            self._proc = subprocess.Popen(
                self._argv(self.main_cfg),
                cwd=self.runtime_dir,
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(os.getpid()),
            )
        log.info("started nginx master pid %d", self._proc.pid)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running:
                self._proc = None
                raise NginxError(f"nginx exited at start: {self._log.since(offset)}")
            if _children(self._proc.pid):
                return
            await asyncio.sleep(0.05)
        await self.stop()
        raise NginxError(f"nginx did not start in {START_TIMEOUT}s: {self._log.since(offset)}")

    async def reload(self) -> None:
        """Graceful reload (SIGHUP): old workers finish their connections, new ones take over."""
        if not self.running:
            await self.start()
            return
        assert self._proc is not None
        before = _children(self._proc.pid)
        offset = self._log.size()
        self._proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if not self.running:
                self._proc = None
                raise NginxError(f"nginx master exited on reload: {self._log.since(offset)}")
            if _children(self._proc.pid) - before:
                return
            if _FAILURE.search(self._log.since(offset)):
                await asyncio.sleep(_LOG_SETTLE)
                since = self._log.since(offset)
                if since.rstrip().splitlines()[-1].find(_BIND_RETRY) >= 0:
                    continue  # the master is still retrying a bind
                # The master keeps its old workers and config; the caller restores conf/.
                raise NginxError(f"nginx reload failed: {since}")
        raise NginxError(
            f"nginx reload not confirmed in {RELOAD_TIMEOUT}s: {self._log.since(offset)}"
        )

    async def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # fast shutdown: the master stops its workers
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.info("nginx master %d stopped", proc.pid)


def parse_manifest(text: str) -> StatSnapshot:
    """The lbaas-* comment lines of a rendered nginx.conf as a snapshot: every listener OPEN,
    every enabled member "no check" (or DRAIN for weight 0), counters 0 (nginx has none per
    listener)."""
    listeners: list[FrontendStat] = []
    pools: dict[str, list[MemberStat]] = {}
    for line in text.splitlines():
        if not line.startswith("# lbaas-"):
            continue
        if match := _LISTENER_LINE.match(line):
            listeners.append(FrontendStat(match.group(1), "OPEN", 0, 0, 0, 0, 0))
        elif match := _POOL_LINE.match(line):
            pools.setdefault(match.group(1), [])
        elif match := _MEMBER_LINE.match(line):
            status = _MEMBER_STATUS[match.group(3)]
            pools.setdefault(match.group(1), []).append(MemberStat(match.group(2), status))
    return StatSnapshot(
        tuple(listeners),
        tuple(PoolStat(pid, "UP", tuple(members)) for pid, members in pools.items()),
    )


class NginxStats:
    """Snapshots for heartbeats and GetStats: empty while nginx is down, else what the applied
    config declares (re-read only when conf/ points elsewhere)."""

    def __init__(self, runtime_dir: str, is_running) -> None:
        self.conf_link = os.path.join(runtime_dir, "conf")
        self.is_running = is_running
        self._target: str | None = None
        self._snapshot = StatSnapshot()

    async def snapshot(self) -> StatSnapshot:
        if not self.is_running():
            return StatSnapshot()
        try:
            target = os.readlink(self.conf_link)
            if target != self._target:
                with open(os.path.join(self.conf_link, Nginx.main_file)) as fh:
                    self._snapshot = parse_manifest(fh.read())
                self._target = target
        except OSError:
            return StatSnapshot()
        return self._snapshot
