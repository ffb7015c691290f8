"""The health-service port the stats and failover-status routes call, its gRPC client, and an
in-memory fake."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import grpc
from lbaas.health.v1 import health_service_pb2 as hpb
from lbaas.health.v1 import health_service_pb2_grpc, stats_pb2

from services.common.errors import DomainError, Unavailable, from_rpc_error
from services.common.internal_tls import HEALTH, InternalTLS, aio_channel

_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


class HealthPort(Protocol):
    """Reads traffic counters and the state of automatic failover; raises
    services.common.errors.DomainError on failure (Unavailable when the service cannot be
    reached)."""

    async def listener_stats(
        self, listener_ids: Sequence[str]
    ) -> list[stats_pb2.ListenerStatsEntry]: ...

    async def amphora_stats(self, amphora_id: str) -> list[stats_pb2.ListenerStatsEntry]: ...

    async def failover_status(self) -> hpb.FailoverStatus: ...

    async def close(self) -> None: ...


class GrpcHealth:
    """HealthPort over grpc.aio; every call carries a deadline."""

    def __init__(self, address: str, timeout: float, *, tls: InternalTLS | None = None):
        self._address = address
        self._tls = tls
        self._timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._stub: health_service_pb2_grpc.HealthServiceStub | None = None

    def _ensure(self) -> health_service_pb2_grpc.HealthServiceStub:
        # Made on first use so that the channel binds to the serving event loop.
        if self._stub is None:
            self._channel = aio_channel(self._address, HEALTH, self._tls, _CHANNEL_OPTIONS)
            self._stub = health_service_pb2_grpc.HealthServiceStub(self._channel)
        return self._stub

    async def listener_stats(
        self, listener_ids: Sequence[str]
    ) -> list[stats_pb2.ListenerStatsEntry]:
        if not listener_ids:
            return []
        request = hpb.GetListenerStatsRequest(listener_ids=list(listener_ids))
        try:
            resp = await self._ensure().GetListenerStats(
                request, timeout=self._timeout, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as err:
            raise from_rpc_error(err) from None
        return list(resp.listeners)

    async def amphora_stats(self, amphora_id: str) -> list[stats_pb2.ListenerStatsEntry]:
        request = hpb.GetAmphoraStatsRequest(amphora_id=amphora_id)
        try:
            resp = await self._ensure().GetAmphoraStats(
                request, timeout=self._timeout, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as err:
            raise from_rpc_error(err) from None
        return list(resp.listeners)

    async def failover_status(self) -> hpb.FailoverStatus:
        try:
            resp = await self._ensure().GetFailoverStatus(
                hpb.GetFailoverStatusRequest(), timeout=self._timeout, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                # A health service from before GetFailoverStatus (a rolling upgrade).
                raise Unavailable(
                    "The failover status is not available from this health service yet.",
                    operator_detail=f"GetFailoverStatus: {err.details()}",
                ) from None
            raise from_rpc_error(err) from None
        return resp.status

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel, self._stub = None, None


class MemoryHealth:
    """A HealthPort for tests: counters set per listener (one entry per amphora allowed), the
    failover status to answer, and an error to raise instead (`error`)."""

    def __init__(self) -> None:
        self.entries: list[stats_pb2.ListenerStatsEntry] = []
        self.calls: list[list[str]] = []
        self.failover = hpb.FailoverStatus()
        self.error: DomainError | None = None

    def add(self, listener_id: str, amphora_id: str = "amp-1", **counters: int) -> None:
        self.entries.append(
            stats_pb2.ListenerStatsEntry(
                listener_id=listener_id, amphora_id=amphora_id, stats=stats_pb2.Stats(**counters)
            )
        )

    async def listener_stats(
        self, listener_ids: Sequence[str]
    ) -> list[stats_pb2.ListenerStatsEntry]:
        self.calls.append(list(listener_ids))
        wanted = set(listener_ids)
        return [e for e in self.entries if e.listener_id in wanted]

    async def amphora_stats(self, amphora_id: str) -> list[stats_pb2.ListenerStatsEntry]:
        return [e for e in self.entries if e.amphora_id == amphora_id]

    async def failover_status(self) -> hpb.FailoverStatus:
        if self.error is not None:
            raise self.error
        out = hpb.FailoverStatus()
        out.CopyFrom(self.failover)
        return out

    async def close(self) -> None:
        return None
