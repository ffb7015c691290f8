"""keepalived beside the load-balancing process: this amphora's half of an ACTIVE_STANDBY pair.

An applied config that contains keepalived.conf runs keepalived as the agent's child, in the
foreground and VRRP-only:
    keepalived -n -l -P -f {run}/conf/keepalived.conf -p {run}/keepalived.pid -r {run}/vrrp.pid
so it lives in the agent's network namespace, logs to {run}/keepalived.log and gets SIGTERM when
the agent dies (PDEATHSIG). Without -D (detailed log) it still logs every state change, start
and reload, but not the gratuitous ARPs a MASTER repeats every few seconds, which would grow
the log by megabytes a day. On SIGTERM keepalived removes the VIP and sends a priority-0 advert,
so the peer takes the VIP at once instead of after three missed adverts. A reload is SIGHUP
(keepalived re-reads conf/keepalived.conf; the VRRP state is kept). While keepalived is wanted
and exits anyway, it is started again: at once, then backing off up to RESTART_MAX when it keeps
dying (a keepalived killed with SIGKILL leaves the VIP on the interface; the new one removes it
at start and negotiates again with the peer).
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

log = logging.getLogger(__name__)

CONFIG_FILE = "keepalived.conf"
# keepalived's vrrp_script (the renderer's vrrp.CHECK_SCRIPT_PATH); keepalived.conf runs it as
# `/bin/sh {run}/conf/check_haproxy.sh`, so sh reads it afresh on every run.
CHECK_SCRIPT = "check_haproxy.sh"
# The files of an applied config that only keepalived reads. A new config that differs from the
# applied one in these files alone is applied to keepalived alone (the applier does not reload
# haproxy for it).
ONLY_FILES = frozenset({CONFIG_FILE, CHECK_SCRIPT})
START_TIMEOUT = 10.0
RELOAD_TIMEOUT = 10.0
# How often the supervisor looks at the process, the first restart delay and its ceiling; a
# process that stayed up STABLE_AFTER seconds is restarted at once again.
WATCH_INTERVAL = 0.1
RESTART_FIRST, RESTART_MAX, STABLE_AFTER = 0.1, 10.0, 30.0
# keepalived 2.x logs these once a start or a reload is done.
_STARTED = "Startup complete"
_RELOADED = "Reload complete"


def probe_version(binary: str) -> str:
    """keepalived's version ("2.2.7"), "" when it is not installed."""
    if not binary:
        return ""
    found = re.search(r"Keepalived v(\d+\.\d+\.\d+)", run_text([binary, "--version"]))
    return found.group(1) if found else ""


class KeepalivedError(ProcessError):
    """keepalived failed to start or reload; str() is the operator detail."""


class Keepalived:
    """One keepalived (VRRP only) reading {runtime_dir}/conf/keepalived.conf, supervised."""

    def __init__(self, binary: str, runtime_dir: str, *, local_logs: bool = True) -> None:
        self.binary = binary  # "" when keepalived is not installed
        self.runtime_dir = runtime_dir
        self.config = os.path.join(runtime_dir, "conf", CONFIG_FILE)
        self.pid_file = os.path.join(runtime_dir, "keepalived.pid")
        self.vrrp_pid_file = os.path.join(runtime_dir, "vrrp.pid")
        self.log_file = os.path.join(runtime_dir, "keepalived.log")
        self._log = process_log(self.log_file, local_logs)  # memory: local storage off
        self._proc: subprocess.Popen | None = None
        self._started_at = 0.0
        self._wanted = False
        self._watch: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.restarts = 0

    @property
    def available(self) -> bool:
        return bool(self.binary)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def wanted(self) -> bool:
        return self._wanted

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        if not self.available:
            return False, "the config has keepalived.conf but keepalived is not installed"
        # -t also checks that the interfaces exist: the agent runs in the amphora's namespace.
        return await run_validator([self.binary, "-t", "-f", cfg_path], cwd, "keepalived -t")

    def stop_stale(self) -> None:
        """Stop a keepalived left behind by an earlier agent run on this runtime dir."""
        stop_stale_master(self.pid_file, self.pid_file, "keepalived")

    async def start(self) -> None:
        """Start keepalived (if it is not running) and keep it running until stop()."""
        if not self.available:
            raise KeepalivedError("keepalived is not installed")
        self._wanted = True
        if self._watch is None or self._watch.done():
            self._watch = asyncio.create_task(self._supervise())
        async with self._lock:
            if not self.running:
                await self._spawn()

    async def reload(self) -> None:
        """SIGHUP: re-read conf/keepalived.conf; start it when it is not running."""
        if not self.running:
            await self.start()
            return
        async with self._lock:
            if not self.running:
                await self._spawn()
                return
            assert self._proc is not None
            offset = self._log.size()
            self._proc.send_signal(signal.SIGHUP)
            await self._await_log(_RELOADED, offset, RELOAD_TIMEOUT, "reload")

    async def stop(self, timeout: float = 5.0) -> None:
        self._wanted = False
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
        async with self._lock:
            proc, self._proc = self._proc, None
            if proc is None or proc.poll() is not None:
                return
            proc.terminate()  # keepalived removes the VIP and tells the peer (priority 0)
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.info("keepalived %d stopped", proc.pid)

    # -- internals ---------------------------------------------------------------------------

    async def _spawn(self) -> None:
        offset = self._log.size()
        argv = [self.binary, "-n", "-l", "-P", "-f", self.config,
                "-p", self.pid_file, "-r", self.vrrp_pid_file]  # fmt: skip
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
        self._started_at = time.monotonic()
        log.info("started keepalived pid %d", self._proc.pid)
        await self._await_log(_STARTED, offset, START_TIMEOUT, "start")

    async def _await_log(self, line: str, offset: int, timeout: float, what: str) -> None:
        """Wait until keepalived logs `line` after offset; raise if it exits first. A build that
        does not log it is taken as done when it is still running at the deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                self._proc = None
                raise KeepalivedError(f"keepalived exited at {what}: {self._log.since(offset)}")
            if line in self._log.since(offset):
                return
            await asyncio.sleep(0.02)
        if not self.running:
            raise KeepalivedError(f"keepalived exited at {what}: {self._log.since(offset)}")
        log.warning("keepalived did not confirm its %s in %ss; it is running", what, timeout)

    async def _supervise(self) -> None:
        delay = RESTART_FIRST
        while self._wanted:
            await asyncio.sleep(WATCH_INTERVAL)
            if self.running or not self._wanted:
                continue
            if time.monotonic() - self._started_at > STABLE_AFTER:
                delay = RESTART_FIRST
            code = self._proc.returncode if self._proc is not None else None
            log.warning("keepalived exited (status %s); starting it again in %.1fs", code, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_MAX)
            async with self._lock:
                if not self._wanted or self.running:
                    continue
                self.restarts += 1
                try:
                    await self._spawn()
                except KeepalivedError as exc:
                    log.error("keepalived did not start again: %s", exc)
