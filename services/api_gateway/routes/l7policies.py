"""/lbaas/l7policies: create (with rules), show, list, update, delete."""

from __future__ import annotations

from services.api_gateway.routes.crud import Resource, crud_router, query_filter
from services.api_gateway.schemas import l7policy as schema

router = crud_router(
    Resource(
        prefix="/lbaas/l7policies",
        tag="l7policies",
        root="l7policy",
        collection="l7policies",
        schema=schema,
        noun="L7Policy",
        plural="L7Policies",
        id_param="l7policy_id",
        list_fields=query_filter("listener_id"),
    )
)
