"""What the applier needs from the load-balancing process it manages (haproxy or nginx)."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import subprocess
import time
from typing import Protocol

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


class ProcessError(Exception):
    """The process failed to start or reload; str() is the operator detail."""


class ManagedProcess(Protocol):
    # The file of an applied config the process is started with, e.g. "haproxy.cfg".
    main_file: str

    @property
    def running(self) -> bool: ...

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        """(ok, validator output) for the config at cfg_path; cwd holds conf -> its directory."""
        ...

    def stop_stale(self) -> None:
        """Stop a process left behind by an earlier agent run on this runtime dir."""
        ...

    async def start(self) -> None: ...

    async def reload(self) -> None:
        """Reload to {runtime_dir}/conf and confirm the new config is live, or raise."""
        ...

    async def stop(self, timeout: float = 5.0) -> None: ...


# -- helpers both process managers use -------------------------------------------------------


def die_with_parent(parent_pid: int):
    """preexec_fn: the master gets SIGTERM (and stops its workers) when the agent dies.

    libc is resolved here, in the parent: the forked child of a threaded process must not dlopen.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def _set() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the agent died before prctl took effect
            os._exit(1)

    return _set


def run_text(argv: list[str]) -> str:
    """stdout + stderr of a short command, "" when it cannot run."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout + done.stderr


async def run_validator(argv: list[str], cwd: str, what: str) -> tuple[bool, str]:
    """(ok, output) of a config check such as `haproxy -c` or `nginx -t`, bounded at 30 s."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False, f"{what} timed out"
    return proc.returncode == 0, out.decode("utf-8", "replace").strip()


class LogTail:
    """Reads what a process wrote to its log since an offset (for error details)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def size(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def since(self, offset: int) -> str:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                return fh.read(16384).decode("utf-8", "replace").strip()
        except OSError:
            return ""


def stop_stale_master(pid_file: str, marker: str, what: str) -> None:
    """SIGTERM the master named in pid_file when its command line contains marker (it was ours,
    left behind by an earlier agent run on this runtime dir), and wait up to 5 s for it."""
    try:
        pid = int(open(pid_file).read().split()[0])
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode("utf-8", "replace")
    except (OSError, ValueError, IndexError):
        return
    if marker in cmdline and pid != os.getpid():
        log.warning("stopping stale %s master %d", what, pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.05)
