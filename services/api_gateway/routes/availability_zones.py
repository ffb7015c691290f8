"""/lbaas/availabilityzones: create, show, list, update, delete; zones are keyed by name."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call
from services.api_gateway.schemas import availability_zone as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/availabilityzones", tags=["availabilityzones"])
_OUT = {"response_model_exclude_unset": True}
_ROOT = "availability_zone"


@router.post(
    "",
    status_code=201,
    response_model=v.AvailabilityZoneRoot,
    responses=v.errors(400, 409),
    openapi_extra=v.request_body(schema.AvailabilityZoneCreate, _ROOT),
    **_OUT,
)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.AvailabilityZoneCreate, _ROOT)
    resp = await call(request, "CreateAvailabilityZone", schema.az_create_request(body))
    return {_ROOT: v.availability_zone(resp.availability_zone)}


@router.get("", response_model=v.AvailabilityZonesRoot, responses=v.errors(400), **_OUT)
async def list_(request: Request, who: Caller) -> dict:
    resp = await call(request, "ListAvailabilityZones", pb.ListAvailabilityZonesRequest())
    items = [v.availability_zone(z) for z in resp.availability_zones]
    return v.listing(request, items, "availability_zones", v.AvailabilityZone, id_key="name")


@router.get("/{name}", response_model=v.AvailabilityZoneRoot, responses=v.errors(404), **_OUT)
async def show(name: str, request: Request, who: Caller) -> dict:
    resp = await call(request, "GetAvailabilityZone", pb.GetAvailabilityZoneRequest(name=name))
    return v.one(request, _ROOT, v.availability_zone(resp.availability_zone))


@router.put(
    "/{name}",
    response_model=v.AvailabilityZoneRoot,
    responses=v.errors(400, 404, 409),
    openapi_extra=v.request_body(schema.AvailabilityZoneUpdate, _ROOT),
    **_OUT,
)
async def update(name: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.AvailabilityZoneUpdate, _ROOT)
    resp = await call(request, "UpdateAvailabilityZone", schema.az_update_request(name, body))
    return {_ROOT: v.availability_zone(resp.availability_zone)}


@router.delete("/{name}", status_code=204, response_class=Response, responses=v.errors(404, 409))
async def delete(name: str, request: Request, who: Caller) -> Response:
    await call(request, "DeleteAvailabilityZone", pb.DeleteAvailabilityZoneRequest(name=name))
    return Response(status_code=204)
