"""/octavia/failover_status: whether automatic failover is held back, from the health service
(an extension; Octavia has no such view)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.faults import Fault
from services.api_gateway.routes.common import health

router = APIRouter(prefix="/octavia", tags=["failover"])
_RESPONSES = {
    **v.errors(),
    503: {"model": Fault, "description": "The health service is unavailable."},
}


@router.get(
    "/failover_status",
    response_model=v.FailoverStatusRoot,
    responses=_RESPONSES,
    response_model_exclude_unset=True,
)
async def status(request: Request, who: Caller) -> dict:
    """The circuit breaker (too many amphorae stale at once), the hold-off after an outage of
    the health service or its database, and the failovers asked for, as the health service
    replica this gateway reached sees them."""
    state = await health(request).failover_status()
    return v.one(request, "failover_status", v.failover_status(state))
