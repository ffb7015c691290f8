"""The orchestrator port the routes call, and its gRPC implementation."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import grpc
from google.protobuf.message import Message
from lbaas.orchestrator.v1 import orchestrator_service_pb2, orchestrator_service_pb2_grpc

from services.common import metrics
from services.common.errors import from_rpc_error
from services.common.internal_tls import ORCHESTRATOR, InternalTLS, aio_channel

# Every RPC of the orchestrator's contract, by name.
ORCHESTRATOR_RPCS = frozenset(
    orchestrator_service_pb2.DESCRIPTOR.services_by_name["OrchestratorService"].methods_by_name
)


class OrchestratorPort(Protocol):
    """Calls one orchestrator RPC by name; raises services.common.errors.DomainError on failure."""

    async def call(self, rpc: str, request: Message) -> Message: ...

    async def close(self) -> None: ...


_SERVICE = orchestrator_service_pb2.DESCRIPTOR.services_by_name["OrchestratorService"].full_name

# RPCs that legitimately outlast the usual deadline: RefreshConfigs returns when a roll over
# every load balancer has finished.
_LONG_RPC_TIMEOUTS = {"RefreshConfigs": 600.0}

# Reconnect quickly after an orchestrator restart (gRPC's default backoff grows to 120 s).
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


class GrpcOrchestrator:
    """OrchestratorPort over grpc.aio; every call carries a deadline."""

    def __init__(self, address: str, timeout: float, *, tls: InternalTLS | None = None):
        self._address = address
        self._tls = tls
        self._timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._stub: orchestrator_service_pb2_grpc.OrchestratorServiceStub | None = None
        # Client-side call metrics, in a process that serves them (made after metrics.serve).
        self._calls = metrics.ClientCalls(_SERVICE) if metrics.enabled() else None

    def _ensure(self) -> orchestrator_service_pb2_grpc.OrchestratorServiceStub:
        # The channel is made on first use so that it binds to the serving event loop.
        if self._stub is None:
            self._channel = aio_channel(self._address, ORCHESTRATOR, self._tls, _CHANNEL_OPTIONS)
            self._stub = orchestrator_service_pb2_grpc.OrchestratorServiceStub(self._channel)
        return self._stub

    async def call(self, rpc: str, request: Message) -> Message:
        if rpc not in ORCHESTRATOR_RPCS:
            raise ValueError(f"unknown orchestrator RPC {rpc}")
        method = getattr(self._ensure(), rpc)
        started = time.perf_counter()
        code = None
        try:
            # wait_for_ready: a request that arrives while the orchestrator restarts waits for it
            # (within the deadline) instead of failing; nothing was sent, so writes are safe too.
            timeout = max(self._timeout, _LONG_RPC_TIMEOUTS.get(rpc, 0.0))
            return await method(request, timeout=timeout, wait_for_ready=True)
        except grpc.aio.AioRpcError as err:
            code = err.code()
            raise from_rpc_error(err) from None
        except asyncio.CancelledError:  # the client went away
            code = grpc.StatusCode.CANCELLED
            raise
        finally:
            if self._calls is not None:
                self._calls.record(rpc, code, time.perf_counter() - started)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel, self._stub = None, None
