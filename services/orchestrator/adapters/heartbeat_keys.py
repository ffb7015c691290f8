"""The heartbeat key file each amphora agent gets: its own keys, never the controller's.

The controller's key file (LBAAS_HEARTBEAT_KEY_FILE) holds the master keys, which only the
orchestrator and the health service read. Each agent gets <amphora dir>/heartbeat.key in the same
format, with the same key ids in the same order, each key
HKDF-SHA256(master key, salt none, info "lbaas heartbeat v1" || utf8(amphora id)), 32 bytes; the
health service checks a heartbeat with the key derived for the amphora it names
(services/health/domain/amphora_keys.py, pinned to the same definition by a test), so an agent
that is taken over can sign only its own heartbeats.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import Unavailable
from services.common.heartbeat_keys import HKDF_INFO, derive_amphora_key, parse_key_lines

log = logging.getLogger(__name__)

AGENT_KEY_FILE = "heartbeat.key"
__all__ = ["AGENT_KEY_FILE", "HKDF_INFO", "derive_amphora_key", "parse_master_keys"]


@dataclass(frozen=True)
class AgentHeartbeat:
    """What an agent is started with to send heartbeats: every health receiver (host:port), the
    interval in seconds, and its own key file (agent_key_file's bytes, never the master keys).
    Built where the master keys are (the worker); a compute host of its own gets it with each
    create (compute_remote.py)."""

    targets: tuple[str, ...]
    interval: float
    key_file: bytes


def parse_master_keys(text: str) -> list[tuple[str, bytes]]:
    """The controller's key file: at least one '<key_id> <hex key>' line, the first signs."""
    keys = parse_key_lines(text)
    if not keys:
        raise ValueError("no key")
    return keys


def agent_key_file(master: list[tuple[str, bytes]], amphora_id: str) -> bytes:
    """The agent's key file: master's key ids in master's order, each key derived for amphora_id."""
    lines = ["# this amphora's own heartbeat keys, derived from the controller's"]
    lines += [f"{key_id} {derive_amphora_key(key, amphora_id).hex()}" for key_id, key in master]
    return ("\n".join(lines) + "\n").encode()


def _replace(path: Path, data: bytes) -> None:
    """Writes path (0600) in one rename, so an agent re-reading it never sees half a file."""
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def write_agent_key_file(amphora_dir: Path, data: bytes) -> Path:
    """amphora_dir/heartbeat.key (0600, in one rename); its path (--heartbeat-key-file)."""
    path = amphora_dir / AGENT_KEY_FILE
    _replace(path, data)
    return path


def update_agent_key_file(amphora_dir: Path, data: bytes) -> bool:
    """Replaces amphora_dir/heartbeat.key with data unless it holds data already; True when it
    did. An amphora without one (deleted, or its agent is from before per-amphora keys) is left
    alone."""
    path = amphora_dir / AGENT_KEY_FILE
    try:
        if path.read_bytes() == data:
            return False
        _replace(path, data)
    except (FileNotFoundError, NotADirectoryError):  # deleted meanwhile, or not an amphora
        return False
    return True


def agent_key_files(amphorae_dir: Path) -> dict[str, bytes]:
    """amphora id -> its heartbeat.key, for every amphora under amphorae_dir that has one."""
    found: dict[str, bytes] = {}
    if not amphorae_dir.is_dir():
        return found
    for amphora_dir in sorted(amphorae_dir.iterdir()):
        try:
            found[amphora_dir.name] = (amphora_dir / AGENT_KEY_FILE).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            continue
    return found


class AgentHeartbeatKeys:
    """Writes each agent's key file from the master key file, and rewrites them all when the
    master changes (a rotation), which the agents pick up without a restart."""

    def __init__(self, master_file: Path):
        self._master_file = Path(master_file)

    def _master(self) -> list[tuple[str, bytes]]:
        try:
            return parse_master_keys(self._master_file.read_text())
        except (OSError, ValueError) as err:
            raise Unavailable(
                "heartbeat keys are not available",
                operator_detail=f"heartbeat key file {self._master_file}: {err}",
            ) from None

    def agent_file(self, amphora_id: str) -> bytes:
        """The key file amphora_id's agent gets (agent_key_file of the master file now)."""
        return agent_key_file(self._master(), amphora_id)

    def agent_files(self, amphora_ids: Iterable[str]) -> dict[str, bytes]:
        """agent_file of each amphora id, the master file read once."""
        master = self._master()
        return {amphora_id: agent_key_file(master, amphora_id) for amphora_id in amphora_ids}

    def write(self, amphora_dir: Path, amphora_id: str) -> Path:
        """amphora_dir/heartbeat.key for amphora_id; its path (the agent's --heartbeat-key-file)."""
        return write_agent_key_file(amphora_dir, self.agent_file(amphora_id))

    def sync(self, amphorae_dir: Path) -> int:
        """Rewrites every amphorae_dir/<amphora id>/heartbeat.key that differs from what the
        master file gives now; returns how many were rewritten. Directories without one (an
        agent started by an orchestrator from before per-amphora keys) are left alone."""
        if not amphorae_dir.is_dir():
            return 0
        master = self._master()
        rewritten = 0
        for amphora_dir in sorted(amphorae_dir.iterdir()):
            if update_agent_key_file(amphora_dir, agent_key_file(master, amphora_dir.name)):
                rewritten += 1
        if rewritten:
            log.info("heartbeat keys: rewrote %d agent key file(s) after a rotation", rewritten)
        return rewritten
