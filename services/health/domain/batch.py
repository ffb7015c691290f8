"""Accepted heartbeats waiting to be written: the newest per amphora, taken a batch at a time.

Heartbeats of one amphora that arrive between two writes replace each other: the newest carries
everything the older ones said (statuses are the current ones, counters are cumulative), so a
batch writes one row per amphora however fast heartbeats arrive.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lbaas.health.v1 import heartbeat_pb2

# Longest id a statistics row holds (its database column's size).
MAX_ID = 64
# (listener id, active connections, bytes in, bytes out, request errors, total connections)
ListenerCounters = tuple[str, int, int, int, int, int]


@dataclass(frozen=True)
class Beat:
    """One amphora's newest heartbeat, as it is written."""

    amphora_id: str
    sent_at: float
    boot_id: str
    sequence: int
    config_hash: str
    renderer_version: str
    report: bytes  # the serialized heartbeat
    listeners: tuple[ListenerCounters, ...]
    generation: int = 0  # the engine run the counters come from (0: unknown)


def beat_of(heartbeat: heartbeat_pb2.Heartbeat, payload: bytes | None = None) -> Beat:
    """payload: the heartbeat as received (saves serializing it again)."""
    seen: dict[str, ListenerCounters] = {}
    for r in heartbeat.listeners:
        # A listener reported twice keeps its last report (one statistics row per listener);
        # an id longer than any the controller gives is not stored.
        if r.listener_id and len(r.listener_id) <= MAX_ID:
            seen[r.listener_id] = (
                r.listener_id,
                r.active_connections,
                r.bytes_in,
                r.bytes_out,
                r.request_errors,
                r.total_connections,
            )
    return Beat(
        amphora_id=heartbeat.amphora_id,
        sent_at=heartbeat.sent_at.seconds + heartbeat.sent_at.nanos / 1e9,
        boot_id=heartbeat.boot_id,
        sequence=heartbeat.sequence,
        config_hash=heartbeat.applied_config_hash,
        renderer_version=heartbeat.applied_renderer_version,
        report=heartbeat.SerializeToString() if payload is None else payload,
        listeners=tuple(seen.values()),
        generation=heartbeat.counters_generation,
    )


Received = tuple[heartbeat_pb2.Heartbeat, bytes]  # a heartbeat and its payload as received


class PendingBeats:
    """The newest accepted heartbeat per amphora since the last take()."""

    def __init__(self) -> None:
        self._newest: dict[str, Received] = {}
        self._leaving: set[str] = set()
        self._count = 0
        # When the oldest heartbeat held now arrived (monotonic; one clock reading per batch,
        # not per heartbeat): the writer's measure of how long heartbeats wait to be written.
        self.oldest_at = 0.0

    def add(self, heartbeat: heartbeat_pb2.Heartbeat, payload: bytes) -> None:
        """heartbeat passed the replay guard, so it is newer than anything held for its amphora.
        A heartbeat with `leaving` set makes the amphora's row go instead."""
        amphora_id = heartbeat.amphora_id
        if not self._count:
            self.oldest_at = time.monotonic()
        self._count += 1
        if heartbeat.leaving:
            self._newest.pop(amphora_id, None)
            self._leaving.add(amphora_id)
            return
        self._leaving.discard(amphora_id)  # started again (recreated under the same id)
        self._newest[amphora_id] = (heartbeat, payload)

    def __len__(self) -> int:
        return len(self._newest) + len(self._leaving)

    def take(self) -> tuple[list[Received], list[str], int]:
        """(the newest heartbeat of each amphora, the amphorae that left, how many heartbeats
        they stand for); empties the buffer."""
        newest, leaving, count = self._newest, self._leaving, self._count
        self._newest, self._leaving, self._count = {}, set(), 0
        return list(newest.values()), sorted(leaving), count

    def put_back(
        self, received: list[Received], leaving: list[str], count: int, oldest_at: float = 0.0
    ) -> None:
        """A batch whose write failed: kept for the next write, except where a newer heartbeat
        of the same amphora arrived meanwhile. oldest_at: when its oldest heartbeat arrived."""
        for item in received:
            amphora_id = item[0].amphora_id
            if amphora_id not in self._leaving:
                self._newest.setdefault(amphora_id, item)
        for amphora_id in leaving:
            if amphora_id not in self._newest:
                self._leaving.add(amphora_id)
        if count and oldest_at:
            self.oldest_at = min(self.oldest_at, oldest_at) if self._count else oldest_at
        self._count += count
