"""Starts the renderer's gRPC server (health, reflection and error mapping come from common)."""

from __future__ import annotations

import grpc

from services.common.server import start_server
from services.renderer.bootstrap import build_bindings
from services.renderer.config import Settings


async def serve(settings: Settings, address: str | None = None) -> tuple[grpc.aio.Server, int]:
    """Starts serving on address (default: the settings' bind address); returns server and port."""
    return await start_server(
        build_bindings(settings), address or settings.bind_address, tls=settings.tls
    )
