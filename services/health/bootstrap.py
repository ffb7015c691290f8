"""Composition root: builds the health service's adapters and wires them to the domain."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import grpc

from services.health.adapters.key_file import KeyFile
from services.health.adapters.orchestrator_client import GrpcOrchestrator
from services.health.adapters.udp import start_receiver
from services.health.config import Settings, split_host_port
from services.health.domain.drops import DropCounts, DropRecorder
from services.health.domain.intake import HeartbeatIntake
from services.health.domain.ports import Orchestrator
from services.health.domain.registry import HealthRegistry
from services.health.domain.replay import ReplayGuard
from services.health.domain.reporter import StatusReporter
from services.health.server import serve

log = logging.getLogger(__name__)


@dataclass
class HealthApp:
    """A running health service; tests read registry and drops directly."""

    settings: Settings
    registry: HealthRegistry
    drop_recorder: DropRecorder
    reporter: StatusReporter
    grpc_server: grpc.aio.Server
    grpc_port: int
    udp_port: int
    _udp_transport: object
    _orchestrator_client: GrpcOrchestrator | None

    @property
    def drops(self) -> DropCounts:
        return self.drop_recorder.counts

    async def stop(self, grace: float = 1.0) -> None:
        """Stops the gRPC server too; use close() when the server was stopped elsewhere."""
        await self.grpc_server.stop(grace)
        await self.close()

    async def close(self) -> None:
        self._udp_transport.close()  # type: ignore[attr-defined]
        await self.reporter.close()
        if self._orchestrator_client is not None:
            await self._orchestrator_client.close()


async def start(settings: Settings, *, orchestrator: Orchestrator | None = None) -> HealthApp:
    """Starts the UDP receiver, the stale check and the gRPC server."""
    client = None
    if orchestrator is None:
        client = GrpcOrchestrator(settings.orchestrator_addr, timeout=settings.rpc_timeout)
        orchestrator = client
    registry = HealthRegistry()
    replay = ReplayGuard(settings.max_clock_skew)
    drops = DropRecorder()
    reporter = StatusReporter(
        orchestrator,
        registry,
        stale_after=settings.stale_after,
        graph_ttl=settings.graph_ttl,
        resend_interval=settings.resend_interval,
        on_forget=replay.forget,
    )
    intake = HeartbeatIntake(
        keyring=KeyFile(settings.key_file),
        replay=replay,
        registry=registry,
        drops=drops,
        on_accepted=reporter.submit,
        wall_clock=time.time,
        monotonic_clock=time.monotonic,
    )
    host, port = split_host_port(settings.udp_addr)
    transport, udp_port = await start_receiver(host, port, intake.receive)
    try:
        server, grpc_port = await serve(registry, settings.grpc_addr)
    except BaseException:
        transport.close()
        if client is not None:
            await client.close()
        raise
    reporter.start()
    log.info(
        "health service: gRPC on port %d, heartbeats on UDP %s:%d, orchestrator at %s",
        grpc_port,
        host,
        udp_port,
        settings.orchestrator_addr,
    )
    return HealthApp(
        settings=settings,
        registry=registry,
        drop_recorder=drops,
        reporter=reporter,
        grpc_server=server,
        grpc_port=grpc_port,
        udp_port=udp_port,
        _udp_transport=transport,
        _orchestrator_client=client,
    )
