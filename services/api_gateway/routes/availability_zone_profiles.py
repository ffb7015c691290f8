"""/lbaas/availabilityzoneprofiles: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call
from services.api_gateway.routes.flavorprofiles import ensure_provider
from services.api_gateway.schemas import availability_zone as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/availabilityzoneprofiles", tags=["availabilityzoneprofiles"])
_OUT = {"response_model_exclude_unset": True}
_ROOT = "availability_zone_profile"


@router.post(
    "",
    status_code=201,
    response_model=v.AvailabilityZoneProfileRoot,
    responses=v.errors(400, 409),
    openapi_extra=v.request_body(schema.AvailabilityZoneProfileCreate, _ROOT),
    **_OUT,
)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.AvailabilityZoneProfileCreate, _ROOT)
    await ensure_provider(request, body.provider_name)
    req = schema.az_profile_create_request(body)
    resp = await call(request, "CreateAvailabilityZoneProfile", req)
    return {_ROOT: v.availability_zone_profile(resp.availability_zone_profile)}


@router.get("", response_model=v.AvailabilityZoneProfilesRoot, responses=v.errors(400), **_OUT)
async def list_(request: Request, who: Caller) -> dict:
    req = pb.ListAvailabilityZoneProfilesRequest()
    resp = await call(request, "ListAvailabilityZoneProfiles", req)
    items = [v.availability_zone_profile(p) for p in resp.availability_zone_profiles]
    return v.listing(
        request,
        items,
        "availability_zone_profiles",
        v.AvailabilityZoneProfile,
        links_key="availability_zone_profile_links",
    )


@router.get(
    "/{profile_id}",
    response_model=v.AvailabilityZoneProfileRoot,
    responses=v.errors(404),
    **_OUT,
)
async def show(profile_id: str, request: Request, who: Caller) -> dict:
    req = pb.GetAvailabilityZoneProfileRequest(id=profile_id)
    resp = await call(request, "GetAvailabilityZoneProfile", req)
    return v.one(request, _ROOT, v.availability_zone_profile(resp.availability_zone_profile))


@router.put(
    "/{profile_id}",
    response_model=v.AvailabilityZoneProfileRoot,
    responses=v.errors(400, 404, 409),
    openapi_extra=v.request_body(schema.AvailabilityZoneProfileUpdate, _ROOT),
    **_OUT,
)
async def update(profile_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.AvailabilityZoneProfileUpdate, _ROOT)
    await ensure_provider(request, body.provider_name)
    req = schema.az_profile_update_request(profile_id, body)
    resp = await call(request, "UpdateAvailabilityZoneProfile", req)
    return {_ROOT: v.availability_zone_profile(resp.availability_zone_profile)}


@router.delete(
    "/{profile_id}", status_code=204, response_class=Response, responses=v.errors(404, 409)
)
async def delete(profile_id: str, request: Request, who: Caller) -> Response:
    req = pb.DeleteAvailabilityZoneProfileRequest(id=profile_id)
    await call(request, "DeleteAvailabilityZoneProfile", req)
    return Response(status_code=204)
