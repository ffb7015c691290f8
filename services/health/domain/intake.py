"""The gate every datagram passes: verify, reject replays, count drops, record, hand on."""

from __future__ import annotations

from collections.abc import Callable

from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.drops import DropRecorder
from services.health.domain.envelope import KeyRing, Rejected, open_envelope
from services.health.domain.registry import HealthRegistry
from services.health.domain.replay import ReplayGuard


class HeartbeatIntake:
    """Synchronous and cheap, so it can run inside the UDP callback without blocking it."""

    def __init__(
        self,
        *,
        keyring: Callable[[], KeyRing],
        replay: ReplayGuard,
        registry: HealthRegistry,
        drops: DropRecorder,
        on_accepted: Callable[[heartbeat_pb2.Heartbeat], None],
        wall_clock: Callable[[], float],
        monotonic_clock: Callable[[], float],
    ):
        self._keyring = keyring
        self._replay = replay
        self._registry = registry
        self._drops = drops
        self._on_accepted = on_accepted
        self._wall = wall_clock
        self._monotonic = monotonic_clock

    def receive(self, datagram: bytes, source: str) -> heartbeat_pb2.Heartbeat | None:
        now = self._wall()
        try:
            heartbeat = open_envelope(datagram, self._keyring())
            self._replay.admit(heartbeat, now)
        except Rejected as rejected:
            self._drops.record(rejected, source, self._monotonic())
            return None
        self._registry.record(heartbeat, wall=now, monotonic=self._monotonic())
        self._on_accepted(heartbeat)
        return heartbeat
