"""Observed amphora health: when each amphora was last heard from, and whether it went stale."""

from __future__ import annotations

from dataclasses import dataclass, replace

from lbaas.health.v1 import heartbeat_pb2


@dataclass(frozen=True)
class AmphoraHealth:
    amphora_id: str
    last_seen: float  # wall clock, seconds since the epoch (what operators see)
    last_seen_monotonic: float  # what staleness is measured with (immune to clock steps)
    last_sequence: int
    boot_id: str
    applied_config_hash: str
    stale: bool = False
    # listener id -> (active_connections, bytes_in, bytes_out, request_errors, total_connections)
    # as last reported by this amphora; kept while the amphora is stale (the last known counters).
    listener_counters: tuple[tuple[str, Counters], ...] = ()


Counters = tuple[int, int, int, int, int]
ZERO: Counters = (0, 0, 0, 0, 0)


def _counters(report: heartbeat_pb2.ListenerReport) -> Counters:
    return (
        report.active_connections,
        report.bytes_in,
        report.bytes_out,
        report.request_errors,
        report.total_connections,
    )


class HealthRegistry:
    def __init__(self) -> None:
        self._rows: dict[str, AmphoraHealth] = {}

    def record(
        self, heartbeat: heartbeat_pb2.Heartbeat, *, wall: float, monotonic: float
    ) -> AmphoraHealth:
        """Records an accepted heartbeat; a stale amphora heard from again is fresh again."""
        row = AmphoraHealth(
            amphora_id=heartbeat.amphora_id,
            last_seen=wall,
            last_seen_monotonic=monotonic,
            last_sequence=heartbeat.sequence,
            boot_id=heartbeat.boot_id,
            applied_config_hash=heartbeat.applied_config_hash,
            listener_counters=tuple(
                (report.listener_id, _counters(report))
                for report in heartbeat.listeners
                if report.listener_id
            ),
        )
        self._rows[row.amphora_id] = row
        return row

    def listener_counters(self, listener_id: str) -> list[tuple[str, Counters]]:
        """(amphora id, counters) for each amphora whose last heartbeat reported the listener."""
        return [
            (row.amphora_id, counters)
            for row in self.all()
            for reported, counters in row.listener_counters
            if reported == listener_id
        ]

    def mark_stale(self, *, monotonic: float, stale_after: float) -> list[AmphoraHealth]:
        """Marks amphorae silent for stale_after seconds as stale; returns the newly stale ones."""
        newly: list[AmphoraHealth] = []
        for amphora_id, row in self._rows.items():
            if not row.stale and monotonic - row.last_seen_monotonic >= stale_after:
                row = replace(row, stale=True)
                self._rows[amphora_id] = row
                newly.append(row)
        return newly

    def get(self, amphora_id: str) -> AmphoraHealth | None:
        return self._rows.get(amphora_id)

    def all(self) -> list[AmphoraHealth]:
        return sorted(self._rows.values(), key=lambda row: row.amphora_id)

    def stale(self) -> list[AmphoraHealth]:
        return [row for row in self.all() if row.stale]

    def forget(self, amphora_id: str) -> None:
        self._rows.pop(amphora_id, None)
