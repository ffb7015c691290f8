"""gRPC client of the amphora agents, over mutual TLS with the controller's certificate.

Each channel checks that the agent's certificate names the amphora id we meant to call
(`grpc.ssl_target_name_override`), so a stale address that now belongs to another amphora
fails the handshake instead of receiving that amphora's config.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import grpc
from lbaas.amphora.v1 import amphora_service_pb2, amphora_service_pb2_grpc

from services.common.errors import DomainError, Unavailable, from_rpc_error
from services.orchestrator.domain.ports import AgentInfo, ApplyOutcome, CertificateAuthority

log = logging.getLogger(__name__)

_APPLY_RESULTS: dict[int, str] = {
    amphora_service_pb2.APPLY_RESULT_APPLIED: "APPLIED",
    amphora_service_pb2.APPLY_RESULT_UNCHANGED: "UNCHANGED",
    amphora_service_pb2.APPLY_RESULT_INVALID: "INVALID",
    amphora_service_pb2.APPLY_RESULT_ROLLED_BACK: "ROLLED_BACK",
    amphora_service_pb2.APPLY_RESULT_BROKEN: "BROKEN",
}
# An agent that answers with a result we do not know (UNSPECIFIED, or a value from a newer
# agent) did not confirm an apply; "UNKNOWN" is not ok() and, unlike BROKEN, asks for no failover.
UNKNOWN_APPLY_RESULT = "UNKNOWN"

_UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

# gRPC's default reconnect backoff grows to 120 s, and while it runs every call fails at once
# with UNAVAILABLE. An agent that is still starting, or restarting, must be reachable again
# within seconds, so cap the backoff low.
_CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


def apply_result_name(value: int) -> str:
    """ApplyResult enum value -> ApplyOutcome.result."""
    return _APPLY_RESULTS.get(value, UNKNOWN_APPLY_RESULT)


def map_agent_error(err: grpc.RpcError, agent_address: str, amphora_id: str) -> DomainError:
    """Unreachable (including a TLS handshake failure) -> Unavailable; else the server's error."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    if code in _UNREACHABLE:
        details = err.details() if hasattr(err, "details") else ""
        return Unavailable(
            "amphora agent unreachable",
            operator_detail=f"amphora {amphora_id} at {agent_address}: {code.name}: {details}",
        )
    return from_rpc_error(err)


class GrpcAgentClient:
    """AgentClient over grpc.aio; one cached channel per (address, amphora id)."""

    # Amphorae come and go (failover); bound the cache so channels to deleted ones are closed.
    max_channels = 1024

    def __init__(self, ca: CertificateAuthority, timeout: float = 10.0):
        self._ca = ca
        self._timeout = timeout
        self._credentials: grpc.ChannelCredentials | None = None
        self._channels: OrderedDict[tuple[str, str], grpc.aio.Channel] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def _channel_credentials(self) -> grpc.ChannelCredentials:
        if self._credentials is None:
            controller = self._ca.controller_credentials()
            self._credentials = grpc.ssl_channel_credentials(
                root_certificates=self._ca.ca_certificate_pem(),
                private_key=controller.key_pem,
                certificate_chain=controller.cert_pem,
            )
        return self._credentials

    def _stub(
        self, agent_address: str, amphora_id: str
    ) -> amphora_service_pb2_grpc.AmphoraAgentServiceStub:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # aio channels belong to the loop that made them; a new loop starts a new cache.
            self._channels.clear()
            self._loop = loop
        key = (agent_address, amphora_id)
        channel = self._channels.get(key)
        if channel is None:
            channel = grpc.aio.secure_channel(
                agent_address,
                self._channel_credentials(),
                options=[("grpc.ssl_target_name_override", amphora_id), *_CHANNEL_OPTIONS],
            )
            self._channels[key] = channel
            while len(self._channels) > self.max_channels:
                _, old = self._channels.popitem(last=False)
                task = loop.create_task(old.close(grace=self._timeout))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        else:
            self._channels.move_to_end(key)
        return amphora_service_pb2_grpc.AmphoraAgentServiceStub(channel)

    async def get_info(self, agent_address: str, amphora_id: str) -> AgentInfo:
        stub = self._stub(agent_address, amphora_id)
        try:
            resp = await stub.GetInfo(amphora_service_pb2.GetInfoRequest(), timeout=self._timeout)
        except grpc.RpcError as err:
            raise map_agent_error(err, agent_address, amphora_id) from err
        return AgentInfo(
            amphora_id=resp.amphora_id,
            api_version=resp.api_version,
            backend_type=resp.backend_type,
            haproxy_version=resp.haproxy_version,
            openssl_version=resp.openssl_version,
            nginx_version=resp.nginx_version,
            runtime_dir=resp.runtime_dir,
            applied_config_hash=resp.applied_config_hash,
            applied_renderer_version=resp.applied_renderer_version,
        )

    async def apply_config(
        self,
        agent_address: str,
        amphora_id: str,
        files: list[tuple[str, bytes, int]],
        config_hash: str,
        renderer_version: str,
        force: bool = False,
    ) -> ApplyOutcome:
        stub = self._stub(agent_address, amphora_id)
        request = amphora_service_pb2.ApplyConfigRequest(
            files=[
                amphora_service_pb2.ConfigFile(path=path, content=content, mode=mode)
                for path, content, mode in files
            ],
            config_hash=config_hash,
            renderer_version=renderer_version,
            force=force,
        )
        try:
            resp = await stub.ApplyConfig(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise map_agent_error(err, agent_address, amphora_id) from err
        result = apply_result_name(resp.result)
        detail = resp.detail
        if result == UNKNOWN_APPLY_RESULT:
            detail = f"agent returned apply result {resp.result}; {detail}".rstrip("; ")
        return ApplyOutcome(
            result=result, applied_config_hash=resp.applied_config_hash, detail=detail
        )

    async def close(self) -> None:
        channels = list(self._channels.values())
        self._channels.clear()
        await asyncio.gather(*(c.close() for c in channels), *self._closing, return_exceptions=True)
