"""What the applier needs from the load-balancing process it manages (haproxy or nginx)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import logging
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import IO, Protocol

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

    # Optional, haproxy only: `async def runtime_commands(self, commands: list[str]) -> list[str]`
    # sends commands on the engine's runtime API and returns their answers (runtime plans,
    # runtime.py).
    # A process without it has no runtime API: the applier reloads instead.


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


# The CPU priority (nice) of a config check made after a runtime plan took effect (applier.py):
# the traffic the engine serves comes first. Such a check is some 20 ms of CPU (haproxy -c) on
# an amphora of one or two cores, run just as the new servers get their first requests. A check
# before a reload runs at the agent's priority: the change waits for it.
VALIDATOR_NICE = 10
_YIELDING = contextvars.ContextVar("yielding_checks", default=False)


@contextlib.contextmanager
def yielding_checks() -> Iterator[None]:
    """Config checks run inside it (run_validator) yield the CPU: nice VALIDATOR_NICE."""
    token = _YIELDING.set(True)
    try:
        yield
    finally:
        _YIELDING.reset(token)


def lower_priority(pid: int, nice: int = VALIDATOR_NICE) -> None:
    """Sets the CPU priority of the process just started (lowering one's own is always allowed;
    the few instructions it ran before this ran at the agent's)."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError as err:  # gone already (it failed at once): its result tells why
        log.debug("could not lower the priority of %d: %s", pid, err)


async def run_validator(argv: list[str], cwd: str, what: str) -> tuple[bool, str]:
    """(ok, output) of a config check such as `haproxy -c` or `nginx -t`, bounded at 30 s. The
    check is started from a thread by subprocess, which vforks (some 0.2 ms), not by the event
    loop: uvloop's spawn forks the whole agent, 3 to 10 ms of every apply (a check is part of
    each, a runtime plan's too)."""
    return await asyncio.to_thread(_check, argv, cwd, what, _YIELDING.get())


def _check(argv: list[str], cwd: str, what: str, yielding: bool) -> tuple[bool, str]:
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if yielding:
        lower_priority(proc.pid)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return False, f"{what} timed out"
    return proc.returncode == 0, out.decode("utf-8", "replace").strip()


class LogTail:
    """Reads what a process wrote to its log since an offset (for error details)."""

    def __init__(self, path: str) -> None:
        self.path = path

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes] | int]:
        """Where the process's stdout and stderr go (appended to the file)."""
        with open(self.path, "ab") as fh:
            yield fh

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


class MemoryLog:
    """What a process writes to stdout and stderr, kept in memory instead of a file: the last
    `limit` bytes, read from a pipe by a thread of its own (local log storage switched off).
    Offsets count every byte ever written, as a file's size would."""

    def __init__(self, limit: int = 65536) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self._total = 0
        self._lock = threading.Lock()
        self._readers: list[tuple[int, threading.Thread]] = []  # (pipe read end, its reader)

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes] | int]:
        """A pipe's write end for the process being started (closed here once it has its copy)."""
        read_fd, write_fd = os.pipe()
        reader = threading.Thread(target=self._drain, args=(read_fd,), daemon=True)
        reader.start()
        self._readers = [(fd, t) for fd, t in self._readers if t.is_alive()] + [(read_fd, reader)]
        try:
            yield write_fd
        finally:
            os.close(write_fd)

    def _drain(self, read_fd: int) -> None:
        with open(read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                with self._lock:
                    self._buffer += chunk
                    self._total += len(chunk)
                    del self._buffer[: max(0, len(self._buffer) - self._limit)]

    def size(self) -> int:
        with self._lock:
            return self._total

    def _settle(self, timeout: float = 0.05) -> None:
        """Lets the readers take in what is already in their pipes (a process that just exited
        wrote its last words a moment ago); returns at once when nothing is waiting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = False
            for fd, reader in self._readers:
                if not reader.is_alive():
                    continue
                try:
                    waiting = waiting or bool(select.select([fd], [], [], 0)[0])
                except (OSError, ValueError):  # closed by its reader meanwhile
                    continue
            if not waiting:
                return
            time.sleep(0.001)

    def since(self, offset: int) -> str:
        self._settle()
        with self._lock:
            start = self._total - len(self._buffer)
            data = bytes(self._buffer[max(0, offset - start) :][:16384])
        return data.decode("utf-8", "replace").strip()


def process_log(path: str, local: bool) -> LogTail | MemoryLog:
    """The file at path, or memory when local log storage is switched off."""
    return LogTail(path) if local else MemoryLog()


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
