"""The `noop` compute driver (as Octavia's noop compute driver): amphorae that exist only as
records. Nothing is started; every amphora it created is alive until deleted, also across
orchestrator restarts (its compute id says it is a noop amphora). For API tests and benchmarks."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance

log = logging.getLogger(__name__)

_PREFIX = "noop-"
# Nothing listens here: the noop agent client never connects.
_AGENT_HOST = "192.0.2.1"  # TEST-NET-1 (RFC 5737)
_AGENT_PORT = 9443


class NoopComputeDriver:
    async def create_amphora(self, spec: AmphoraSpec) -> ComputeInstance:
        log.debug("noop compute: amphora %s created", spec.amphora_id)
        return ComputeInstance(
            compute_id=f"{_PREFIX}{spec.amphora_id}",
            agent_address=f"{_AGENT_HOST}:{spec.agent_port or _AGENT_PORT}",
            details={"driver": "noop"},
        )

    async def is_alive(self, compute_id: str) -> bool:
        return compute_id.startswith(_PREFIX)

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        log.debug("noop compute: amphora %s deleted", amphora_id)

    async def take_vip(
        self, amphora_id: str, vip_address: str, prefix_length: int, previous: Sequence[str]
    ) -> None:
        """A no-op: noop amphorae hold no addresses."""
