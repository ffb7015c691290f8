"""/lbaas/loadbalancers: create (also fully populated), show, list, update, delete (cascade),
status tree, statistics, failover."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.list_cache import ListCache
from services.api_gateway.query import json_response
from services.api_gateway.routes.common import (
    ERRORS,
    accepted,
    call,
    health,
    list_response,
    respond,
    show_response,
)
from services.api_gateway.schemas import listener as listener_schema
from services.api_gateway.schemas import loadbalancer as schema
from services.api_gateway.schemas.body import parse_body, request_body
from services.api_gateway.schemas.fields import as_bool

router = APIRouter(prefix="/lbaas/loadbalancers", tags=["loadbalancers"])


@router.post(
    "",
    status_code=201,
    response_model=schema.LoadBalancerCreatedRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.LoadBalancerCreateRoot),
)
async def create(request: Request, who: Caller) -> Response:
    body = await parse_body(request, schema.LoadBalancerCreate, "loadbalancer")
    resp = await call(request, "CreateLoadBalancer", schema.create_request(body, who))
    view = schema.full_view if schema.is_graph(body) else schema.view
    # The bytes JSONResponse would send, encoded faster (as list responses are).
    return json_response({"loadbalancer": view(resp.loadbalancer)}, 201)


@router.get("", response_model=schema.LoadBalancerList, responses=ERRORS)
async def list_(request: Request, who: Caller) -> JSONResponse:
    """A conditional list: the views kept from the last answer for this scope are reused when
    the orchestrator answers not_modified (services/api_gateway/list_cache.py)."""
    scope = who.scope()
    key = (scope.project_id, scope.all_projects)
    kept: ListCache = request.app.state.list_cache
    etag = kept.etag(key)
    req = pb.ListLoadBalancersRequest(scope=scope, if_none_match=etag)
    resp = await call(request, "ListLoadBalancers", req)
    items = kept.get(key, etag) if resp.not_modified else None
    if resp.not_modified and items is None:  # the kept views went meanwhile: ask in full
        resp = await call(request, "ListLoadBalancers", pb.ListLoadBalancersRequest(scope=scope))
    if items is None:
        items = [schema.view(x) for x in resp.loadbalancers]
        kept.put(key, resp.etag, items)
    return list_response(request, "loadbalancers", items, schema.LoadBalancerView)


@router.get("/{lb_id}", response_model=schema.LoadBalancerRoot, responses=ERRORS)
async def show(lb_id: str, request: Request, who: Caller) -> JSONResponse:
    resp = await call(
        request, "GetLoadBalancer", pb.GetLoadBalancerRequest(scope=who.scope(), id=lb_id)
    )
    return show_response(request, "loadbalancer", schema.view(resp.loadbalancer))


@router.get("/{lb_id}/status", responses=ERRORS)
async def status(lb_id: str, request: Request, who: Caller) -> dict:
    req = pb.GetLoadBalancerStatusTreeRequest(scope=who.scope(), id=lb_id)
    resp = await call(request, "GetLoadBalancerStatusTree", req)
    return views.status_tree(resp.tree)


@router.get("/{lb_id}/stats", response_model=listener_schema.StatsRoot, responses=ERRORS)
async def stats(lb_id: str, request: Request, who: Caller) -> JSONResponse:
    """The load balancer's counters: the sum over its listeners (Octavia's definition)."""
    resp = await call(
        request, "GetLoadBalancer", pb.GetLoadBalancerRequest(scope=who.scope(), id=lb_id)
    )
    listener_ids = [x.meta.id for x in resp.loadbalancer.listeners if x.meta.id]
    entries = await health(request).listener_stats(listener_ids)
    return respond(views.stats(entries))


@router.put(
    "/{lb_id}/failover",
    status_code=202,
    response_class=Response,
    responses={**ERRORS, 202: {"description": "Failover accepted."}},
)
async def failover(lb_id: str, request: Request, who: Caller) -> Response:
    await call(
        request, "FailoverLoadBalancer", pb.FailoverLoadBalancerRequest(scope=who.scope(), id=lb_id)
    )
    return accepted()


@router.put(
    "/{lb_id}/resize",
    status_code=202,
    response_class=Response,
    responses={**ERRORS, 202: {"description": "Resize accepted."}},
    openapi_extra=request_body(schema.LoadBalancerResizeRoot),
)
async def resize(lb_id: str, request: Request, who: Caller) -> Response:
    """An extension (docs/compat.md): move the load balancer to another flavor of the same
    topology and backend, replacing its amphorae one at a time without dropping a request."""
    body = await parse_body(request, schema.LoadBalancerResize, "loadbalancer")
    await call(
        request,
        "ResizeLoadBalancer",
        pb.ResizeLoadBalancerRequest(scope=who.scope(), id=lb_id, flavor_id=body.flavor_id),
    )
    return accepted()


@router.put(
    "/{lb_id}",
    response_model=schema.LoadBalancerRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.LoadBalancerUpdateRoot),
)
async def update(lb_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.LoadBalancerUpdate, "loadbalancer")
    resp = await call(request, "UpdateLoadBalancer", schema.update_request(lb_id, body, who))
    return respond({"loadbalancer": schema.view(resp.loadbalancer)})


@router.delete("/{lb_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(lb_id: str, request: Request, who: Caller) -> Response:
    # WSME's words, as the input guard checked them ("on", "t", "y" are true too).
    cascade = bool(as_bool(request.query_params.get("cascade", "false").strip().lower()))
    req = pb.DeleteLoadBalancerRequest(scope=who.scope(), id=lb_id, cascade=cascade)
    await call(request, "DeleteLoadBalancer", req)
    return Response(status_code=204)
