"""The management API's responses (an extension: config preview, amphora diagnostics and logs):
response models (the OpenAPI truth) and converters from the orchestrator's messages."""

from __future__ import annotations

from typing import Any

from lbaas.amphora.v1 import amphora_service_pb2 as apb
from lbaas.orchestrator.v1 import management_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.admin_views import View
from services.api_gateway.views import timestamp


# -- config preview -----------------------------------------------------------------------
class PreviewFile(View):
    path: str
    mode: str  # octal, "0644"
    content: str  # "" when redacted
    redacted: bool  # a private key: never shown
    sha256: str


class AmphoraConfigPreview(View):
    amphora_id: str
    role: str | None = None
    config_hash: str
    renderer_version: str | None = None
    applied_config_hash: str | None = None
    applied_renderer_version: str | None = None
    differs: bool
    diff: str
    files: list[PreviewFile]


class ConfigPreview(View):
    loadbalancer_id: str
    differs: bool
    amphorae: list[AmphoraConfigPreview]


class ConfigPreviewRoot(View):
    config_preview: ConfigPreview


def config_preview(resp: pb.PreviewLoadBalancerConfigResponse) -> dict[str, Any]:
    return {
        "config_preview": {
            "loadbalancer_id": resp.loadbalancer_id,
            "differs": resp.differs,
            "amphorae": [_amphora_preview(a) for a in resp.amphorae],
        }
    }


def _amphora_preview(a: management_pb2.AmphoraConfigPreview) -> dict[str, Any]:
    return {
        "amphora_id": a.amphora_id,
        "role": a.role or None,
        "config_hash": a.config_hash,
        "renderer_version": a.renderer_version or None,
        "applied_config_hash": a.applied_config_hash or None,
        "applied_renderer_version": a.applied_renderer_version or None,
        "differs": a.differs,
        "diff": a.diff,
        "files": [
            {
                "path": f.path,
                "mode": f"{f.mode:04o}",
                "content": f.content,
                "redacted": f.redacted,
                "sha256": f.sha256,
            }
            for f in a.files
        ],
    }


# -- diagnostics --------------------------------------------------------------------------
class ProcessView(View):
    pid: int
    role: str  # agent, master, worker, helper, keepalived
    name: str
    started_at: str | None = None
    uptime_seconds: float


class ListeningSocketView(View):
    protocol: str  # tcp, tcp6
    address: str
    port: int
    pids: list[int]


class ApplyRecordView(View):
    at: str | None = None
    result: str  # APPLIED, UNCHANGED, INVALID, ROLLED_BACK, BROKEN
    config_hash: str
    applied_config_hash: str | None = None
    renderer_version: str | None = None
    force: bool
    detail: str


class ReloadRecordView(View):
    at: str | None = None
    action: str  # start, reload, rollback
    ok: bool
    error: str
    config_hash: str | None = None


class AmphoraDiagnostics(View):
    amphora_id: str
    loadbalancer_id: str | None = None
    api_version: str | None = None
    capabilities: list[str]
    backend_type: str | None = None
    haproxy_version: str | None = None
    nginx_version: str | None = None
    openssl_version: str | None = None
    keepalived_version: str | None = None
    engine_running: bool
    applied_config_hash: str | None = None
    applied_renderer_version: str | None = None
    processes: list[ProcessView]
    listening_sockets: list[ListeningSocketView]
    last_apply: ApplyRecordView | None = None
    last_reload: ReloadRecordView | None = None
    last_failed_reload: ReloadRecordView | None = None
    collected_at: str | None = None


class AmphoraDiagnosticsRoot(View):
    amphora_diagnostics: AmphoraDiagnostics


def diagnostics(resp: pb.GetAmphoraDiagnosticsResponse) -> dict[str, Any]:
    d = resp.diagnostics
    info = d.info
    return {
        "amphora_diagnostics": {
            "amphora_id": resp.amphora_id,
            "loadbalancer_id": resp.loadbalancer_id or None,
            "api_version": info.api_version or None,
            "capabilities": list(info.capabilities),
            "backend_type": info.backend_type or None,
            "haproxy_version": info.haproxy_version or None,
            "nginx_version": info.nginx_version or None,
            "openssl_version": info.openssl_version or None,
            "keepalived_version": info.keepalived_version or None,
            "engine_running": d.engine_running,
            "applied_config_hash": info.applied_config_hash or None,
            "applied_renderer_version": info.applied_renderer_version or None,
            "processes": [
                {
                    "pid": p.pid,
                    "role": p.role,
                    "name": p.name,
                    "started_at": timestamp(p.started_at),
                    "uptime_seconds": round(p.uptime_seconds, 3),
                }
                for p in d.processes
            ],
            "listening_sockets": [
                {"protocol": s.protocol, "address": s.address, "port": s.port, "pids": list(s.pids)}
                for s in d.listening_sockets
            ],
            "last_apply": _apply_record(d.last_apply) if d.HasField("last_apply") else None,
            "last_reload": _reload_record(d.last_reload) if d.HasField("last_reload") else None,
            "last_failed_reload": (
                _reload_record(d.last_failed_reload) if d.HasField("last_failed_reload") else None
            ),
            "collected_at": timestamp(d.collected_at),
        }
    }


def _apply_record(r: apb.ApplyRecord) -> dict[str, Any]:
    return {
        "at": timestamp(r.at),
        "result": _result_name(r.result),
        "config_hash": r.config_hash,
        "applied_config_hash": r.applied_config_hash or None,
        "renderer_version": r.renderer_version or None,
        "force": r.force,
        "detail": r.detail,
    }


def _result_name(value: int) -> str:
    try:
        return apb.ApplyResult.Name(value).removeprefix("APPLY_RESULT_")
    except ValueError:  # a result a newer agent knows and this gateway does not
        return "UNKNOWN"


def _reload_record(r: apb.ReloadRecord) -> dict[str, Any]:
    return {
        "at": timestamp(r.at),
        "action": r.action,
        "ok": r.ok,
        "error": r.error,
        "config_hash": r.config_hash or None,
    }


# -- logs ---------------------------------------------------------------------------------
class LogTailView(View):
    source: str  # agent, engine
    path: str
    lines: list[str]
    truncated: bool
    found: bool


class AmphoraLogs(View):
    amphora_id: str
    logs: list[LogTailView]


class AmphoraLogsRoot(View):
    amphora_logs: AmphoraLogs


def logs(resp: pb.GetAmphoraLogsResponse) -> dict[str, Any]:
    return {
        "amphora_logs": {
            "amphora_id": resp.amphora_id,
            "logs": [
                {
                    "source": t.source,
                    "path": t.path,
                    "lines": list(t.lines),
                    "truncated": t.truncated,
                    "found": t.found,
                }
                for t in resp.logs
            ],
        }
    }
