"""/lbaas/l7policies/{l7policy_id}/rules: create, show, list, update, delete."""

from __future__ import annotations

from fastapi import Request

from services.api_gateway.routes.crud import Items, Resource, crud_router
from services.api_gateway.schemas import l7rule as schema


def _same_policy(request: Request, items: Items) -> Items:
    # openstacksdk repeats the path's policy as ?l7policy_id= (a column filter in Octavia).
    wanted = request.query_params.getlist("l7policy_id")
    if wanted and request.path_params["l7policy_id"] not in wanted:
        return []
    return items


router = crud_router(
    Resource(
        prefix="/lbaas/l7policies/{l7policy_id}/rules",
        tag="l7rules",
        root="rule",
        collection="rules",
        schema=schema,
        noun="L7Rule",
        id_param="l7rule_id",
        parent="l7policy_id",
        list_narrow=_same_policy,
        list_ignore=("l7policy_id",),
    )
)
