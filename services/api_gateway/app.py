"""The FastAPI application: routes under /v2 and /v2.0, error handlers, injected ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api_gateway import faults
from services.api_gateway.adapters.orchestrator import OrchestratorPort
from services.api_gateway.auth import TokenStore
from services.api_gateway.routes import (
    healthmonitors,
    listeners,
    loadbalancers,
    members,
    networks,
    pools,
    versions,
)
from services.common.errors import DomainError

OCTAVIA_ROUTERS = (loadbalancers, listeners, pools, members, healthmonitors)


async def _request_validation(request, exc) -> JSONResponse:  # type: ignore[no-untyped-def]
    first = exc.errors()[0] if exc.errors() else {}
    field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
    return faults.error_response(
        request, 400, f"Invalid input for field/attribute {field}. {first.get('msg', '')}"
    )


def create_app(orchestrator: OrchestratorPort, tokens: TokenStore) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await orchestrator.close()

    app = FastAPI(
        title="lbaas api_gateway",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.orchestrator = orchestrator
    app.state.tokens = tokens
    app.include_router(versions.router)
    for module in OCTAVIA_ROUTERS:
        for prefix in ("/v2", "/v2.0"):
            app.include_router(module.router, prefix=prefix)
    app.include_router(networks.router)
    app.add_exception_handler(faults.ApiFault, faults.handle_api_fault)
    app.add_exception_handler(DomainError, faults.handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, faults.handle_http_exception)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(Exception, faults.handle_unexpected)
    return app
