"""What the health service needs from the orchestrator; adapters implement it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lbaas.common.v1 import graph_pb2

from services.health.domain.rollup import ObjectStatus


class Orchestrator(Protocol):
    """Raises services.common.errors.DomainError (NotFound, Unavailable, ...) on failure."""

    async def loadbalancer_of_amphora(self, amphora_id: str) -> str:
        """The id of the load balancer the amphora serves ('' when it serves none yet)."""
        ...

    async def get_loadbalancer(self, loadbalancer_id: str) -> graph_pb2.LoadBalancer: ...

    async def set_operating_statuses(
        self, loadbalancer_id: str, amphora_id: str, statuses: Sequence[ObjectStatus]
    ) -> None: ...
