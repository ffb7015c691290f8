"""The composition root: builds the app with a real or an injected orchestrator port."""

from __future__ import annotations

from fastapi import FastAPI

from services.api_gateway.adapters.orchestrator import GrpcOrchestrator, OrchestratorPort
from services.api_gateway.app import create_app
from services.api_gateway.auth import TokenStore
from services.api_gateway.config import Settings


def bootstrap(settings: Settings, orchestrator: OrchestratorPort | None = None) -> FastAPI:
    port = orchestrator or GrpcOrchestrator(settings.orchestrator_addr, settings.rpc_timeout)
    return create_app(port, TokenStore(settings.tokens_file))
