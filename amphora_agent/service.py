"""AmphoraAgentService handlers: decode protobuf, call the applier / stats / certificate /
diagnostics, encode."""

from __future__ import annotations

import asyncio
import os
import time

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.amphora.v1 import amphora_service_pb2_grpc as pb_grpc

from amphora_agent import diagnostics
from amphora_agent.applier import Applier, ConfigFile, RequestError
from amphora_agent.certificates import CertificateError, ServerCertificate
from amphora_agent.confighash import UnsafePathError
from amphora_agent.drain import AddressError, Drainer, DrainError, DrainUnavailable
from amphora_agent.history import ApplyRecord, ReloadRecord
from amphora_agent.runtime import RuntimePlan, ServerState
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
    "diagnostics",  # GetDiagnostics
    "logs",  # GetLogs
    "runtime_plan",  # ApplyConfig takes a runtime plan (haproxy's runtime API, runtime.py)
)
RUNTIME_PLAN_CAPABILITY = "runtime_plan"
# nginx keeps no server state across reloads, has no per-listener counters and no runtime API.
NGINX_CAPABILITIES = tuple(
    c
    for c in CAPABILITIES
    if c not in ("server-state-preserve", "listener-stats", RUNTIME_PLAN_CAPABILITY)
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
        agent_log: str = "",
        runtime_plans: bool = True,
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
        # The agent's own log (its stderr, where the compute driver sends it), for GetLogs.
        self.agent_log = agent_log or os.path.join(runtime_dir, "agent.log")
        # False (--no-runtime-plans): behave as the release before runtime plans: no
        # "runtime_plan" capability, and an ApplyConfig's runtime_plan is ignored.
        self.runtime_plans = runtime_plans

    async def GetInfo(self, request, context):
        return self._info()

    def _info(self) -> pb.GetInfoResponse:
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
        if not self.runtime_plans and RUNTIME_PLAN_CAPABILITY in found:
            found.remove(RUNTIME_PLAN_CAPABILITY)
        if self.versions.get("keepalived"):
            found.append(VRRP_CAPABILITY)
        if self.drainer is not None and self.drainer.available:
            found.append(DRAIN_CAPABILITY)
        return found

    async def ApplyConfig(self, request, context):
        files = [ConfigFile(f.path, f.content, f.mode) for f in request.files]
        plan = None
        if self.runtime_plans and request.HasField("runtime_plan"):
            plan = _runtime_plan(request.runtime_plan)
        try:
            outcome = await self.applier.apply(
                files,
                request.config_hash,
                request.renderer_version,
                force=request.force,
                plan=plan,
            )
        except (RequestError, UnsafePathError) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return pb.ApplyConfigResponse(
            result=pb.ApplyResult.Value("APPLY_RESULT_" + outcome.result.value),
            applied_config_hash=outcome.applied_hash,
            detail=outcome.detail,
            runtime=outcome.runtime,
            runtime_fallback=outcome.runtime_fallback,
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

    async def GetDiagnostics(self, request, context):
        info = self._info()
        processes, sockets = await asyncio.to_thread(self._processes_and_sockets)
        history = self.applier.history
        out = pb.GetDiagnosticsResponse(
            info=info,
            engine_running=self.applier.process.running,
            processes=[
                pb.ProcessInfo(
                    pid=p.pid,
                    role=p.role,
                    name=p.name,
                    started_at=_timestamp(p.started_at),
                    uptime_seconds=p.uptime,
                )
                for p in processes
            ],
            listening_sockets=[
                pb.ListeningSocket(
                    protocol=s.protocol, address=s.address, port=s.port, pids=holders
                )
                for s, holders in sockets
            ],
            collected_at=_timestamp(time.time()),
        )
        if history is not None:
            if history.last_apply is not None:
                out.last_apply.CopyFrom(_apply_record(history.last_apply))
            if history.last_reload is not None:
                out.last_reload.CopyFrom(_reload_record(history.last_reload))
            if history.last_failed_reload is not None:
                out.last_failed_reload.CopyFrom(_reload_record(history.last_failed_reload))
        return out

    def _processes_and_sockets(
        self,
    ) -> tuple[list[diagnostics.Process], list[tuple[diagnostics.Listening, list[int]]]]:
        """The agent, the engine's processes, keepalived; the engine's listening sockets."""
        process = self.applier.process
        master = None
        if process.running:
            master = diagnostics.pid_from_file(getattr(process, "pid_file", ""))
        engine = diagnostics.engine_processes(master)
        found = [p for p in [diagnostics.process(os.getpid(), "agent")] if p is not None]
        found += engine
        vrrp = self.applier.vrrp
        vrrp_pid = getattr(vrrp, "pid", None) if vrrp is not None else None
        if vrrp_pid:
            keepalived = diagnostics.process(vrrp_pid, "keepalived")
            if keepalived is not None:
                found.append(keepalived)
        sockets = diagnostics.held_by(diagnostics.listening(), [p.pid for p in engine])
        return found, sockets

    async def GetLogs(self, request, context):
        lines = request.lines or diagnostics.DEFAULT_LOG_LINES
        if lines > diagnostics.MAX_LOG_LINES:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"lines: at most {diagnostics.MAX_LOG_LINES}, not {request.lines}",
            )
        sources = [("agent", self.agent_log)]
        engine_log = getattr(self.applier.process, "log_file", "")
        if engine_log:
            sources.append(("engine", engine_log))
        tails = await asyncio.to_thread(
            lambda: [(name, path, diagnostics.tail(path, lines)) for name, path in sources]
        )
        return pb.GetLogsResponse(
            logs=[
                pb.LogTail(
                    source=name,
                    path=path,
                    lines=tail.lines,
                    truncated=tail.truncated,
                    found=tail.found,
                )
                for name, path, tail in tails
            ]
        )


def _timestamp(seconds: float) -> Timestamp:
    out = Timestamp()
    out.FromNanoseconds(int(seconds * 1e9))
    return out


def _runtime_plan(plan) -> RuntimePlan:
    return RuntimePlan(
        from_config_hash=plan.from_config_hash,
        commands=tuple(plan.commands),
        expected=tuple(
            ServerState(
                backend=s.backend,
                server=s.server,
                present=s.present,
                address=s.address,
                port=s.port,
                weight=s.weight,
                maintenance=s.maintenance,
            )
            for s in plan.expected
        ),
    )


def _apply_record(record: ApplyRecord) -> pb.ApplyRecord:
    # The record has no fields of its own for a runtime plan: the detail says what became of it.
    detail = record.detail
    if record.runtime_fallback:
        detail = "\n".join(
            filter(None, [detail, f"runtime plan not used: {record.runtime_fallback}"])
        )
    return pb.ApplyRecord(
        at=_timestamp(record.at),
        result=pb.ApplyResult.Value("APPLY_RESULT_" + record.result),
        config_hash=record.config_hash,
        applied_config_hash=record.applied_config_hash,
        renderer_version=record.renderer_version,
        force=record.force,
        detail=detail,
    )


def _reload_record(record: ReloadRecord) -> pb.ReloadRecord:
    return pb.ReloadRecord(
        at=_timestamp(record.at),
        action=record.action,
        ok=record.ok,
        error=record.error,
        config_hash=record.config_hash,
    )
