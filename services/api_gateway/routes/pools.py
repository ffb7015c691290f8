"""/lbaas/pools: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.auth import Caller
from services.api_gateway.faults import Fault
from services.api_gateway.routes.common import ERRORS, call, list_response, respond, show_response
from services.api_gateway.schemas import pool as schema
from services.api_gateway.schemas.body import parse_body, request_body

# A standalone create with children (nested healthmonitor / members) is refused with 501: only the load
# balancer's single-call create nests (docs/compat.md).
_NESTED_501: dict[int | str, dict] = {
    501: {"model": Fault, "description": "Nested healthmonitor / members: not implemented."}
}

router = APIRouter(prefix="/lbaas/pools", tags=["pools"])


@router.post(
    "",
    status_code=201,
    response_model=schema.PoolRoot,
    responses={**ERRORS, **_NESTED_501},
    openapi_extra=request_body(schema.PoolCreateRoot),
)
async def create(request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.PoolCreate, "pool")
    resp = await call(request, "CreatePool", schema.create_request(body, who))
    return respond({"pool": schema.view(resp.pool)}, 201)


@router.get("", response_model=schema.PoolList, responses=ERRORS)
async def list_(request: Request, who: Caller) -> JSONResponse:
    values = request.query_params.getlist("loadbalancer_id")
    lb_id = values[0] if len(values) == 1 else ""
    resp = await call(
        request, "ListPools", pb.ListPoolsRequest(scope=who.scope(), loadbalancer_id=lb_id)
    )
    items = [schema.view(x) for x in resp.pools]
    return list_response(request, "pools", items, schema.PoolView)


@router.get("/{pool_id}", response_model=schema.PoolRoot, responses=ERRORS)
async def show(pool_id: str, request: Request, who: Caller) -> JSONResponse:
    resp = await call(request, "GetPool", pb.GetPoolRequest(scope=who.scope(), id=pool_id))
    return show_response(request, "pool", schema.view(resp.pool))


@router.put(
    "/{pool_id}",
    response_model=schema.PoolRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.PoolUpdateRoot),
)
async def update(pool_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.PoolUpdate, "pool")
    resp = await call(request, "UpdatePool", schema.update_request(pool_id, body, who))
    return respond({"pool": schema.view(resp.pool)})


@router.delete("/{pool_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(pool_id: str, request: Request, who: Caller) -> Response:
    await call(request, "DeletePool", pb.DeletePoolRequest(scope=who.scope(), id=pool_id))
    return Response(status_code=204)
