"""/lbaas/healthmonitors: create, show, list, update, delete."""

from __future__ import annotations

from services.api_gateway.routes.crud import Resource, crud_router
from services.api_gateway.schemas import healthmonitor as schema

router = crud_router(
    Resource(
        prefix="/lbaas/healthmonitors",
        tag="healthmonitors",
        root="healthmonitor",
        collection="healthmonitors",
        schema=schema,
        noun="HealthMonitor",
        id_param="hm_id",
    )
)
