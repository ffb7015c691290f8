"""gRPC client of one renderer service (one backend type), plaintext on the control network."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from lbaas.renderer.v1 import renderer_service_pb2, renderer_service_pb2_grpc

from services.common.errors import DomainError, Unavailable, from_rpc_error
from services.common.internal_tls import RENDERER, InternalTLS, aio_channel
from services.common.log_offload import LogOffload
from services.orchestrator.domain.ports import AgentInfo, RenderedConfig
from services.orchestrator.domain.sizes import Size

# A renderer is redeployed for every template fix (a minor update); gRPC's default reconnect
# backoff (up to 120 s of failing fast) would outlast the redeploy by far.
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


_LOG_PROTOCOLS = {
    "udp": renderer_service_pb2.LOG_PROTOCOL_UDP,
    "tcp": renderer_service_pb2.LOG_PROTOCOL_TCP,
}


def log_offload_message(settings: LogOffload) -> renderer_service_pb2.LogOffload | None:
    """Target.log_offload for the operator's settings; None (unset) for the defaults, so the
    renderers render what they rendered before log offload existed."""
    if not settings.configured:
        return None
    return renderer_service_pb2.LogOffload(
        tenant_targets=[
            renderer_service_pb2.SyslogTarget(address=t.address, port=t.port)
            for t in settings.tenant_targets
        ],
        admin_targets=[
            renderer_service_pb2.SyslogTarget(address=t.address, port=t.port)
            for t in settings.admin_targets
        ],
        protocol=_LOG_PROTOCOLS[settings.protocol],
        disable_local_log_storage=settings.disable_local_log_storage,
    )


def build_target(
    target: AgentInfo,
    vip_address: str,
    vrrp: renderer_service_pb2.Vrrp | None = None,
    size: Size | None = None,
    log_offload: renderer_service_pb2.LogOffload | None = None,
) -> renderer_service_pb2.Target:
    """What the renderer needs to know about the appliance, from the agent's GetInfo (and from
    the orchestrator: for a half of an ACTIVE_STANDBY pair its VRRP role and peer; its compute
    size; where it sends its logs)."""
    return renderer_service_pb2.Target(
        log_offload=log_offload,
        vrrp=vrrp,
        size=(
            renderer_service_pb2.Size(threads=size.threads, max_connections=size.max_connections)
            if size is not None
            else None
        ),
        amphora_id=target.amphora_id,
        agent_api_version=target.api_version,
        haproxy_version=target.haproxy_version,
        openssl_version=target.openssl_version,
        nginx_version=target.nginx_version,
        keepalived_version=target.keepalived_version,
        runtime_dir=target.runtime_dir,
        vip_address=vip_address,
    )


def map_renderer_error(err: grpc.RpcError, address: str) -> DomainError:
    """INVALID_ARGUMENT -> InvalidInput, FAILED_PRECONDITION -> Precondition (with the server's
    ErrorDetail); UNAVAILABLE / DEADLINE_EXCEEDED -> Unavailable naming the renderer."""
    error = from_rpc_error(err)
    if isinstance(error, Unavailable):
        error.operator_detail = f"renderer at {address}: {err.code().name}: {err.details()}"
    return error


class GrpcRenderer:
    """Renderer port over grpc.aio; every call has a deadline of `timeout` seconds."""

    def __init__(
        self,
        address: str,
        timeout: float = 10.0,
        *,
        tls: InternalTLS | None = None,
        log_offload: LogOffload | None = None,
    ) -> None:
        self._address = address
        # The operator's log offload settings, the same in every render (Target.log_offload).
        self._log_offload = log_offload_message(log_offload or LogOffload())
        self._tls = tls
        self._timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def address(self) -> str:
        return self._address

    def _stub(self) -> renderer_service_pb2_grpc.RendererServiceStub:
        loop = asyncio.get_running_loop()
        if self._channel is None or self._loop is not loop:
            # aio channels belong to the loop that made them.
            self._channel = aio_channel(self._address, RENDERER, self._tls, _CHANNEL_OPTIONS)
            self._loop = loop
        return renderer_service_pb2_grpc.RendererServiceStub(self._channel)

    async def describe(self) -> tuple[str, str, list[str]]:
        try:
            resp = await self._stub().Describe(
                renderer_service_pb2.DescribeRequest(), timeout=self._timeout
            )
        except grpc.RpcError as err:
            raise map_renderer_error(err, self._address) from err
        return resp.backend_type, resp.renderer_version, list(resp.supported_features)

    async def render(
        self,
        loadbalancer: object,
        target: AgentInfo,
        vip_address: str,
        materials: Sequence[object] = (),
        vrrp: object | None = None,
        size: Size | None = None,
        applied_files: Sequence[tuple[str, bytes, int]] = (),
    ) -> RenderedConfig:
        request = renderer_service_pb2.RenderRequest(
            loadbalancer=loadbalancer,
            target=build_target(
                target,
                vip_address,
                vrrp,  # type: ignore[arg-type]
                size,
                self._log_offload,
            ),
            tls_materials=list(materials),
            applied_files=[
                renderer_service_pb2.RenderedFile(path=path, content=content, mode=mode)
                for path, content, mode in applied_files
            ],
        )
        try:
            resp = await self._stub().Render(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise map_renderer_error(err, self._address) from err
        return RenderedConfig(
            files=[(f.path, f.content, f.mode) for f in resp.files],
            config_hash=resp.config_hash,
            renderer_version=resp.renderer_version,
            runtime_plan=resp.runtime_plan if resp.HasField("runtime_plan") else None,
        )

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close()
