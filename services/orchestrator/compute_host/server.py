"""Starts the compute host's gRPC server (health, reflection and error mapping come from common)."""

from __future__ import annotations

import grpc

from services.common.server import start_server
from services.orchestrator.adapters.compute_local import LocalComputeDriver
from services.orchestrator.compute_host.bootstrap import build_bindings
from services.orchestrator.compute_host.config import Settings


async def serve(
    settings: Settings, address: str | None = None, *, driver: LocalComputeDriver | None = None
) -> tuple[grpc.aio.Server, int]:
    """Starts serving on address (default: the settings' bind address); returns server and port.
    driver: tests inject one (default: bootstrap.build_driver)."""
    return await start_server(
        build_bindings(settings, driver), address or settings.bind_address, tls=settings.tls
    )
