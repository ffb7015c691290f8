"""/lbaas/healthmonitors: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import ERRORS, call, list_response, respond, show_response
from services.api_gateway.schemas import healthmonitor as schema
from services.api_gateway.schemas.body import parse_body, request_body

router = APIRouter(prefix="/lbaas/healthmonitors", tags=["healthmonitors"])


@router.post(
    "",
    status_code=201,
    response_model=schema.HealthMonitorRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.HealthMonitorCreateRoot),
)
async def create(request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.HealthMonitorCreate, "healthmonitor")
    resp = await call(request, "CreateHealthMonitor", schema.create_request(body, who))
    return respond({"healthmonitor": schema.view(resp.healthmonitor)}, 201)


@router.get("", response_model=schema.HealthMonitorList, responses=ERRORS)
async def list_(request: Request, who: Caller) -> JSONResponse:
    resp = await call(
        request, "ListHealthMonitors", pb.ListHealthMonitorsRequest(scope=who.scope())
    )
    items = [schema.view(x) for x in resp.healthmonitors]
    return list_response(request, "healthmonitors", items, schema.HealthMonitorView)


@router.get("/{hm_id}", response_model=schema.HealthMonitorRoot, responses=ERRORS)
async def show(hm_id: str, request: Request, who: Caller) -> JSONResponse:
    resp = await call(
        request, "GetHealthMonitor", pb.GetHealthMonitorRequest(scope=who.scope(), id=hm_id)
    )
    return show_response(request, "healthmonitor", schema.view(resp.healthmonitor))


@router.put(
    "/{hm_id}",
    response_model=schema.HealthMonitorRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.HealthMonitorUpdateRoot),
)
async def update(hm_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.HealthMonitorUpdate, "healthmonitor")
    resp = await call(request, "UpdateHealthMonitor", schema.update_request(hm_id, body, who))
    return respond({"healthmonitor": schema.view(resp.healthmonitor)})


@router.delete("/{hm_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(hm_id: str, request: Request, who: Caller) -> Response:
    await call(
        request, "DeleteHealthMonitor", pb.DeleteHealthMonitorRequest(scope=who.scope(), id=hm_id)
    )
    return Response(status_code=204)
