"""Fixtures for the orchestrator adapter integration tests: temp dirs, the CA, free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.orchestrator.adapters.compute_local import parse_compute_id
from services.orchestrator.adapters.pki import FileCertificateAuthority


@pytest.fixture
def work_dir() -> Iterator[Path]:
    """A temp dir removed at teardown even when the test failed (pytest's tmp_path keeps them)."""
    path = Path(tempfile.mkdtemp(prefix="lbaas-orch-adapters-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def ca(work_dir: Path) -> FileCertificateAuthority:
    return FileCertificateAuthority(work_dir / "ca")


@pytest.fixture
def udp_port() -> int:
    """A UDP port nobody listens on (the heartbeat target of agents under test)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rpartition(")")[2].split()  # [0] is field 3


class ProcessJanitor:
    """Remembers the processes (and their sessions) a test started and SIGKILLs what is left."""

    def __init__(self) -> None:
        self._tracked: dict[int, str] = {}

    def track(self, pid: int) -> None:
        fields = _stat_fields(pid)
        if fields is not None:
            self._tracked[pid] = fields[19]

    def track_compute_id(self, compute_id: str) -> None:
        pid, start = parse_compute_id(compute_id)
        self._tracked[pid] = str(start)

    def cleanup(self) -> None:
        for pid, start in self._tracked.items():
            fields = _stat_fields(pid)
            if fields is not None and fields[19] == start:
                _kill(pid)
            # Whatever is left in its session (a stand-in's "haproxy") is ours too.
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit() and int(entry.name) != pid:
                    member = _stat_fields(int(entry.name))
                    if member is not None and member[3] == str(pid):
                        _kill(int(entry.name))
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def janitor(work_dir: Path) -> Iterator[ProcessJanitor]:
    # Depends on work_dir so that processes are killed before their directories are removed.
    j = ProcessJanitor()
    try:
        yield j
    finally:
        j.cleanup()
