"""The health service's gRPC server (HealthService plus grpc.health.v1 and reflection)."""

from __future__ import annotations

import grpc
from lbaas.health.v1 import health_service_pb2, health_service_pb2_grpc

from services.common.internal_tls import InternalTLS
from services.common.server import ServiceBinding, full_name, start_server
from services.health.domain.failover import FailoverGate
from services.health.domain.ports import HealthStore
from services.health.domain.watch import StaleWatch
from services.health.handlers.health_service import HealthServicer


async def serve(
    store: HealthStore,
    address: str,
    *,
    stale_after: float,
    gate: FailoverGate,
    watch: StaleWatch,
    tls: InternalTLS | None = None,
) -> tuple[grpc.aio.Server, int]:
    binding = ServiceBinding(
        servicer=HealthServicer(store, stale_after=stale_after, gate=gate, watch=watch),
        add_to_server=health_service_pb2_grpc.add_HealthServiceServicer_to_server,
        full_name=full_name(health_service_pb2, "HealthService"),
    )
    return await start_server([binding], address, tls=tls)
