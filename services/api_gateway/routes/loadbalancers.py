"""/lbaas/loadbalancers: create, show, list, update, delete (cascade), status tree."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call, collection, filter_list
from services.api_gateway.schemas import loadbalancer as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/loadbalancers")


@router.post("", status_code=201)
async def create(request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.LoadBalancerCreate, "loadbalancer")
    resp = await call(request, "CreateLoadBalancer", schema.create_request(body, who))
    return {"loadbalancer": views.loadbalancer(resp.loadbalancer)}


@router.get("")
async def list_(request: Request, who: Caller) -> dict:
    resp = await call(request, "ListLoadBalancers", pb.ListLoadBalancersRequest(scope=who.scope()))
    items = [views.loadbalancer(x) for x in resp.loadbalancers]
    return collection("loadbalancers", filter_list(items, request))


@router.get("/{lb_id}")
async def show(lb_id: str, request: Request, who: Caller) -> dict:
    resp = await call(
        request, "GetLoadBalancer", pb.GetLoadBalancerRequest(scope=who.scope(), id=lb_id)
    )
    return {"loadbalancer": views.loadbalancer(resp.loadbalancer)}


@router.get("/{lb_id}/status")
async def status(lb_id: str, request: Request, who: Caller) -> dict:
    req = pb.GetLoadBalancerStatusTreeRequest(scope=who.scope(), id=lb_id)
    resp = await call(request, "GetLoadBalancerStatusTree", req)
    return views.status_tree(resp.tree)


@router.put("/{lb_id}")
async def update(lb_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.LoadBalancerUpdate, "loadbalancer")
    resp = await call(request, "UpdateLoadBalancer", schema.update_request(lb_id, body, who))
    return {"loadbalancer": views.loadbalancer(resp.loadbalancer)}


@router.delete("/{lb_id}", status_code=204)
async def delete(lb_id: str, request: Request, who: Caller) -> Response:
    cascade = request.query_params.get("cascade", "false").lower() in ("true", "1", "yes")
    req = pb.DeleteLoadBalancerRequest(scope=who.scope(), id=lb_id, cascade=cascade)
    await call(request, "DeleteLoadBalancer", req)
    return Response(status_code=204)
