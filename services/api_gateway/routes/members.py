"""/lbaas/pools/{pool_id}/members: create, show, list, update, delete, batch update."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.auth import Caller
from services.api_gateway.faults import BadRequest
from services.api_gateway.routes.common import (
    ERRORS,
    accepted,
    call,
    list_response,
    respond,
    show_response,
)
from services.api_gateway.schemas import member as schema
from services.api_gateway.schemas.body import parse_body, parse_list_body, request_body

router = APIRouter(prefix="/lbaas/pools/{pool_id}/members", tags=["members"])


@router.post(
    "",
    status_code=201,
    response_model=schema.MemberRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.MemberCreateRoot),
)
async def create(pool_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.MemberCreate, "member")
    resp = await call(request, "CreateMember", schema.create_request(pool_id, body, who))
    return respond({"member": schema.view(resp.member)}, 201)


@router.put(
    "",
    status_code=202,
    response_class=Response,
    responses={**ERRORS, 202: {"description": "The new member set is accepted."}},
    openapi_extra=request_body(schema.MembersBatchRoot),
)
async def batch_update(
    pool_id: str, request: Request, who: Caller, additive_only: bool = False
) -> Response:
    """Octavia's batch update: members matched by (address, protocol_port) are updated, new
    ones created, and (unless additive_only) the pool's other members deleted."""
    bodies = await parse_list_body(request, schema.MemberCreate, "members")
    seen: set[tuple[str, int]] = set()
    for body in bodies:
        key = (body.address or "", body.protocol_port or 0)
        if key in seen:
            raise BadRequest(
                f"Invalid input for field/attribute members. Value: '{key[0]}:{key[1]}'. "
                "A member address and port may appear only once."
            )
        seen.add(key)
    await call(
        request, "BatchUpdateMembers", schema.batch_request(pool_id, bodies, who, additive_only)
    )
    return accepted()


@router.get("", response_model=schema.MemberList, responses=ERRORS)
async def list_(pool_id: str, request: Request, who: Caller) -> JSONResponse:
    resp = await call(
        request, "ListMembers", pb.ListMembersRequest(scope=who.scope(), pool_id=pool_id)
    )
    items = [schema.view(x) for x in resp.members]
    return list_response(request, "members", items, schema.MemberView)


@router.get("/{member_id}", response_model=schema.MemberRoot, responses=ERRORS)
async def show(pool_id: str, member_id: str, request: Request, who: Caller) -> JSONResponse:
    req = pb.GetMemberRequest(scope=who.scope(), pool_id=pool_id, id=member_id)
    resp = await call(request, "GetMember", req)
    return show_response(request, "member", schema.view(resp.member))


@router.put(
    "/{member_id}",
    response_model=schema.MemberRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.MemberUpdateRoot),
)
async def update(pool_id: str, member_id: str, request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.MemberUpdate, "member")
    resp = await call(request, "UpdateMember", schema.update_request(pool_id, member_id, body, who))
    return respond({"member": schema.view(resp.member)})


@router.delete("/{member_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(pool_id: str, member_id: str, request: Request, who: Caller) -> Response:
    req = pb.DeleteMemberRequest(scope=who.scope(), pool_id=pool_id, id=member_id)
    await call(request, "DeleteMember", req)
    return Response(status_code=204)
