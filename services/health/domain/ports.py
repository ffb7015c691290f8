"""What the health service needs from the orchestrator and from its database; adapters implement
it. Both raise services.common.errors.DomainError subclasses (NotFound, Unavailable, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lbaas.common.v1 import graph_pb2

from services.health.domain.batch import Beat
from services.health.domain.rollup import ObjectStatus

Counters = tuple[int, int, int, int, int]  # active, bytes_in, bytes_out, request_errors, total


@dataclass(frozen=True)
class AmphoraView:
    """An amphora as the orchestrator records it."""

    amphora_id: str
    loadbalancer_id: str  # "" for a spare
    applied_config_hash: str  # what the orchestrator last pushed and saw applied
    status: str  # BOOTING, ALLOCATED, READY, ERROR, PENDING_DELETE


class Orchestrator(Protocol):
    async def amphora(self, amphora_id: str) -> AmphoraView: ...

    async def get_loadbalancer(self, loadbalancer_id: str) -> graph_pb2.LoadBalancer: ...

    async def set_operating_statuses(
        self, loadbalancer_id: str, amphora_id: str, statuses: Sequence[ObjectStatus]
    ) -> None: ...

    async def failover_amphora(self, amphora_id: str) -> bool:
        """Asks for the automatic failover of a stale amphora; True when this call claimed it."""
        ...

    async def configure_amphora(self, amphora_id: str) -> bool:
        """Asks for the amphora's config to be pushed again (drift); True when accepted."""
        ...


@dataclass(frozen=True)
class HealthRow:
    amphora_id: str
    last_seen: float  # seconds since the epoch (the database's clock)
    last_sequence: int
    applied_config_hash: str
    stale: bool
    boot_id: str = ""
    applied_renderer_version: str = ""


@dataclass(frozen=True)
class Fleet:
    """How many amphorae have a health row, which are silent past the stale window (oldest
    first), and how many are silent past the suspect window (a shorter one: amphorae silenced
    together all pass it before the first of them goes stale)."""

    total: int
    stale: tuple[str, ...]
    suspect: int = 0


@dataclass(frozen=True)
class ListenerTotals:
    listener_id: str
    counters: Counters
    amphorae: int  # how many amphorae reported it
    amphora_id: str  # one of them


@dataclass(frozen=True)
class ReplayState:
    amphora_id: str
    boot_id: str
    sequence: int
    sent_at: float


class HeartbeatStore(Protocol):
    async def write(self, beats: Sequence[Beat], gone: Sequence[str] = ()) -> object:
        """Writes the batch; gone: amphorae that left (their rows are deleted)."""
        ...


class HealthStore(HeartbeatStore, Protocol):
    async def replay_state(self) -> list[ReplayState]: ...

    async def fleet(self, stale_after: float, suspect_after: float = 0.0) -> Fleet: ...

    async def forget(self, amphora_id: str) -> None: ...

    async def get(self, amphora_id: str, stale_after: float) -> HealthRow | None: ...

    async def all(self, stale_after: float) -> list[HealthRow]: ...

    async def listener_totals(
        self, listener_ids: Sequence[str], stale_after: float
    ) -> dict[str, ListenerTotals]: ...

    async def amphora_totals(
        self, amphora_id: str, stale_after: float
    ) -> list[tuple[str, Counters]]: ...
