"""The orchestrator, as the health service calls it: gRPC with a deadline on every call."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from services.common.errors import from_rpc_error
from services.common.internal_tls import ORCHESTRATOR, InternalTLS, aio_channel
from services.health.domain.ports import AmphoraView
from services.health.domain.rollup import ObjectStatus

_ADMIN = pb.Scope(all_projects=True)


class GrpcOrchestrator:
    """Implements domain.ports.Orchestrator; raises DomainError subclasses on failure."""

    def __init__(
        self, address: str, *, timeout: float = 3.0, tls: InternalTLS | None = None
    ) -> None:
        self._channel = aio_channel(address, ORCHESTRATOR, tls)
        self._stub = pb_grpc.OrchestratorServiceStub(self._channel)
        self._timeout = timeout

    async def amphora(self, amphora_id: str) -> AmphoraView:
        try:
            response = await self._stub.GetAmphora(
                pb.GetAmphoraRequest(id=amphora_id), timeout=self._timeout
            )
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        amp = response.amphora
        return AmphoraView(
            amphora_id=amp.id,
            loadbalancer_id=amp.loadbalancer_id,
            applied_config_hash=amp.applied_config_hash,
            status=amp.status,
        )

    async def failover_amphora(self, amphora_id: str) -> bool:
        request = pb.FailoverAmphoraRequest(
            id=amphora_id, trigger=pb.FAILOVER_TRIGGER_HEARTBEAT_STALE
        )
        try:
            response = await self._stub.FailoverAmphora(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        return response.claimed

    async def configure_amphora(self, amphora_id: str) -> bool:
        request = pb.ConfigureAmphoraRequest(id=amphora_id, drift=True)
        try:
            response = await self._stub.ConfigureAmphora(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        return response.claimed

    async def get_loadbalancer(self, loadbalancer_id: str) -> graph_pb2.LoadBalancer:
        try:
            response = await self._stub.GetLoadBalancer(
                pb.GetLoadBalancerRequest(scope=_ADMIN, id=loadbalancer_id), timeout=self._timeout
            )
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None
        return response.loadbalancer

    async def set_operating_statuses(
        self, loadbalancer_id: str, amphora_id: str, statuses: Sequence[ObjectStatus]
    ) -> None:
        request = pb.SetOperatingStatusesRequest(
            loadbalancer_id=loadbalancer_id,
            amphora_id=amphora_id,
            statuses=[pb.ObjectStatus(id=i, operating_status=s) for i, s in statuses],
        )
        try:
            await self._stub.SetOperatingStatuses(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise from_rpc_error(err) from None

    async def close(self) -> None:
        await self._channel.close()
