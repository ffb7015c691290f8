"""/lbaas/listeners: create, show, list, update, delete, statistics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.faults import Fault
from services.api_gateway.routes.common import (
    ERRORS,
    call,
    health,
    list_response,
    respond,
    show_response,
)
from services.api_gateway.schemas import listener as schema
from services.api_gateway.schemas.body import parse_body, request_body

# A standalone create with children (nested default_pool / l7policies) is refused with 501: only the load
# balancer's single-call create nests (docs/compat.md).
_NESTED_501: dict[int | str, dict] = {
    501: {"model": Fault, "description": "Nested default_pool / l7policies: not implemented."}
}

router = APIRouter(prefix="/lbaas/listeners", tags=["listeners"])


@router.post(
    "",
    status_code=201,
    response_model=schema.ListenerRoot,
    responses={**ERRORS, **_NESTED_501},
    openapi_extra=request_body(schema.ListenerCreateRoot),
)
async def create(request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.ListenerCreate, "listener")
    resp = await call(request, "CreateListener", schema.create_request(body, who))
    return respond({"listener": schema.view(resp.listener)}, 201)


@router.get("", response_model=schema.ListenerList, responses=ERRORS)
async def list_(request: Request, who: Caller) -> JSONResponse:
    values = request.query_params.getlist("loadbalancer_id")
    lb_id = values[0] if len(values) == 1 else ""
    # openstacksdk filters with the database's name, load_balancer_id, which Octavia also
    # accepts (its filters are model columns): the same filter as loadbalancer_id.
    alias = set(request.query_params.getlist("load_balancer_id"))
    if alias and not values and len(alias) == 1:
        lb_id = next(iter(alias))
    req = pb.ListListenersRequest(scope=who.scope(), loadbalancer_id=lb_id)
    resp = await call(request, "ListListeners", req)
    items = [schema.view(x) for x in resp.listeners]
    if alias:
        items = [i for i in items if {lb["id"] for lb in i["loadbalancers"]} & alias]
    return list_response(
        request, "listeners", items, schema.ListenerView, ignore=("load_balancer_id",)
    )


async def _get(request: Request, who: Caller, listener_id: str) -> dict:
    resp = await call(
        request, "GetListener", pb.GetListenerRequest(scope=who.scope(), id=listener_id)
    )
    return schema.view(resp.listener)


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
    resp = await call(request, "UpdateListener", schema.update_request(listener_id, body, who))
    return respond({"listener": schema.view(resp.listener)})


@router.delete("/{listener_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(listener_id: str, request: Request, who: Caller) -> Response:
    await call(
        request, "DeleteListener", pb.DeleteListenerRequest(scope=who.scope(), id=listener_id)
    )
    return Response(status_code=204)
