"""lbaas.health.v1.HealthService: read access to the amphora health registry."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.health.v1 import health_service_pb2 as pb
from lbaas.health.v1 import health_service_pb2_grpc as pb_grpc

from services.common.errors import InvalidInput, NotFound
from services.health.domain.registry import AmphoraHealth, HealthRegistry


def _encode(row: AmphoraHealth) -> pb.AmphoraHealth:
    last_seen = Timestamp()
    last_seen.FromNanoseconds(int(row.last_seen * 1e9))
    return pb.AmphoraHealth(
        amphora_id=row.amphora_id,
        last_seen=last_seen,
        last_sequence=row.last_sequence,
        applied_config_hash=row.applied_config_hash,
        stale=row.stale,
    )


class HealthServicer(pb_grpc.HealthServiceServicer):
    def __init__(self, registry: HealthRegistry):
        self._registry = registry

    async def GetAmphoraHealth(
        self, request: pb.GetAmphoraHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAmphoraHealthResponse:
        if not request.amphora_id:
            raise InvalidInput("amphora_id is required", field="amphora_id")
        row = self._registry.get(request.amphora_id)
        if row is None:
            raise NotFound(f"no heartbeat has been received from amphora {request.amphora_id}")
        return pb.GetAmphoraHealthResponse(health=_encode(row))

    async def ListAmphoraHealth(
        self, request: pb.ListAmphoraHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAmphoraHealthResponse:
        return pb.ListAmphoraHealthResponse(amphorae=[_encode(row) for row in self._registry.all()])
