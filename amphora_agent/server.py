"""The agent's gRPC server: mutual TLS, controller-only peers, health, reflection, SIGTERM."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from lbaas.amphora.v1 import amphora_service_pb2, amphora_service_pb2_grpc

from amphora_agent import keepalived, nginx, privileges
from amphora_agent.applier import Applier
from amphora_agent.certificates import ServerCertificate
from amphora_agent.config import Settings
from amphora_agent.drain import Drainer, table_name
from amphora_agent.haproxy import Haproxy, probe_versions
from amphora_agent.heartbeat import HeartbeatSender, KeyFile
from amphora_agent.history import History
from amphora_agent.process import ManagedProcess
from amphora_agent.service import API_VERSION, LEGACY_API_VERSION, AgentService
from amphora_agent.stats import LiveStats, SnapshotSource
from services.common import tracing

log = logging.getLogger(__name__)

CONTROLLER_CN = b"lbaas-controller"


async def _require_controller(context: grpc.aio.ServicerContext) -> None:
    names = (context.auth_context() or {}).get("x509_common_name", [])
    if CONTROLLER_CN not in names:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "controller certificate required")


def _guard(behavior):
    if inspect.isasyncgenfunction(behavior):

        async def guarded_stream(request, context):
            await _require_controller(context)
            async for item in behavior(request, context):
                yield item

        return guarded_stream

    async def guarded(request, context):
        await _require_controller(context)
        result = behavior(request, context)
        return await result if inspect.isawaitable(result) else result

    return guarded


class ControllerOnly(grpc.aio.ServerInterceptor):
    """mTLS proves the CA; this also demands the controller's CN on every RPC."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        for kind, factory in (
            ("unary_unary", grpc.unary_unary_rpc_method_handler),
            ("unary_stream", grpc.unary_stream_rpc_method_handler),
            ("stream_unary", grpc.stream_unary_rpc_method_handler),
            ("stream_stream", grpc.stream_stream_rpc_method_handler),
        ):
            behavior = getattr(handler, kind)
            if behavior is not None:
                return factory(
                    _guard(behavior), handler.request_deserializer, handler.response_serializer
                )
        return handler


def _write_atomic(path: str, text: str) -> None:
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


async def serve(settings: Settings) -> None:
    run_dir = settings.runtime_dir
    os.makedirs(run_dir, exist_ok=True)
    _write_atomic(os.path.join(run_dir, "agent.pid"), f"{os.getpid()}\n")

    # Before anything is validated or started: the user the workers switch to, haproxy's chroot.
    workers = privileges.prepare(settings.backend, run_dir)
    # Log offload: with local storage off the engines' output is kept in memory, not in files.
    local_logs = not settings.disable_local_log_storage
    process: ManagedProcess
    if settings.backend == "nginx":
        process = nginx.Nginx(settings.nginx_bin, run_dir, local_logs=local_logs)
        software_version, openssl_version = nginx.probe_versions(settings.nginx_bin)
        live: SnapshotSource = nginx.NginxStats(run_dir, lambda: process.running)
    else:
        haproxy = Haproxy(
            settings.haproxy_bin,
            run_dir,
            workers.chroot if workers else None,
            local_logs=local_logs,
        )
        process = haproxy
        software_version, openssl_version = probe_versions(settings.haproxy_bin)
        live = LiveStats(haproxy.stats_sock, lambda: haproxy.running)
    vrrp = keepalived.Keepalived(settings.keepalived_bin, run_dir, local_logs=local_logs)
    search_gid = workers.gid if workers is not None and workers.reads_conf else None
    applier = Applier(
        run_dir, process, vrrp, search_gid=search_gid, history=History.in_dir(run_dir)
    )
    drainer = Drainer(settings.nft_bin, table_name(settings.amphora_id), settings.drain_hold)
    certificate = ServerCertificate(
        settings.amphora_id, settings.tls_cert, settings.tls_key, settings.client_ca
    )
    service = AgentService(
        amphora_id=settings.amphora_id,
        runtime_dir=run_dir,
        backend=settings.backend,
        versions={
            settings.backend: software_version,
            "openssl": openssl_version,
            "keepalived": keepalived.probe_version(settings.keepalived_bin),
        },
        applier=applier,
        stats=live,
        certificate=certificate,
        drainer=drainer,
        api_version=API_VERSION if workers is not None else LEGACY_API_VERSION,
        runtime_plans=settings.runtime_plans,
    )

    server = grpc.aio.server(interceptors=[*tracing.grpc_server_interceptors(), ControllerOnly()])
    amphora_service_pb2_grpc.add_AmphoraAgentServiceServicer_to_server(service, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            amphora_service_pb2.DESCRIPTOR.services_by_name["AmphoraAgentService"].full_name,
            health.SERVICE_NAME,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    # Dynamic: UpdateCertificate swaps the certificate for new handshakes without a restart.
    port = server.add_secure_port(settings.listen, certificate.credentials())
    if port == 0:
        raise SystemExit(f"cannot listen on {settings.listen}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    await applier.recover()
    await drainer.start()  # a drain left by a crashed agent run is lifted (before GetInfo)
    await server.start()
    host = settings.listen.rpartition(":")[0]
    _write_atomic(os.path.join(run_dir, "agent.port"), f"{port}\n")
    for name in (
        "",
        amphora_service_pb2.DESCRIPTOR.services_by_name["AmphoraAgentService"].full_name,
    ):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "amphora agent %s serving on %s:%d (%s %s)",
        settings.amphora_id,
        host,
        port,
        settings.backend,
        software_version,
    )

    sender = HeartbeatSender(
        settings.amphora_id,
        list(settings.heartbeat_targets),
        KeyFile(settings.heartbeat_key_file),
        settings.heartbeat_interval,
        live.snapshot,
        lambda: applier.applied_hash,
        lambda: applier.applied_renderer_version,
    )
    beats = asyncio.create_task(sender.run())
    stopping = False
    try:
        await stop.wait()
        stopping = True
        log.info("stopping")
    finally:
        beats.cancel()
        await asyncio.gather(beats, return_exceptions=True)
        if stopping:
            sender.farewell()  # the health service forgets this amphora now
        # keepalived first: it hands the VIP to the peer at once while haproxy still serves.
        await vrrp.stop()
        await server.stop(grace=1.0)
        await process.stop()
        # Last: new connections are refused at the SYN until nothing serves them any more.
        await drainer.stop()
        for name in ("agent.pid", "agent.port"):
            try:
                os.unlink(os.path.join(run_dir, name))
            except OSError:
                pass
