"""lbaas.health.v1.HealthService: read access to the amphora health registry."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.health.v1 import health_service_pb2 as pb
from lbaas.health.v1 import health_service_pb2_grpc as pb_grpc
from lbaas.health.v1 import stats_pb2

from services.common.errors import InvalidInput, NotFound
from services.health.domain.registry import ZERO, AmphoraHealth, Counters, HealthRegistry


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


def _stats(counters: Counters) -> stats_pb2.Stats:
    active, bytes_in, bytes_out, errors, total = counters
    return stats_pb2.Stats(
        active_connections=active,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        request_errors=errors,
        total_connections=total,
    )


def _sum(rows: list[tuple[str, Counters]]) -> Counters:
    total = ZERO
    for _, counters in rows:
        total = tuple(a + b for a, b in zip(total, counters, strict=True))  # type: ignore[assignment]
    return total


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

    async def GetListenerStats(
        self, request: pb.GetListenerStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetListenerStatsResponse:
        """One entry per requested listener, summed over the amphorae that reported it; zeros
        for a listener no amphora has reported (a new one, or one on never-heard amphorae)."""
        entries = []
        for listener_id in request.listener_ids:
            rows = self._registry.listener_counters(listener_id)
            entries.append(
                stats_pb2.ListenerStatsEntry(
                    listener_id=listener_id,
                    amphora_id=rows[0][0] if len(rows) == 1 else "",
                    stats=_stats(_sum(rows)),
                )
            )
        return pb.GetListenerStatsResponse(listeners=entries)

    async def GetAmphoraStats(
        self, request: pb.GetAmphoraStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAmphoraStatsResponse:
        """The listeners the amphora last reported; empty for one never heard from."""
        if not request.amphora_id:
            raise InvalidInput("amphora_id is required", field="amphora_id")
        row = self._registry.get(request.amphora_id)
        if row is None:
            return pb.GetAmphoraStatsResponse()
        return pb.GetAmphoraStatsResponse(
            listeners=[
                stats_pb2.ListenerStatsEntry(
                    listener_id=listener_id, amphora_id=row.amphora_id, stats=_stats(counters)
                )
                for listener_id, counters in row.listener_counters
            ]
        )
