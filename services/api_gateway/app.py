"""The FastAPI application: routes under /v2 and /v2.0, error handlers, injected ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api_gateway import faults, openapi
from services.api_gateway.adapters.orchestrator import OrchestratorPort
from services.api_gateway.auth import AuthSettings, TokenStore, authenticate, make_authenticator
from services.api_gateway.input_guard import DEFAULT_MAX_BODY, InputGuard, refuse_stray_body
from services.api_gateway.list_cache import ListCache
from services.api_gateway.observability import RequestIds
from services.api_gateway.policy import PolicyEngine
from services.api_gateway.routes import (
    amphorae,
    availability_zone_profiles,
    availability_zones,
    certificates,
    failover,
    flavorprofiles,
    flavors,
    healthmonitors,
    identity,
    l7policies,
    l7rules,
    listeners,
    loadbalancers,
    management,
    members,
    networks,
    pools,
    providers,
    quotas,
    versions,
)
from services.common.errors import DomainError

OCTAVIA_ROUTERS = (
    loadbalancers,
    listeners,
    pools,
    members,
    healthmonitors,
    l7policies,
    l7rules,
    certificates,
)
# Operator resources (quotas, providers, flavors, availability zones, amphorae, failover, the
# management API).
ADMIN_ROUTERS = (
    quotas,
    providers,
    flavors,
    flavorprofiles,
    availability_zones,
    availability_zone_profiles,
    amphorae,
    failover,
    management,
)


async def _request_validation(request, exc) -> JSONResponse:  # type: ignore[no-untyped-def]
    first = exc.errors()[0] if exc.errors() else {}
    field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
    return faults.error_response(
        request, 400, f"Invalid input for field/attribute {field}. {first.get('msg', '')}"
    )


def create_app(
    orchestrator: OrchestratorPort,
    tokens: TokenStore,
    auth: AuthSettings | None = None,
    max_request_body: int = DEFAULT_MAX_BODY,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await orchestrator.close()

    app = FastAPI(
        title="lbaas api_gateway",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    openapi.install(app)
    app.state.orchestrator = orchestrator
    app.state.list_cache = ListCache()
    app.state.tokens = tokens
    # Authentication strategy and oslo.policy RBAC (LBAAS_AUTH_STRATEGY, LBAAS_POLICY_FILE).
    auth = auth or AuthSettings.from_env()
    app.state.authenticator = make_authenticator(auth, tokens)
    app.state.policy = PolicyEngine(auth.policy_file or None)
    # Every Octavia route is authenticated and policy-checked, even one without `Caller`.
    # A write that takes no body refuses one; checked after authentication, so the body of an
    # unknown caller is never read.
    guarded = [Depends(authenticate), Depends(refuse_stray_body)]
    app.include_router(versions.router)
    for module in OCTAVIA_ROUTERS:
        for prefix in ("/v2", "/v2.0"):
            app.include_router(module.router, prefix=prefix, dependencies=guarded)
    for module in ADMIN_ROUTERS:
        for prefix in ("/v2", "/v2.0"):
            app.include_router(module.router, prefix=prefix, dependencies=guarded)
    app.include_router(networks.router)
    # Keystone-shaped read-only projects for clients pointed at this gateway as their identity.
    app.include_router(identity.router)
    app.add_exception_handler(faults.ApiFault, faults.handle_api_fault)
    app.add_exception_handler(DomainError, faults.handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, faults.handle_http_exception)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(Exception, faults.handle_unexpected)
    # Malformed paths, query strings, oversized or non-JSON bodies never reach a route.
    app.add_middleware(InputGuard, max_body=max_request_body)
    # Outermost: every answer carries its request id, refusals of the input guard too.
    app.add_middleware(RequestIds)
    return app
