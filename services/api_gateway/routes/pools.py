"""/lbaas/pools: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call, collection, filter_list
from services.api_gateway.schemas import pool as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/pools")


@router.post("", status_code=201)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.PoolCreate, "pool")
    resp = await call(request, "CreatePool", schema.create_request(body, who))
    return {"pool": views.pool(resp.pool)}


@router.get("")
async def list_(request: Request, who: Caller) -> dict:
    lb_id = request.query_params.get("loadbalancer_id", "")
    resp = await call(
        request, "ListPools", pb.ListPoolsRequest(scope=who.scope(), loadbalancer_id=lb_id)
    )
    items = [views.pool(x) for x in resp.pools]
    if lb_id:
        items = [i for i in items if {"id": lb_id} in i["loadbalancers"]]
    listener_id = request.query_params.get("listener_id")
    if listener_id:
        items = [i for i in items if {"id": listener_id} in i["listeners"]]
    handled = ("loadbalancer_id", "listener_id")
    return collection("pools", filter_list(items, request, handled))


@router.get("/{pool_id}")
async def show(pool_id: str, request: Request, who: Caller) -> dict:
    resp = await call(request, "GetPool", pb.GetPoolRequest(scope=who.scope(), id=pool_id))
    return {"pool": views.pool(resp.pool)}


@router.put("/{pool_id}")
async def update(pool_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.PoolUpdate, "pool")
    resp = await call(request, "UpdatePool", schema.update_request(pool_id, body, who))
    return {"pool": views.pool(resp.pool)}


@router.delete("/{pool_id}", status_code=204)
async def delete(pool_id: str, request: Request, who: Caller) -> Response:
    await call(request, "DeletePool", pb.DeletePoolRequest(scope=who.scope(), id=pool_id))
    return Response(status_code=204)
