"""/lbaas/l7policies: create (with rules), show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import ERRORS, call, list_response, respond, show_response
from services.api_gateway.schemas import l7policy as schema
from services.api_gateway.schemas.body import parse_body, request_body

router = APIRouter(prefix="/lbaas/l7policies", tags=["l7policies"])


@router.post(
    "",
    status_code=201,
    response_model=schema.L7PolicyRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.L7PolicyCreateRoot),
)
async def create(request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.L7PolicyCreate, "l7policy")
    resp = await call(request, "CreateL7Policy", schema.create_request(body, who))
    return respond({"l7policy": schema.view(resp.l7policy)}, 201)


@router.get("", response_model=schema.L7PolicyList, responses=ERRORS)
async def list_(request: Request, who: Caller) -> JSONResponse:
    values = request.query_params.getlist("listener_id")
    listener_id = values[0] if len(values) == 1 else ""
    req = pb.ListL7PoliciesRequest(scope=who.scope(), listener_id=listener_id)
    resp = await call(request, "ListL7Policies", req)
    items = [schema.view(x) for x in resp.l7policies]
    return list_response(request, "l7policies", items, schema.L7PolicyView)


@router.get("/{l7policy_id}", response_model=schema.L7PolicyRoot, responses=ERRORS)
async def show(l7policy_id: str, request: Request, who: Caller) -> JSONResponse:
    resp = await call(
        request, "GetL7Policy", pb.GetL7PolicyRequest(scope=who.scope(), id=l7policy_id)
    )
    return show_response(request, "l7policy", schema.view(resp.l7policy))


@router.put(
    "/{l7policy_id}",
    response_model=schema.L7PolicyRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.L7PolicyUpdateRoot),
)
async def update(l7policy_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.L7PolicyUpdate, "l7policy")
    resp = await call(request, "UpdateL7Policy", schema.update_request(l7policy_id, body, who))
    return respond({"l7policy": schema.view(resp.l7policy)})


@router.delete("/{l7policy_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(l7policy_id: str, request: Request, who: Caller) -> Response:
    await call(
        request, "DeleteL7Policy", pb.DeleteL7PolicyRequest(scope=who.scope(), id=l7policy_id)
    )
    return Response(status_code=204)
