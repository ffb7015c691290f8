"""/lbaas/providers: enabled provider drivers and what their flavors and zones may set."""

from __future__ import annotations

from fastapi import APIRouter, Request
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call

router = APIRouter(prefix="/lbaas/providers", tags=["providers"])
_OUT = {"response_model_exclude_unset": True}


@router.get("", response_model=v.ProvidersRoot, responses=v.errors(), **_OUT)
async def list_(request: Request, who: Caller) -> dict:
    resp = await call(request, "ListProviders", pb.ListProvidersRequest())
    items = [v.provider(p) for p in resp.providers]
    return {"providers": v.fields_only(request, items)}


@router.get(
    "/{provider}/flavor_capabilities",
    response_model=v.FlavorCapabilitiesRoot,
    responses=v.errors(400, 404),
    **_OUT,
)
async def flavor_capabilities(provider: str, request: Request, who: Caller) -> dict:
    req = pb.ListProviderCapabilitiesRequest(provider=provider)
    resp = await call(request, "ListProviderFlavorCapabilities", req)
    items = [v.provider(c) for c in resp.capabilities]
    return {"flavor_capabilities": v.fields_only(request, items)}


@router.get(
    "/{provider}/availability_zone_capabilities",
    response_model=v.AvailabilityZoneCapabilitiesRoot,
    responses=v.errors(400, 404),
    **_OUT,
)
async def availability_zone_capabilities(provider: str, request: Request, who: Caller) -> dict:
    req = pb.ListProviderCapabilitiesRequest(provider=provider)
    resp = await call(request, "ListProviderAvailabilityZoneCapabilities", req)
    items = [v.provider(c) for c in resp.capabilities]
    return {"availability_zone_capabilities": v.fields_only(request, items)}
