"""/octavia/amphorae: the operator's amphora API (list, show, failover, config, stats, delete)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.faults import ApiFault
from services.api_gateway.routes.common import call, health
from services.api_gateway.schemas.fields import as_bool

router = APIRouter(prefix="/octavia/amphorae", tags=["amphorae"])
_OUT = {"response_model_exclude_unset": True}


async def _get(request: Request, amphora_id: str) -> pb.Amphora:
    resp = await call(request, "GetAmphora", pb.GetAmphoraRequest(id=amphora_id))
    return resp.amphora


async def _amphora_stats(request: Request, amphora_id: str) -> list[Any]:
    """Per-listener counters one amphora reported, from the health service's port."""
    port = health(request)
    # The port gains amphora_stats (GetAmphoraStats) beside listener_stats; until a deployment's
    # port has it, the statistics are unavailable rather than an unexpected error.
    read = getattr(port, "amphora_stats", None)
    if read is None:
        raise ApiFault(503, "Amphora statistics are not available; retry later.")
    return list(await read(amphora_id))


@router.get("", response_model=v.AmphoraeRoot, responses=v.errors(400), **_OUT)
async def list_(request: Request, who: Caller) -> dict:
    # One load balancer's amphorae are asked for directly; other filters apply to the views.
    wanted = request.query_params.getlist("loadbalancer_id")
    req = pb.ListAmphoraeRequest(loadbalancer_id=wanted[0] if len(wanted) == 1 else "")
    resp = await call(request, "ListAmphorae", req)
    items = [v.amphora(a) for a in resp.amphorae]
    return v.listing(request, items, "amphorae", v.Amphora)


@router.put("/config", responses=v.errors(404))
async def configure_all(request: Request, who: Caller) -> dict:
    """Operator's minor update (not in Octavia): re-render every ACTIVE load balancer, or the one
    named by ?loadbalancer_id=, and push only the changed configs (?force=true: all of them)."""
    force = bool(as_bool(request.query_params.get("force", "false").strip().lower()))
    req = pb.RefreshConfigsRequest(
        loadbalancer_id=request.query_params.get("loadbalancer_id", ""), force=force
    )
    resp = await call(request, "RefreshConfigs", req)
    return {
        "rendered": resp.rendered,
        "pushed": resp.pushed,
        "unchanged": resp.unchanged,
        "skipped": resp.skipped,
        "failures": [
            {"loadbalancer_id": f.loadbalancer_id, "reason": f.reason} for f in resp.failures
        ],
        "stopped": resp.stopped,
    }


@router.get("/{amphora_id}", response_model=v.AmphoraRoot, responses=v.errors(404), **_OUT)
async def show(amphora_id: str, request: Request, who: Caller) -> dict:
    return v.one(request, "amphora", v.amphora(await _get(request, amphora_id)))


@router.get(
    "/{amphora_id}/stats", response_model=v.AmphoraStatsRoot, responses=v.errors(404), **_OUT
)
async def stats(amphora_id: str, request: Request, who: Caller) -> dict:
    amp = await _get(request, amphora_id)
    entries = await _amphora_stats(request, amphora_id)
    return {"amphora_stats": [v.amphora_stats(amp, e) for e in entries]}


@router.put(
    "/{amphora_id}/failover",
    status_code=202,
    response_class=Response,
    responses=v.errors(404, 409),
)
async def failover(amphora_id: str, request: Request, who: Caller) -> Response:
    await call(request, "FailoverAmphora", pb.FailoverAmphoraRequest(id=amphora_id))
    return Response(status_code=202)


@router.put(
    "/{amphora_id}/config",
    status_code=202,
    response_class=Response,
    responses=v.errors(404, 409),
)
async def configure(amphora_id: str, request: Request, who: Caller) -> Response:
    await call(request, "ConfigureAmphora", pb.ConfigureAmphoraRequest(id=amphora_id))
    return Response(status_code=202)


@router.delete(
    "/{amphora_id}", status_code=204, response_class=Response, responses=v.errors(404, 409)
)
async def delete(amphora_id: str, request: Request, who: Caller) -> Response:
    await call(request, "DeleteAmphora", pb.DeleteAmphoraRequest(id=amphora_id))
    return Response(status_code=204)
