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
from pathlib import Path

from services.common.errors import Unavailable
from services.common.heartbeat_keys import HKDF_INFO, derive_amphora_key, parse_key_lines

log = logging.getLogger(__name__)

AGENT_KEY_FILE = "heartbeat.key"
__all__ = ["AGENT_KEY_FILE", "HKDF_INFO", "derive_amphora_key", "parse_master_keys"]


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

    def write(self, amphora_dir: Path, amphora_id: str) -> Path:
        """amphora_dir/heartbeat.key for amphora_id; its path (the agent's --heartbeat-key-file)."""
        path = amphora_dir / AGENT_KEY_FILE
        _replace(path, agent_key_file(self._master(), amphora_id))
        return path

    def sync(self, amphorae_dir: Path) -> int:
        """Rewrites every amphorae_dir/<amphora id>/heartbeat.key that differs from what the
        master file gives now; returns how many were rewritten. Directories without one (an
        agent started by an orchestrator from before per-amphora keys) are left alone."""
        if not amphorae_dir.is_dir():
            return 0
        master = self._master()
        rewritten = 0
        for amphora_dir in sorted(amphorae_dir.iterdir()):
            path = amphora_dir / AGENT_KEY_FILE
            try:
                current = path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                continue
            wanted = agent_key_file(master, amphora_dir.name)
            if current != wanted:
                try:
                    _replace(path, wanted)
                except FileNotFoundError:  # the amphora was deleted meanwhile
                    continue
                rewritten += 1
        if rewritten:
            log.info("heartbeat keys: rewrote %d agent key file(s) after a rotation", rewritten)
        return rewritten
