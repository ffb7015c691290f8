"""The haproxy process: version probes, validation, master-worker start, hitless reload, stop."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import subprocess
import time

from amphora_agent import privileges, stats
from amphora_agent.process import (
    ProcessError,
    die_with_parent,
    process_log,
    run_text,
    run_validator,
    stop_stale_master,
)

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0
RELOAD_TIMEOUT = 10.0
# A new worker usually answers within tens of milliseconds: look often at first (a create that
# takes a spare waits on this), then every 50 ms.
_FIRST_POLL, _LAST_POLL = 0.005, 0.05


def probe_versions(binary: str) -> tuple[str, str]:
    """(haproxy version, OpenSSL version in use), "" when unknown."""
    found = re.search(r"version (\d+\.\d+\.\d+)", run_text([binary, "-v"]))
    haproxy_version = found.group(1) if found else ""
    found = re.search(r"Running on OpenSSL version\s*:\s*OpenSSL (\S+)", run_text([binary, "-vv"]))
    if not found:
        found = re.search(r"OpenSSL (\S+)", run_text(["openssl", "version"]))
    return haproxy_version, found.group(1) if found else ""


class HaproxyError(ProcessError):
    """haproxy failed to start or reload; str() is the operator detail."""


class Haproxy:
    """One haproxy master (-W) running as the agent's child, reading {conf_link}/haproxy.cfg."""

    main_file = "haproxy.cfg"

    def __init__(
        self,
        binary: str,
        runtime_dir: str,
        chroot_dir: str | None = None,
        *,
        local_logs: bool = True,
    ) -> None:
        self.binary = binary
        self.runtime_dir = runtime_dir
        # Where the workers chroot when the config says so (privileges.py); kept an empty
        # root-owned directory before every check, start and reload.
        self.chroot_dir = chroot_dir
        self.master_sock = os.path.join(runtime_dir, "master.sock")
        self.stats_sock = os.path.join(runtime_dir, "haproxy.sock")
        self.pid_file = os.path.join(runtime_dir, "haproxy.pid")
        self.state_file = os.path.join(runtime_dir, "servers.state")
        # The master's (and its workers') output; in memory when local log storage is off.
        self.log_file = os.path.join(runtime_dir, "haproxy.log")
        self._log = process_log(self.log_file, local_logs)
        self.main_cfg = os.path.join(runtime_dir, "conf", "haproxy.cfg")
        self._proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _ensure_chroot(self) -> None:
        if self.chroot_dir is not None:
            privileges.ensure_chroot(self.chroot_dir)

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        self._ensure_chroot()
        return await run_validator([self.binary, "-c", "-f", cfg_path], cwd, "haproxy -c")

    def stop_stale(self) -> None:
        """Stop a master left behind by an earlier agent run on this runtime dir."""
        stop_stale_master(self.pid_file, self.master_sock, "haproxy")

    async def start(self) -> None:
        """Start the master and wait until it reports a worker; raise HaproxyError otherwise."""
        if self.running:
            return
        self._ensure_chroot()
        offset = self._log.size()
        argv = [self.binary, "-W", "-S", self.master_sock, "-f", self.main_cfg, "-p", self.pid_file]
        with self._log.open() as log_fh:
            # Popen from the event loop thread: PDEATHSIG fires when the forking *thread* exits.
            self._proc = subprocess.Popen(
                argv,
                cwd=self.runtime_dir,
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent(os.getpid()),
            )
        log.info("started haproxy master pid %d", self._proc.pid)
        deadline = time.monotonic() + START_TIMEOUT
        pause = _FIRST_POLL
        while time.monotonic() < deadline:
            if not self.running:
                self._proc = None
                raise HaproxyError(f"haproxy exited at start: {self._log.since(offset)}")
            table = await self._show_proc()
            if table is not None and table.workers:
                return
            await asyncio.sleep(pause)
            pause = min(_LAST_POLL, pause * 2)
        await self.stop()
        raise HaproxyError(f"haproxy did not start in {START_TIMEOUT}s: {self._log.since(offset)}")

    async def _show_proc(self) -> stats.ProcTable | None:
        try:
            return stats.parse_show_proc(await stats.runtime_command(self.master_sock, "show proc"))
        except (OSError, TimeoutError, ValueError):
            return None

    async def runtime_commands(self, commands: list[str]) -> list[str]:
        """Commands on the admin stats socket, on one connection (a runtime plan's, runtime.py);
        their answers."""
        return await stats.runtime_commands(self.stats_sock, commands)

    async def save_server_state(self) -> None:
        """Dump member health so the next worker starts from it (load-server-state-from-file),
        but for servers it could never bring back up, and without what the config decides
        (stats.restorable_server_state). Called with conf/ already holding the config the reload
        loads."""
        try:
            state = await stats.runtime_command(self.stats_sock, "show servers state")
        except (OSError, TimeoutError) as exc:
            log.warning("could not dump server state: %s", exc)
            return
        try:
            with open(self.main_cfg) as fh:
                cfg = fh.read()
            checked, configured = stats.checked_servers(cfg), stats.configured_servers(cfg)
        except OSError:
            checked, configured = set(), None
        state = stats.restorable_server_state(state, checked, configured)
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(state)
        os.replace(tmp, self.state_file)

    async def reload(self) -> None:
        """Hitless reload (SIGUSR2); wait for a new worker, or the master reporting a failure."""
        if not self.running:
            await self.start()
            return
        before = await self._show_proc()
        if before is None:
            raise HaproxyError("haproxy master CLI does not answer; cannot reload safely")
        await self.save_server_state()
        self._ensure_chroot()
        offset = self._log.size()
        self._proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + RELOAD_TIMEOUT
        pause = _FIRST_POLL
        while time.monotonic() < deadline:
            await asyncio.sleep(pause)
            pause = min(_LAST_POLL, pause * 2)
            if not self.running:
                self._proc = None
                raise HaproxyError(f"haproxy master exited on reload: {self._log.since(offset)}")
            now = await self._show_proc()
            if now is None or now.master_reloads <= before.master_reloads:
                continue  # master is still re-executing
            if now.master_failed > 0:
                raise HaproxyError(f"haproxy reload failed: {self._log.since(offset)}")
            if set(now.workers) - set(before.workers):
                return
        raise HaproxyError(
            f"haproxy reload not confirmed in {RELOAD_TIMEOUT}s: {self._log.since(offset)}"
        )

    async def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # the master stops its workers
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.info("haproxy master %d stopped", proc.pid)
