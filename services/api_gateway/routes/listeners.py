"""/lbaas/listeners: create, show, list, update, delete, statistics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.faults import invalid_field
from services.api_gateway.routes.common import (
    ERRORS,
    call,
    health,
    list_response,
    respond,
    show_response,
)
from services.api_gateway.schemas import listener as schema
from services.api_gateway.schemas.body import FieldError, parse_body, request_body

router = APIRouter(prefix="/lbaas/listeners", tags=["listeners"])


@router.post(
    "",
    status_code=201,
    response_model=schema.ListenerRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.ListenerCreateRoot),
)
async def create(request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.ListenerCreate, "listener")
    resp = await call(request, "CreateListener", schema.create_request(body, who))
    return respond({"listener": views.listener(resp.listener)}, 201)


@router.get("", response_model=schema.ListenerList, responses=ERRORS)
async def list_(request: Request, who: Caller) -> JSONResponse:
    values = request.query_params.getlist("loadbalancer_id")
    lb_id = values[0] if len(values) == 1 else ""
    req = pb.ListListenersRequest(scope=who.scope(), loadbalancer_id=lb_id)
    resp = await call(request, "ListListeners", req)
    items = [views.listener(x) for x in resp.listeners]
    return list_response(request, "listeners", items, schema.ListenerView)


async def _get(request: Request, who: Caller, listener_id: str) -> dict:
    resp = await call(
        request, "GetListener", pb.GetListenerRequest(scope=who.scope(), id=listener_id)
    )
    return views.listener(resp.listener)


@router.get("/{listener_id}", response_model=schema.ListenerRoot, responses=ERRORS)
async def show(listener_id: str, request: Request, who: Caller) -> JSONResponse:
    return show_response(request, "listener", await _get(request, who, listener_id))


@router.get("/{listener_id}/stats", response_model=schema.StatsRoot, responses=ERRORS)
async def stats(listener_id: str, request: Request, who: Caller) -> JSONResponse:
    await _get(request, who, listener_id)  # scope check: 404 for another project's listener
    entries = await health(request).listener_stats([listener_id])
    return respond(views.stats(entries))


@router.put(
    "/{listener_id}",
    response_model=schema.ListenerRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.ListenerUpdateRoot),
)
async def update(listener_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.ListenerUpdate, "listener")
    # Which TLS and header options are valid depends on the protocol and on the listener's
    # current TLS settings, so the listener is read first.
    current = await _get(request, who, listener_id)
    try:
        schema.check_update(current, body)
    except FieldError as err:
        raise invalid_field(err.field, err.value, str(err)) from None
    req = schema.update_request(listener_id, body, who, current["protocol"])
    resp = await call(request, "UpdateListener", req)
    return respond({"listener": views.listener(resp.listener)})


@router.delete("/{listener_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(listener_id: str, request: Request, who: Caller) -> Response:
    await call(
        request, "DeleteListener", pb.DeleteListenerRequest(scope=who.scope(), id=listener_id)
    )
    return Response(status_code=204)
