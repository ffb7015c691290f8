"""When silence means a dead amphora: the circuit breaker and the hold-off.

Plain rules, no I/O. A stale amphora (silent past the stale window) is failed over once it has
stayed stale for `confirm_after` (one more check), unless
  - the breaker is open: too many amphorae are silent at once (at least `threshold_count` of
    them and at least `threshold_percent` of the fleet), which is a network or database problem,
    not dead appliances (Octavia's failover_threshold, here also relative to the fleet);
  - the gate holds off: for one full stale window after this replica started, after anything
    that kept it from seeing heartbeats (its database writes or reads failed, or it stalled),
    and after the breaker closed, so that amphorae get a whole window to be heard from again.

Why the breaker counts suspects: amphorae that fall silent together (a switch, a partition) do
not go stale together. Their last heartbeats were spread over a heartbeat interval, and were
written with different delays, so they cross the stale window over several checks; counting
only the stale ones, the check that sees the first of them below the thresholds fails those
over and the breaker opens a check too late (with 300 of 1,000 amphorae silenced at once, 171
of them were failed over that way: tests/integration/health/test_fleet.py). So the breaker
counts the amphorae silent past the suspect window (half the stale window, more than a
heartbeat interval): by the time the first of a group silenced together is stale, all of them
are suspects. A stale amphora must also be stale at two checks in a row before its failover.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakerPolicy:
    threshold_count: int = 3
    threshold_percent: float = 20.0

    def trips(self, stale: int, total: int) -> bool:
        """Both thresholds must be reached: threshold_percent=0 makes it a plain count,
        threshold_count=1 a plain share."""
        if stale == 0 or stale < self.threshold_count or total <= 0:
            return False
        return stale * 100.0 >= self.threshold_percent * total


@dataclass(frozen=True)
class GateStatus:
    breaker_open: bool
    stale: int
    total: int
    breaker_opened_at: float | None  # monotonic
    hold_off_until: float  # monotonic
    reason: str  # why failovers are held back now; "" when they are not


class FailoverGate:
    """Fed one fleet count per tick (decide) and every interruption (interrupt); answers which
    stale amphorae may be failed over now. `now` is a monotonic clock reading."""

    def __init__(
        self, policy: BreakerPolicy, stale_after: float, now: float, confirm_after: float = 0.0
    ):
        self._policy = policy
        self._window = stale_after
        self._confirm = confirm_after
        # When each amphora stale now was first seen stale (since then without a break).
        self._stale_since: dict[str, float] = {}
        self._open_since: float | None = None
        self._hold_off_until = now + stale_after
        self._hold_reason = "the health service started"
        self._stale = 0
        self._silent = 0
        self._total = 0

    def interrupt(self, now: float, why: str) -> None:
        """Something kept this replica from seeing heartbeats: no failover for a full window."""
        until = now + self._window
        if until > self._hold_off_until:
            if now >= self._hold_off_until:
                log.warning("automatic failover held off for %.1fs: %s", self._window, why)
            self._hold_off_until = until
            self._hold_reason = why

    def decide(self, now: float, stale: list[str], total: int, suspect: int = 0) -> list[str]:
        """The stale amphorae to fail over now: none while the breaker is open or the gate
        holds off, else those stale for at least confirm_after. suspect: how many amphorae
        are silent past the suspect window (the stale ones among them)."""
        silent = max(suspect, len(stale))
        self._stale, self._silent, self._total = len(stale), silent, total
        since = {a: self._stale_since.get(a, now) for a in stale}
        self._stale_since = since
        if self._policy.trips(silent, total):
            if self._open_since is None:
                self._open_since = now
                log.error(
                    "failover circuit breaker OPEN: %d of %d amphorae are silent at once "
                    "(thresholds: %d amphorae and %.0f%% of the fleet); no amphora is failed "
                    "over until they are heard from again (a network or database problem?)",
                    silent,
                    total,
                    self._policy.threshold_count,
                    self._policy.threshold_percent,
                )
            return []
        if self._open_since is not None:
            log.warning(
                "failover circuit breaker closed after %.1fs: %d of %d amphorae silent",
                now - self._open_since,
                silent,
                total,
            )
            self._open_since = None
            self.interrupt(now, "the failover circuit breaker just closed")
        if now < self._hold_off_until:
            return []
        return [a for a in stale if now - since[a] >= self._confirm]

    def holds_off(self, now: float) -> bool:
        """True while failovers wait out a hold-off (the breaker aside): what this replica read
        may miss heartbeats."""
        return now < self._hold_off_until

    def status(self, now: float) -> GateStatus:
        if self._open_since is not None:
            reason = (
                f"circuit breaker open: {self._silent} of {self._total} amphorae are silent "
                f"(thresholds {self._policy.threshold_count} amphorae and "
                f"{self._policy.threshold_percent:g}%)"
            )
        elif now < self._hold_off_until:
            reason = f"holding off after: {self._hold_reason}"
        else:
            reason = ""
        return GateStatus(
            breaker_open=self._open_since is not None,
            stale=self._stale,
            total=self._total,
            breaker_opened_at=self._open_since,
            hold_off_until=self._hold_off_until,
            reason=reason,
        )

    @property
    def policy(self) -> BreakerPolicy:
        return self._policy
