"""The gate every datagram passes: verify, check field sizes, reject replays, count drops, keep
for the next database write, hand on to the status reporter."""

from __future__ import annotations

from collections.abc import Callable

from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.batch import PendingBeats
from services.health.domain.drops import DropRecorder
from services.health.domain.envelope import KeyRing, Rejected, RejectReason, open_signed
from services.health.domain.replay import ReplayGuard

# Longest id, hash or version string a heartbeat may carry (the database columns' size).
MAX_TEXT = 64
_MAX_SEQUENCE = 2**63 - 1


def check_sizes(heartbeat: heartbeat_pb2.Heartbeat) -> None:
    """Raises Rejected (UNPARSEABLE) for a heartbeat whose values cannot be stored as they are
    (a listener id that is too long is left out of the statistics instead: batch.beat_of)."""
    if (
        len(heartbeat.amphora_id) > MAX_TEXT
        or len(heartbeat.boot_id) > MAX_TEXT
        or len(heartbeat.applied_config_hash) > MAX_TEXT
        or len(heartbeat.applied_renderer_version) > MAX_TEXT
        or heartbeat.sequence > _MAX_SEQUENCE
    ):
        raise Rejected(RejectReason.UNPARSEABLE, "a value is longer than it may be")


class HeartbeatIntake:
    """Synchronous and cheap, so it can run inside the UDP callback without blocking it."""

    def __init__(
        self,
        *,
        keyring: Callable[[], KeyRing],
        replay: ReplayGuard,
        pending: PendingBeats,
        drops: DropRecorder,
        on_accepted: Callable[[heartbeat_pb2.Heartbeat], None],
        wall_clock: Callable[[], float],
        monotonic_clock: Callable[[], float],
    ):
        self._keyring = keyring
        self._replay = replay
        self._pending = pending
        self._drops = drops
        self._on_accepted = on_accepted
        self._wall = wall_clock
        self._monotonic = monotonic_clock
        self.accepted = 0

    def receive(self, datagram: bytes, source: str) -> heartbeat_pb2.Heartbeat | None:
        now = self._wall()
        try:
            heartbeat, payload = open_signed(datagram, self._keyring())
            check_sizes(heartbeat)
            self._replay.admit(heartbeat, now)
        except Rejected as rejected:
            self._drops.record(rejected, source, self._monotonic())
            return None
        self.accepted += 1
        self._pending.add(heartbeat, payload)
        self._on_accepted(heartbeat)
        return heartbeat
