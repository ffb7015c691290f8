"""/lbaas/listeners: create, show, list, update, delete, statistics."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from services.api_gateway import views
from services.api_gateway.auth import Caller
from services.api_gateway.faults import Fault
from services.api_gateway.routes.common import ERRORS, health, respond
from services.api_gateway.routes.crud import Items, Resource, crud_router, single
from services.api_gateway.schemas import listener as schema

# A standalone create with children (nested default_pool / l7policies) is refused with 501: only the load
# balancer's single-call create nests (docs/compat.md).
_NESTED_501: dict[int | str, dict] = {
    501: {"model": Fault, "description": "Nested default_pool / l7policies: not implemented."}
}


# openstacksdk filters with the database's name, load_balancer_id, which Octavia also accepts
# (its filters are model columns): the same filter as loadbalancer_id.
def _alias(request: Request) -> set[str]:
    return set(request.query_params.getlist("load_balancer_id"))


def _by_loadbalancer(request: Request) -> dict[str, str]:
    alias = _alias(request)
    if alias and not request.query_params.getlist("loadbalancer_id") and len(alias) == 1:
        return {"loadbalancer_id": next(iter(alias))}
    return {"loadbalancer_id": single(request, "loadbalancer_id")}


def _on_alias(request: Request, items: Items) -> Items:
    alias = _alias(request)
    if alias:
        items = [i for i in items if {lb["id"] for lb in i["loadbalancers"]} & alias]
    return items


LISTENER = Resource(
    prefix="/lbaas/listeners",
    tag="listeners",
    root="listener",
    collection="listeners",
    schema=schema,
    noun="Listener",
    id_param="listener_id",
    create_responses=_NESTED_501,
    list_fields=_by_loadbalancer,
    list_narrow=_on_alias,
    list_ignore=("load_balancer_id",),
)
router = crud_router(LISTENER)


@router.get("/{listener_id}/stats", response_model=schema.StatsRoot, responses=ERRORS)
async def stats(listener_id: str, request: Request, who: Caller) -> JSONResponse:
    # The scope check: 404 for another project's listener.
    await LISTENER.get(request, who, listener_id=listener_id)
    entries = await health(request).listener_stats([listener_id])
    return respond(views.stats(entries))
