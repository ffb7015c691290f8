"""Counts of dropped datagrams per reason, with a rate-limited warning log."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from services.health.domain.envelope import Rejected, RejectReason

log = logging.getLogger(__name__)


@dataclass
class DropCounts:
    unparseable: int = 0
    bad_version: int = 0
    unknown_key: int = 0
    bad_hmac: int = 0
    master_key: int = 0
    replay: int = 0
    out_of_window: int = 0

    def total(self) -> int:
        return sum(getattr(self, reason.value) for reason in RejectReason)


@dataclass
class DropRecorder:
    """Counts each rejection; logs at most one warning per reason every log_interval seconds."""

    log_interval: float = 10.0
    counts: DropCounts = field(default_factory=DropCounts)
    _last_logged: dict[RejectReason, float] = field(default_factory=dict)
    _suppressed: dict[RejectReason, int] = field(default_factory=dict)

    def record(self, rejected: Rejected, source: str, now: float) -> None:
        reason = rejected.reason
        setattr(self.counts, reason.value, getattr(self.counts, reason.value) + 1)
        last = self._last_logged.get(reason)
        if last is not None and now - last < self.log_interval:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + 1
            return
        suppressed = self._suppressed.pop(reason, 0)
        self._last_logged[reason] = now
        log.warning(
            "dropped heartbeat from %s: %s%s",
            source,
            rejected,
            f" ({suppressed} more {reason.value} drops not logged)" if suppressed else "",
        )
