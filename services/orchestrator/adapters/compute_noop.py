"""The `noop` compute driver (as Octavia's noop compute driver): amphorae that exist only as
records. Nothing is started; every amphora it created is alive until deleted, also across
orchestrator restarts (its compute id says it is a noop amphora). For API tests and benchmarks."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Sequence

from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance

log = logging.getLogger(__name__)

_PREFIX = "noop-"
# Nothing listens here: the noop agent client never connects. Each amphora gets an address of
# its own in 198.18.0.0/15 (RFC 2544, benchmarking), as the halves of a pair need distinct ones.
_AGENT_NETWORK = ipaddress.IPv4Network("198.18.0.0/15")
_AGENT_PORT = 9443


def _agent_host(amphora_id: str) -> str:
    digest = int(hashlib.sha256(amphora_id.encode()).hexdigest()[:8], 16)
    return str(_AGENT_NETWORK[1 + digest % (_AGENT_NETWORK.num_addresses - 2)])


class NoopComputeDriver:
    async def create_amphora(self, spec: AmphoraSpec) -> ComputeInstance:
        log.debug("noop compute: amphora %s created", spec.amphora_id)
        return ComputeInstance(
            compute_id=f"{_PREFIX}{spec.amphora_id}",
            agent_address=f"{_agent_host(spec.amphora_id)}:{spec.agent_port or _AGENT_PORT}",
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
