"""/lbaas/flavorprofiles: create, show, list, update, delete (provider-specific flavor data)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.faults import invalid_field
from services.api_gateway.routes.common import call
from services.api_gateway.schemas import flavor as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/flavorprofiles", tags=["flavorprofiles"])
_OUT = {"response_model_exclude_unset": True}


async def ensure_provider(request: Request, name: str | None) -> None:
    """A profile must name an enabled provider; checked before anything is written."""
    if name is None:
        return
    resp = await call(request, "ListProviders", pb.ListProvidersRequest())
    if name not in {p.name for p in resp.providers}:
        raise invalid_field("provider_name", name, f"Provider '{name}' is not enabled.")


@router.post(
    "",
    status_code=201,
    response_model=v.FlavorProfileRoot,
    responses=v.errors(400, 409),
    openapi_extra=v.request_body(schema.FlavorProfileCreate, "flavorprofile"),
    **_OUT,
)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.FlavorProfileCreate, "flavorprofile")
    await ensure_provider(request, body.provider_name)
    resp = await call(request, "CreateFlavorProfile", schema.flavor_profile_create_request(body))
    return {"flavorprofile": v.flavor_profile(resp.flavorprofile)}


@router.get("", response_model=v.FlavorProfilesRoot, responses=v.errors(400), **_OUT)
async def list_(request: Request, who: Caller) -> dict:
    resp = await call(request, "ListFlavorProfiles", pb.ListFlavorProfilesRequest())
    items = [v.flavor_profile(p) for p in resp.flavorprofiles]
    return v.listing(
        request, items, "flavorprofiles", v.FlavorProfile, links_key="flavorprofile_links"
    )


@router.get("/{profile_id}", response_model=v.FlavorProfileRoot, responses=v.errors(404), **_OUT)
async def show(profile_id: str, request: Request, who: Caller) -> dict:
    resp = await call(request, "GetFlavorProfile", pb.GetFlavorProfileRequest(id=profile_id))
    return v.one(request, "flavorprofile", v.flavor_profile(resp.flavorprofile))


@router.put(
    "/{profile_id}",
    response_model=v.FlavorProfileRoot,
    responses=v.errors(400, 404, 409),
    openapi_extra=v.request_body(schema.FlavorProfileUpdate, "flavorprofile"),
    **_OUT,
)
async def update(profile_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.FlavorProfileUpdate, "flavorprofile")
    await ensure_provider(request, body.provider_name)
    req = schema.flavor_profile_update_request(profile_id, body)
    resp = await call(request, "UpdateFlavorProfile", req)
    return {"flavorprofile": v.flavor_profile(resp.flavorprofile)}


@router.delete(
    "/{profile_id}", status_code=204, response_class=Response, responses=v.errors(404, 409)
)
async def delete(profile_id: str, request: Request, who: Caller) -> Response:
    await call(request, "DeleteFlavorProfile", pb.DeleteFlavorProfileRequest(id=profile_id))
    return Response(status_code=204)
