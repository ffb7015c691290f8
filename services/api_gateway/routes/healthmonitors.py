"""/lbaas/healthmonitors: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call, collection, filter_list
from services.api_gateway.schemas import healthmonitor as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/healthmonitors")


@router.post("", status_code=201)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.HealthMonitorCreate, "healthmonitor")
    resp = await call(request, "CreateHealthMonitor", schema.create_request(body, who))
    return {"healthmonitor": views.healthmonitor(resp.healthmonitor)}


@router.get("")
async def list_(request: Request, who: Caller) -> dict:
    resp = await call(
        request, "ListHealthMonitors", pb.ListHealthMonitorsRequest(scope=who.scope())
    )
    items = [views.healthmonitor(x) for x in resp.healthmonitors]
    pool_id = request.query_params.get("pool_id")
    if pool_id:
        items = [i for i in items if {"id": pool_id} in i["pools"]]
    return collection("healthmonitors", filter_list(items, request, ("pool_id",)))


@router.get("/{hm_id}")
async def show(hm_id: str, request: Request, who: Caller) -> dict:
    resp = await call(
        request, "GetHealthMonitor", pb.GetHealthMonitorRequest(scope=who.scope(), id=hm_id)
    )
    return {"healthmonitor": views.healthmonitor(resp.healthmonitor)}


@router.put("/{hm_id}")
async def update(hm_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.HealthMonitorUpdate, "healthmonitor")
    # The type decides which HTTP fields are valid; it cannot change, so read it first.
    current = await call(
        request, "GetHealthMonitor", pb.GetHealthMonitorRequest(scope=who.scope(), id=hm_id)
    )
    req = schema.update_request(hm_id, body, who, current.healthmonitor.type)
    resp = await call(request, "UpdateHealthMonitor", req)
    return {"healthmonitor": views.healthmonitor(resp.healthmonitor)}


@router.delete("/{hm_id}", status_code=204)
async def delete(hm_id: str, request: Request, who: Caller) -> Response:
    await call(
        request, "DeleteHealthMonitor", pb.DeleteHealthMonitorRequest(scope=who.scope(), id=hm_id)
    )
    return Response(status_code=204)
