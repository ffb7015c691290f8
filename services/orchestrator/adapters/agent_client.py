"""gRPC client of the amphora agents, over mutual TLS with the controller's certificate.

Each channel checks that the agent's certificate names the amphora id we meant to call
(`grpc.ssl_target_name_override`), so a stale address that now belongs to another amphora
fails the handshake instead of receiving that amphora's config.

The controller certificate is renewed by the CA before it expires; the client notices when the
one its channels present is due and moves to new channels with the renewed one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict

import grpc
from cryptography import x509
from lbaas.amphora.v1 import amphora_service_pb2, amphora_service_pb2_grpc

from services.common import tracing
from services.common.errors import DomainError, Unavailable, from_rpc_error
from services.orchestrator import metrics
from services.orchestrator.domain.ports import (
    AgentInfo,
    AgentLacksRpc,
    ApplyOutcome,
    CertificateAuthority,
    IssuedCertificate,
    RenderedConfig,
)

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
    """AgentClient over grpc.aio; one cached channel per (address, amphora id).

    At most every renewal_check_interval seconds, a call checks whether the controller
    certificate of the cached credentials expires within the CA's renewal margin; if so it
    takes fresh credentials from the CA (which renews the certificate, or reads the one another
    process renewed) and drops the cached channels, closing them in the background with a grace
    period so calls in flight finish."""

    # Amphorae come and go (failover); bound the cache so channels to deleted ones are closed.
    max_channels = 1024

    def __init__(
        self,
        ca: CertificateAuthority,
        timeout: float = 10.0,
        *,
        renewal_check_interval: float = 5.0,
    ):
        self._ca = ca
        self._timeout = timeout
        self._renewal_check_interval = renewal_check_interval
        self._credentials: grpc.ChannelCredentials | None = None
        self._controller_pem = b""
        self._controller_not_after: dt.datetime | None = None
        self._next_renewal_check = 0.0
        self._channels: OrderedDict[tuple[str, str], grpc.aio.Channel] = OrderedDict()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def _channel_credentials(self) -> grpc.ChannelCredentials:
        if self._credentials is None:
            return self._use(self._ca.controller_credentials())
        return self._credentials

    def _use(self, controller: IssuedCertificate) -> grpc.ChannelCredentials:
        self._credentials = grpc.ssl_channel_credentials(
            root_certificates=self._ca.ca_certificate_pem(),
            private_key=controller.key_pem,
            certificate_chain=controller.cert_pem,
        )
        self._controller_pem = controller.cert_pem
        self._controller_not_after = _not_after(controller.cert_pem)
        return self._credentials

    def _renew_if_due(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drops the cached credentials and channels when the controller certificate they
        present is due for renewal (checked at most every renewal_check_interval)."""
        if self._credentials is None or time.monotonic() < self._next_renewal_check:
            return
        self._next_renewal_check = time.monotonic() + self._renewal_check_interval
        not_after = self._controller_not_after
        margin = dt.timedelta(seconds=self._ca.renew_before)
        if not_after is not None and dt.datetime.now(dt.UTC) + margin < not_after:
            return
        controller = self._ca.controller_credentials()
        if controller.cert_pem == self._controller_pem:
            return  # the CA did not renew it (a fake CA, or a margin it does not apply)
        log.info("controller certificate renewed; reconnecting to agents with it")
        self._use(controller)
        channels = list(self._channels.values())
        self._channels.clear()
        for channel in channels:
            self._close_later(loop, channel)

    def _close_later(self, loop: asyncio.AbstractEventLoop, channel: grpc.aio.Channel) -> None:
        task = loop.create_task(channel.close(grace=self._timeout))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _stub(
        self, agent_address: str, amphora_id: str
    ) -> amphora_service_pb2_grpc.AmphoraAgentServiceStub:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # aio channels belong to the loop that made them; a new loop starts a new cache.
            self._channels.clear()
            self._loop = loop
        self._renew_if_due(loop)
        key = (agent_address, amphora_id)
        channel = self._channels.get(key)
        if channel is None:
            channel = grpc.aio.secure_channel(
                agent_address,
                self._channel_credentials(),
                options=[("grpc.ssl_target_name_override", amphora_id), *_CHANNEL_OPTIONS],
                interceptors=tracing.grpc_client_interceptors(),
            )
            self._channels[key] = channel
            while len(self._channels) > self.max_channels:
                _, old = self._channels.popitem(last=False)
                self._close_later(loop, old)
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
            keepalived_version=resp.keepalived_version,
            capabilities=tuple(resp.capabilities),
        )

    async def apply_config(
        self,
        agent_address: str,
        amphora_id: str,
        files: list[tuple[str, bytes, int]],
        config_hash: str,
        renderer_version: str,
        force: bool = False,
        runtime_plan: object | None = None,
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
        if runtime_plan is not None:
            request.runtime_plan.CopyFrom(runtime_plan)
        try:
            resp = await stub.ApplyConfig(request, timeout=self._timeout)
        except grpc.RpcError as err:
            metrics.agent_applied("error")
            raise map_agent_error(err, agent_address, amphora_id) from err
        result = apply_result_name(resp.result)
        metrics.agent_applied(result)
        detail = resp.detail
        if result == UNKNOWN_APPLY_RESULT:
            detail = f"agent returned apply result {resp.result}; {detail}".rstrip("; ")
        if resp.runtime_fallback:
            log.warning(
                "amphora %s: runtime plan not used, reloaded instead: %s",
                amphora_id,
                resp.runtime_fallback,
            )
        return ApplyOutcome(
            result=result,
            applied_config_hash=resp.applied_config_hash,
            detail=detail,
            runtime=resp.runtime,
            runtime_fallback=resp.runtime_fallback,
        )

    async def update_certificate(
        self, agent_address: str, amphora_id: str, certificate: IssuedCertificate
    ) -> dt.datetime:
        stub = self._stub(agent_address, amphora_id)
        request = amphora_service_pb2.UpdateCertificateRequest(
            certificate_pem=certificate.cert_pem, private_key_pem=certificate.key_pem
        )
        try:
            resp = await stub.UpdateCertificate(request, timeout=self._timeout)
        except grpc.RpcError as err:
            if hasattr(err, "code") and err.code() == grpc.StatusCode.UNIMPLEMENTED:
                raise AgentLacksRpc(
                    "The amphora agent cannot rotate its certificate.",
                    operator_detail=f"amphora {amphora_id} at {agent_address}: "
                    "UpdateCertificate is UNIMPLEMENTED (an agent older than certificate "
                    "rotation)",
                ) from err
            raise map_agent_error(err, agent_address, amphora_id) from err
        return resp.not_after.ToDatetime(tzinfo=dt.UTC)

    async def drain(
        self, agent_address: str, amphora_id: str, addresses: list[str], timeout: float
    ) -> int:
        stub = self._stub(agent_address, amphora_id)
        request = amphora_service_pb2.DrainRequest(
            addresses=addresses, timeout_ms=int(timeout * 1000)
        )
        try:
            resp = await stub.Drain(request, timeout=timeout + self._timeout)
        except grpc.RpcError as err:
            if hasattr(err, "code") and err.code() == grpc.StatusCode.UNIMPLEMENTED:
                raise AgentLacksRpc(
                    "The amphora agent cannot drain.",
                    operator_detail=f"amphora {amphora_id} at {agent_address}: Drain is "
                    "UNIMPLEMENTED (an agent older than resize)",
                ) from err
            raise map_agent_error(err, agent_address, amphora_id) from err
        return int(resp.remaining)

    async def get_applied_config(self, agent_address: str, amphora_id: str) -> RenderedConfig:
        stub = self._stub(agent_address, amphora_id)
        request = amphora_service_pb2.GetAppliedConfigRequest()
        try:
            resp = await stub.GetAppliedConfig(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise map_agent_error(err, agent_address, amphora_id) from err
        return RenderedConfig(
            files=[(f.path, f.content, f.mode) for f in resp.files],
            config_hash=resp.config_hash,
            renderer_version=resp.renderer_version,
        )

    async def get_diagnostics(
        self, agent_address: str, amphora_id: str
    ) -> amphora_service_pb2.GetDiagnosticsResponse:
        stub = self._stub(agent_address, amphora_id)
        request = amphora_service_pb2.GetDiagnosticsRequest()
        try:
            return await stub.GetDiagnostics(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise _lacks_or_mapped(err, agent_address, amphora_id, "GetDiagnostics") from err

    async def get_logs(
        self, agent_address: str, amphora_id: str, lines: int
    ) -> list[amphora_service_pb2.LogTail]:
        stub = self._stub(agent_address, amphora_id)
        request = amphora_service_pb2.GetLogsRequest(lines=lines)
        try:
            resp = await stub.GetLogs(request, timeout=self._timeout)
        except grpc.RpcError as err:
            raise _lacks_or_mapped(err, agent_address, amphora_id, "GetLogs") from err
        return list(resp.logs)

    async def close(self) -> None:
        channels = list(self._channels.values())
        self._channels.clear()
        await asyncio.gather(*(c.close() for c in channels), *self._closing, return_exceptions=True)


# What an agent of a release before the management API cannot give, for its users.
_MANAGEMENT_RPCS = {"GetDiagnostics": "diagnostics", "GetLogs": "its logs"}


def _lacks_or_mapped(
    err: grpc.RpcError, agent_address: str, amphora_id: str, rpc: str
) -> DomainError:
    """UNIMPLEMENTED (an agent of a release before the RPC) -> AgentLacksRpc, which the API
    answers with a 409 saying so; anything else as map_agent_error."""
    if hasattr(err, "code") and err.code() == grpc.StatusCode.UNIMPLEMENTED:
        return AgentLacksRpc(
            f"The agent of amphora {amphora_id} cannot report {_MANAGEMENT_RPCS[rpc]}: it is of "
            "a release older than the management API. Fail the amphora over to give it a "
            "current agent.",
            operator_detail=f"amphora {amphora_id} at {agent_address}: {rpc} is UNIMPLEMENTED",
        )
    return map_agent_error(err, agent_address, amphora_id)


def _not_after(cert_pem: bytes) -> dt.datetime | None:
    try:
        return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
    except ValueError:  # not a certificate this client can read: renewed at the next check
        return None
