"""/lbaas/listeners: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call, collection, filter_list
from services.api_gateway.schemas import listener as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/listeners")


@router.post("", status_code=201)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.ListenerCreate, "listener")
    resp = await call(request, "CreateListener", schema.create_request(body, who))
    return {"listener": views.listener(resp.listener)}


@router.get("")
async def list_(request: Request, who: Caller) -> dict:
    lb_id = request.query_params.get("loadbalancer_id", "")
    req = pb.ListListenersRequest(scope=who.scope(), loadbalancer_id=lb_id)
    resp = await call(request, "ListListeners", req)
    items = [views.listener(x) for x in resp.listeners]
    if lb_id:
        items = [i for i in items if {"id": lb_id} in i["loadbalancers"]]
    return collection("listeners", filter_list(items, request, ("loadbalancer_id",)))


@router.get("/{listener_id}")
async def show(listener_id: str, request: Request, who: Caller) -> dict:
    resp = await call(
        request, "GetListener", pb.GetListenerRequest(scope=who.scope(), id=listener_id)
    )
    return {"listener": views.listener(resp.listener)}


@router.put("/{listener_id}")
async def update(listener_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.ListenerUpdate, "listener")
    resp = await call(request, "UpdateListener", schema.update_request(listener_id, body, who))
    return {"listener": views.listener(resp.listener)}


@router.delete("/{listener_id}", status_code=204)
async def delete(listener_id: str, request: Request, who: Caller) -> Response:
    await call(
        request, "DeleteListener", pb.DeleteListenerRequest(scope=who.scope(), id=listener_id)
    )
    return Response(status_code=204)
