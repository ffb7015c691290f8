"""/lbaas/pools/{pool_id}/members: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call, collection, filter_list
from services.api_gateway.schemas import member as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/pools/{pool_id}/members")


@router.post("", status_code=201)
async def create(pool_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.MemberCreate, "member")
    resp = await call(request, "CreateMember", schema.create_request(pool_id, body, who))
    return {"member": views.member(resp.member)}


@router.get("")
async def list_(pool_id: str, request: Request, who: Caller) -> dict:
    resp = await call(
        request, "ListMembers", pb.ListMembersRequest(scope=who.scope(), pool_id=pool_id)
    )
    items = [views.member(x) for x in resp.members]
    return collection("members", filter_list(items, request))


@router.get("/{member_id}")
async def show(pool_id: str, member_id: str, request: Request, who: Caller) -> dict:
    req = pb.GetMemberRequest(scope=who.scope(), pool_id=pool_id, id=member_id)
    resp = await call(request, "GetMember", req)
    return {"member": views.member(resp.member)}


@router.put("/{member_id}")
async def update(pool_id: str, member_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.MemberUpdate, "member")
    resp = await call(request, "UpdateMember", schema.update_request(pool_id, member_id, body, who))
    return {"member": views.member(resp.member)}


@router.delete("/{member_id}", status_code=204)
async def delete(pool_id: str, member_id: str, request: Request, who: Caller) -> Response:
    req = pb.DeleteMemberRequest(scope=who.scope(), pool_id=pool_id, id=member_id)
    await call(request, "DeleteMember", req)
    return Response(status_code=204)
