"""lbaas.health.v1.HealthService: amphora health and statistics (from the database), and the
state of automatic failover (from this replica's gate)."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.health.v1 import health_service_pb2 as pb
from lbaas.health.v1 import health_service_pb2_grpc as pb_grpc
from lbaas.health.v1 import stats_pb2

from services.common.errors import InvalidInput, NotFound
from services.health.domain.failover import FailoverGate
from services.health.domain.ports import Counters, HealthRow, HealthStore
from services.health.domain.watch import StaleWatch


def _timestamp(seconds: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def _encode(row: HealthRow) -> pb.AmphoraHealth:
    return pb.AmphoraHealth(
        amphora_id=row.amphora_id,
        last_seen=_timestamp(row.last_seen),
        last_sequence=row.last_sequence,
        applied_config_hash=row.applied_config_hash,
        stale=row.stale,
        boot_id=row.boot_id,
        applied_renderer_version=row.applied_renderer_version,
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


class HealthServicer(pb_grpc.HealthServiceServicer):
    def __init__(
        self,
        store: HealthStore,
        *,
        stale_after: float,
        gate: FailoverGate,
        watch: StaleWatch,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ):
        self._store = store
        self._stale_after = stale_after
        self._gate = gate
        self._watch = watch
        self._monotonic = monotonic
        self._wall = wall

    async def GetAmphoraHealth(
        self, request: pb.GetAmphoraHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAmphoraHealthResponse:
        if not request.amphora_id:
            raise InvalidInput("amphora_id is required", field="amphora_id")
        row = await self._store.get(request.amphora_id, self._stale_after)
        if row is None:
            raise NotFound(f"no heartbeat has been received from amphora {request.amphora_id}")
        return pb.GetAmphoraHealthResponse(health=_encode(row))

    async def ListAmphoraHealth(
        self, request: pb.ListAmphoraHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAmphoraHealthResponse:
        rows = await self._store.all(self._stale_after)
        return pb.ListAmphoraHealthResponse(amphorae=[_encode(row) for row in rows])

    async def GetListenerStats(
        self, request: pb.GetListenerStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetListenerStatsResponse:
        """One entry per requested listener, summed over every amphora that ever reported it
        (replaced ones included, so totals survive a failover); active connections only from
        amphorae heard from within the stale window. Zeros for a listener never reported."""
        totals = await self._store.listener_totals(list(request.listener_ids), self._stale_after)
        entries = []
        for listener_id in request.listener_ids:
            found = totals.get(listener_id)
            entries.append(
                stats_pb2.ListenerStatsEntry(
                    listener_id=listener_id,
                    amphora_id=found.amphora_id if found and found.amphorae == 1 else "",
                    stats=_stats(found.counters if found else (0, 0, 0, 0, 0)),
                )
            )
        return pb.GetListenerStatsResponse(listeners=entries)

    async def GetAmphoraStats(
        self, request: pb.GetAmphoraStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAmphoraStatsResponse:
        """The listeners the amphora reported; empty for one never heard from."""
        if not request.amphora_id:
            raise InvalidInput("amphora_id is required", field="amphora_id")
        rows = await self._store.amphora_totals(request.amphora_id, self._stale_after)
        return pb.GetAmphoraStatsResponse(
            listeners=[
                stats_pb2.ListenerStatsEntry(
                    listener_id=listener_id, amphora_id=request.amphora_id, stats=_stats(counters)
                )
                for listener_id, counters in rows
            ]
        )

    async def GetFailoverStatus(
        self, request: pb.GetFailoverStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetFailoverStatusResponse:
        now = self._monotonic()
        wall = self._wall()
        state = self._gate.status(now)
        policy = self._gate.policy
        out = pb.FailoverStatus(
            breaker_open=state.breaker_open,
            stale_amphorae=state.stale,
            amphorae=state.total,
            threshold_count=policy.threshold_count,
            threshold_percent=policy.threshold_percent,
            reason=state.reason,
            stale_after_seconds=self._stale_after,
            failovers_requested=self._watch.requested,
            failovers_claimed=self._watch.claimed,
        )
        if state.breaker_opened_at is not None:
            out.breaker_opened_at.CopyFrom(_timestamp(wall - (now - state.breaker_opened_at)))
        if state.hold_off_until > now:
            out.hold_off_until.CopyFrom(_timestamp(wall + (state.hold_off_until - now)))
        return pb.GetFailoverStatusResponse(status=out)
