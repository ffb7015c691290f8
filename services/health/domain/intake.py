"""The gate every datagram passes: verify, check field sizes, reject replays, count drops, keep
for the next database write, hand on to the status reporter."""

from __future__ import annotations

import logging
from collections.abc import Callable

from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.amphora_keys import AmphoraKeys
from services.health.domain.batch import PendingBeats
from services.health.domain.drops import DropRecorder
from services.health.domain.envelope import KeyRing, Rejected, RejectReason, open_signed
from services.health.domain.replay import ReplayGuard

log = logging.getLogger(__name__)

# Longest id, hash or version string a heartbeat may carry (the database columns' size).
MAX_TEXT = 64
_MAX_SEQUENCE = 2**63 - 1
# Heartbeats accepted with the master key (accept_master_key) are logged at most this often.
_MASTER_LOG_INTERVAL = 10.0


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
        amphora_keys: AmphoraKeys | None = None,
        accept_master_key: bool = False,
    ):
        """keyring: the master keys; each amphora's own are derived from them (amphora_keys).
        accept_master_key: also accept heartbeats signed with a master key itself (agents from
        before per-amphora keys), counted and logged; a transitional setting, off by default."""
        self._keyring = keyring
        self._amphora_keys = amphora_keys if amphora_keys is not None else AmphoraKeys()
        self._accept_master = accept_master_key
        self._replay = replay
        self._pending = pending
        self._drops = drops
        self._on_accepted = on_accepted
        self._wall = wall_clock
        self._monotonic = monotonic_clock
        self.accepted = 0
        # Accepted with a master key (accept_master_key only).
        self.master_signed = 0
        self._master_logged_at = float("-inf")

    def receive(self, datagram: bytes, source: str) -> heartbeat_pb2.Heartbeat | None:
        now = self._wall()
        try:
            heartbeat, payload, master_signed = open_signed(
                datagram, self._keyring(), self._amphora_keys, accept_master=self._accept_master
            )
            check_sizes(heartbeat)
            self._replay.admit(heartbeat, now)
        except Rejected as rejected:
            self._drops.record(rejected, source, self._monotonic())
            return None
        if master_signed:
            self._master_signed(heartbeat.amphora_id, source)
        self.accepted += 1
        self._pending.add(heartbeat, payload)
        self._on_accepted(heartbeat)
        return heartbeat

    def _master_signed(self, amphora_id: str, source: str) -> None:
        self.master_signed += 1
        now = self._monotonic()
        if now - self._master_logged_at >= _MASTER_LOG_INTERVAL:
            self._master_logged_at = now
            log.warning(
                "accepted a heartbeat of amphora %s from %s signed with the master key (%d so "
                "far): its agent predates per-amphora keys; replace it, then turn "
                "LBAAS_HEALTH_ACCEPT_MASTER_KEY off",
                amphora_id,
                source,
                self.master_signed,
            )
