"""/lbaas/flavors: create, show, list, update, delete (operator-defined load balancer types)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call
from services.api_gateway.schemas import flavor as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/flavors", tags=["flavors"])
_OUT = {"response_model_exclude_unset": True}


@router.post(
    "",
    status_code=201,
    response_model=v.FlavorRoot,
    responses=v.errors(400, 409),
    openapi_extra=v.request_body(schema.FlavorCreate, "flavor"),
    **_OUT,
)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.FlavorCreate, "flavor")
    resp = await call(request, "CreateFlavor", schema.flavor_create_request(body))
    return {"flavor": v.flavor(resp.flavor)}


@router.get("", response_model=v.FlavorsRoot, responses=v.errors(400), **_OUT)
async def list_(request: Request, who: Caller) -> dict:
    resp = await call(request, "ListFlavors", pb.ListFlavorsRequest())
    items = [v.flavor(f) for f in resp.flavors]
    return v.listing(request, items, "flavors", v.Flavor)


@router.get("/{flavor_id}", response_model=v.FlavorRoot, responses=v.errors(404), **_OUT)
async def show(flavor_id: str, request: Request, who: Caller) -> dict:
    resp = await call(request, "GetFlavor", pb.GetFlavorRequest(id=flavor_id))
    return v.one(request, "flavor", v.flavor(resp.flavor))


@router.put(
    "/{flavor_id}",
    response_model=v.FlavorRoot,
    responses=v.errors(400, 404, 409),
    openapi_extra=v.request_body(schema.FlavorUpdate, "flavor"),
    **_OUT,
)
async def update(flavor_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.FlavorUpdate, "flavor")
    resp = await call(request, "UpdateFlavor", schema.flavor_update_request(flavor_id, body))
    return {"flavor": v.flavor(resp.flavor)}


@router.delete(
    "/{flavor_id}", status_code=204, response_class=Response, responses=v.errors(404, 409)
)
async def delete(flavor_id: str, request: Request, who: Caller) -> Response:
    await call(request, "DeleteFlavor", pb.DeleteFlavorRequest(id=flavor_id))
    return Response(status_code=204)
