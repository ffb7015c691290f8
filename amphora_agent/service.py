"""AmphoraAgentService handlers: decode protobuf, call the applier / stats / certificate, encode."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.amphora.v1 import amphora_service_pb2_grpc as pb_grpc

from amphora_agent.applier import Applier, ConfigFile, RequestError
from amphora_agent.certificates import CertificateError, ServerCertificate
from amphora_agent.confighash import UnsafePathError
from amphora_agent.drain import AddressError, Drainer, DrainError, DrainUnavailable
from amphora_agent.stats import SnapshotSource

# 1.1: the agent prepares for workers that drop root (privileges.py), so the renderer may name
# their user (and haproxy's chroot) in the config. An agent that could not prepare (not root, no
# such user) reports LEGACY_API_VERSION and gets configs without them.
API_VERSION = "1.1"
LEGACY_API_VERSION = "1.0"
CAPABILITIES = (
    "apply-config",
    "config-rollback",
    "hitless-reload",
    "server-state-preserve",
    "heartbeat-hmac-v1",
    "listener-stats",
    "apply-force",
    "applied-renderer-version",
    "certificate-rotation",
)
# nginx keeps no server state across reloads and has no per-listener counters.
NGINX_CAPABILITIES = tuple(
    c for c in CAPABILITIES if c not in ("server-state-preserve", "listener-stats")
)
# Only with keepalived installed: a config with keepalived.conf runs it (an ACTIVE_STANDBY half).
# An agent of the release before writes such a config and runs no keepalived (one without
# keepalived installed refuses it), so the controller sends one only to agents listing this.
VRRP_CAPABILITY = "vrrp-keepalived"
# Only when nft is installed and may change the amphora namespace's ruleset (Drain).
DRAIN_CAPABILITY = "drain"


class AgentService(pb_grpc.AmphoraAgentServiceServicer):
    def __init__(
        self,
        *,
        amphora_id: str,
        runtime_dir: str,
        backend: str,
        versions: dict[str, str],
        applier: Applier,
        stats: SnapshotSource,
        certificate: ServerCertificate,
        drainer: Drainer | None = None,
        api_version: str = API_VERSION,
    ) -> None:
        self.amphora_id = amphora_id
        self.api_version = api_version
        self.runtime_dir = runtime_dir
        self.backend = backend
        self.versions = versions
        self.applier = applier
        self.stats = stats
        self.certificate = certificate
        self.drainer = drainer

    async def GetInfo(self, request, context):
        return pb.GetInfoResponse(
            amphora_id=self.amphora_id,
            api_version=self.api_version,
            haproxy_version=self.versions.get("haproxy", ""),
            openssl_version=self.versions.get("openssl", ""),
            nginx_version=self.versions.get("nginx", ""),
            keepalived_version=self.versions.get("keepalived", ""),
            runtime_dir=self.runtime_dir,
            backend_type=self.backend,
            applied_config_hash=self.applier.applied_hash,
            capabilities=self._capabilities(),
            applied_renderer_version=self.applier.applied_renderer_version,
        )

    def _capabilities(self) -> list[str]:
        found = list(NGINX_CAPABILITIES if self.backend == "nginx" else CAPABILITIES)
        if self.versions.get("keepalived"):
            found.append(VRRP_CAPABILITY)
        if self.drainer is not None and self.drainer.available:
            found.append(DRAIN_CAPABILITY)
        return found

    async def ApplyConfig(self, request, context):
        files = [ConfigFile(f.path, f.content, f.mode) for f in request.files]
        try:
            outcome = await self.applier.apply(
                files, request.config_hash, request.renderer_version, force=request.force
            )
        except (RequestError, UnsafePathError) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return pb.ApplyConfigResponse(
            result=pb.ApplyResult.Value("APPLY_RESULT_" + outcome.result.value),
            applied_config_hash=outcome.applied_hash,
            detail=outcome.detail,
        )

    async def GetAppliedConfig(self, request, context):
        applied = self.applier.applied()
        if applied is None:
            return pb.GetAppliedConfigResponse()
        return pb.GetAppliedConfigResponse(
            files=[
                pb.ConfigFile(path=f.path, content=f.content, mode=f.mode) for f in applied.files
            ],
            config_hash=applied.config_hash,
            renderer_version=applied.renderer_version,
        )

    async def GetStats(self, request, context):
        snapshot = await self.stats.snapshot()
        return pb.GetStatsResponse(
            listeners=[
                pb.ListenerStats(
                    listener_id=fe.name,
                    active_connections=fe.active_connections,
                    total_connections=fe.total_connections,
                    bytes_in=fe.bytes_in,
                    bytes_out=fe.bytes_out,
                    request_errors=fe.request_errors,
                )
                for fe in snapshot.frontends
            ]
        )

    async def UpdateCertificate(self, request, context):
        try:
            not_after = self.certificate.update(request.certificate_pem, request.private_key_pem)
        except CertificateError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        timestamp = Timestamp()
        timestamp.FromDatetime(not_after)
        return pb.UpdateCertificateResponse(not_after=timestamp)

    async def Drain(self, request, context):
        if self.drainer is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this agent cannot drain")
        try:
            remaining = await self.drainer.drain(
                list(request.addresses), request.timeout_ms / 1000, request.hold_ms / 1000
            )
        except AddressError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except DrainUnavailable as exc:
            # As an agent without the RPC: the controller retires the amphora undrained.
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, str(exc))
        except DrainError as exc:
            await context.abort(grpc.StatusCode.INTERNAL, str(exc))
        return pb.DrainResponse(remaining=remaining)
