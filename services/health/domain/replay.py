"""Replay protection: (boot_id, sequence) must move forward and sent_at must be recent.

Within one boot the sequence must strictly increase. A new boot_id resets the sequence, so to keep
an attacker from replaying an older boot's heartbeats, a boot id once superseded is never accepted
again, and a new boot's sent_at may not be older than the last accepted heartbeat's. The sent_at
window bounds how long a captured heartbeat stays interesting at all.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.envelope import Rejected, RejectReason


@dataclass
class _Seen:
    boot_id: str
    sequence: int
    sent_at: float
    retired: deque[str] = field(default_factory=lambda: deque(maxlen=16))


class ReplayGuard:
    def __init__(self, max_clock_skew: float):
        self._skew = max_clock_skew
        self._seen: dict[str, _Seen] = {}

    def admit(self, heartbeat: heartbeat_pb2.Heartbeat, now: float) -> None:
        """Records heartbeat as accepted, or raises Rejected (REPLAY / OUT_OF_WINDOW).

        now is wall-clock seconds since the epoch (the agent stamps sent_at from its own clock).
        """
        if not heartbeat.HasField("sent_at"):
            raise Rejected(RejectReason.OUT_OF_WINDOW, "no sent_at")
        sent_at = heartbeat.sent_at.seconds + heartbeat.sent_at.nanos / 1e9
        if abs(now - sent_at) > self._skew:
            raise Rejected(
                RejectReason.OUT_OF_WINDOW,
                f"amphora {heartbeat.amphora_id}: sent_at is {now - sent_at:+.1f}s off",
            )
        seen = self._seen.get(heartbeat.amphora_id)
        if seen is None:
            self._seen[heartbeat.amphora_id] = _Seen(heartbeat.boot_id, heartbeat.sequence, sent_at)
            return
        if heartbeat.boot_id == seen.boot_id:
            if heartbeat.sequence <= seen.sequence:
                raise Rejected(
                    RejectReason.REPLAY,
                    f"amphora {heartbeat.amphora_id}: sequence {heartbeat.sequence} "
                    f"not after {seen.sequence}",
                )
        else:
            if heartbeat.boot_id in seen.retired:
                raise Rejected(
                    RejectReason.REPLAY, f"amphora {heartbeat.amphora_id}: retired boot id"
                )
            if sent_at < seen.sent_at:
                raise Rejected(
                    RejectReason.REPLAY,
                    f"amphora {heartbeat.amphora_id}: new boot id older than last heartbeat",
                )
            seen.retired.append(seen.boot_id)
            seen.boot_id = heartbeat.boot_id
        seen.sequence = heartbeat.sequence
        seen.sent_at = sent_at

    def seed(self, amphora_id: str, boot_id: str, sequence: int, sent_at: float) -> None:
        """The last heartbeat the database holds for an amphora (at start, so a restart does not
        reopen the replay window); what this guard saw itself wins."""
        self._seen.setdefault(amphora_id, _Seen(boot_id, sequence, sent_at))

    def forget(self, amphora_id: str) -> None:
        self._seen.pop(amphora_id, None)
