"""/lbaas/pools/{pool_id}/members: create, show, list, update, delete, batch update."""

from __future__ import annotations

from fastapi import Request, Response

from services.api_gateway.auth import Caller
from services.api_gateway.faults import BadRequest
from services.api_gateway.routes.common import ERRORS, accepted, call
from services.api_gateway.routes.crud import Resource, crud_router
from services.api_gateway.schemas import member as schema
from services.api_gateway.schemas.body import parse_list_body, request_body

router = crud_router(
    Resource(
        prefix="/lbaas/pools/{pool_id}/members",
        tag="members",
        root="member",
        collection="members",
        schema=schema,
        noun="Member",
        id_param="member_id",
        parent="pool_id",
    )
)


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
