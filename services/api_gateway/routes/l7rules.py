"""/lbaas/l7policies/{l7policy_id}/rules: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import ERRORS, call, list_response, respond, show_response
from services.api_gateway.schemas import l7rule as schema
from services.api_gateway.schemas.body import parse_body, request_body

router = APIRouter(prefix="/lbaas/l7policies/{l7policy_id}/rules", tags=["l7rules"])


@router.post(
    "",
    status_code=201,
    response_model=schema.L7RuleRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.L7RuleCreateRoot),
)
async def create(l7policy_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.L7RuleCreate, "rule")
    resp = await call(request, "CreateL7Rule", schema.create_request(l7policy_id, body, who))
    return respond({"rule": schema.view(resp.l7rule)}, 201)


@router.get("", response_model=schema.L7RuleList, responses=ERRORS)
async def list_(l7policy_id: str, request: Request, who: Caller) -> JSONResponse:
    req = pb.ListL7RulesRequest(scope=who.scope(), l7policy_id=l7policy_id)
    resp = await call(request, "ListL7Rules", req)
    items = [schema.view(x) for x in resp.l7rules]
    # openstacksdk repeats the path's policy as ?l7policy_id= (a column filter in Octavia).
    wanted = request.query_params.getlist("l7policy_id")
    if wanted and l7policy_id not in wanted:
        items = []
    return list_response(request, "rules", items, schema.L7RuleView, ignore=("l7policy_id",))


async def _get(request: Request, who: Caller, l7policy_id: str, rule_id: str) -> dict:
    req = pb.GetL7RuleRequest(scope=who.scope(), l7policy_id=l7policy_id, id=rule_id)
    resp = await call(request, "GetL7Rule", req)
    return schema.view(resp.l7rule)


@router.get("/{l7rule_id}", response_model=schema.L7RuleRoot, responses=ERRORS)
async def show(l7policy_id: str, l7rule_id: str, request: Request, who: Caller) -> JSONResponse:
    return show_response(request, "rule", await _get(request, who, l7policy_id, l7rule_id))


@router.put(
    "/{l7rule_id}",
    response_model=schema.L7RuleRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.L7RuleUpdateRoot),
)
async def update(l7policy_id: str, l7rule_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.L7RuleUpdate, "rule")
    req = schema.update_request(l7policy_id, l7rule_id, body, who)
    resp = await call(request, "UpdateL7Rule", req)
    return respond({"rule": schema.view(resp.l7rule)})


@router.delete("/{l7rule_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(l7policy_id: str, l7rule_id: str, request: Request, who: Caller) -> Response:
    req = pb.DeleteL7RuleRequest(scope=who.scope(), l7policy_id=l7policy_id, id=l7rule_id)
    await call(request, "DeleteL7Rule", req)
    return Response(status_code=204)
