"""/lbaas/pools: create, show, list, update, delete."""

from __future__ import annotations

from services.api_gateway.faults import Fault
from services.api_gateway.routes.crud import Resource, crud_router, query_filter
from services.api_gateway.schemas import pool as schema

# A standalone create with children (nested healthmonitor / members) is refused with 501: only the load
# balancer's single-call create nests (docs/compat.md).
_NESTED_501: dict[int | str, dict] = {
    501: {"model": Fault, "description": "Nested healthmonitor / members: not implemented."}
}

router = crud_router(
    Resource(
        prefix="/lbaas/pools",
        tag="pools",
        root="pool",
        collection="pools",
        schema=schema,
        noun="Pool",
        id_param="pool_id",
        create_responses=_NESTED_501,
        list_fields=query_filter("loadbalancer_id"),
    )
)
