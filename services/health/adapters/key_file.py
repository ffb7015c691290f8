"""The master heartbeat key file, re-read when it changes (keys are rotated by editing it)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from services.health.domain.envelope import KeyRing, parse_key_file

log = logging.getLogger(__name__)


class KeyFile:
    """Callable returning the current KeyRing; checks the file's mtime at most once a second.

    A missing or invalid file keeps the last good keys (none at first) and is logged, so the
    service can start before the orchestrator writes the file.
    """

    def __init__(self, path: Path, check_interval: float = 1.0):
        self._path = path
        self._check_interval = check_interval
        self._ring = KeyRing(keys={})
        self._stamp: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._missing = False
        self._reload()

    def __call__(self) -> KeyRing:
        now = time.monotonic()
        if now - self._checked_at >= self._check_interval:
            self._reload()
        return self._ring

    def _reload(self) -> None:
        self._checked_at = time.monotonic()
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            if not self._missing:
                log.warning("heartbeat key file %s does not exist (yet)", self._path)
            self._missing = True
            self._stamp = None
            return
        self._missing = False
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            ring = parse_key_file(self._path.read_text())
        except (OSError, ValueError) as err:
            log.error("heartbeat key file %s not loaded, keeping old keys: %s", self._path, err)
            return
        self._ring = ring
        log.info("loaded %d heartbeat key(s) from %s", len(ring.keys), self._path)
