"""The composition root: builds the app with real or injected orchestrator and health ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.api_gateway.adapters.health import GrpcHealth, HealthPort
from services.api_gateway.adapters.orchestrator import GrpcOrchestrator, OrchestratorPort
from services.api_gateway.app import create_app
from services.api_gateway.auth import TokenStore
from services.api_gateway.config import Settings


def bootstrap(
    settings: Settings,
    orchestrator: OrchestratorPort | None = None,
    health: HealthPort | None = None,
) -> FastAPI:
    port = orchestrator or GrpcOrchestrator(
        settings.orchestrator_addr, settings.rpc_timeout, tls=settings.tls
    )
    health_port = health or GrpcHealth(settings.health_addr, settings.rpc_timeout, tls=settings.tls)
    app = create_app(
        port, TokenStore(settings.tokens_file), max_request_body=settings.max_request_body
    )
    app.state.health = health_port
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            yield state
        await health_port.close()

    app.router.lifespan_context = lifespan
    return app
