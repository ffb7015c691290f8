"""The health service's gRPC server (HealthService plus grpc.health.v1 and reflection)."""

from __future__ import annotations

import grpc
from lbaas.health.v1 import health_service_pb2, health_service_pb2_grpc

from services.common.server import ServiceBinding, full_name, start_server
from services.health.domain.registry import HealthRegistry
from services.health.handlers.health_service import HealthServicer


async def serve(registry: HealthRegistry, address: str) -> tuple[grpc.aio.Server, int]:
    binding = ServiceBinding(
        servicer=HealthServicer(registry),
        add_to_server=health_service_pb2_grpc.add_HealthServiceServicer_to_server,
        full_name=full_name(health_service_pb2, "HealthService"),
    )
    return await start_server([binding], address)
