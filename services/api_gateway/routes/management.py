"""The management API under /octavia (an extension; administrators only, by policy): a load
balancer's config preview and forced re-push, an amphora's diagnostics and log tails."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway import management_views as mv
from services.api_gateway.auth import Caller
from services.api_gateway.faults import Fault
from services.api_gateway.routes.common import accepted, call

router = APIRouter(prefix="/octavia", tags=["management"])
_AGENT = {
    **v.errors(404, 409),
    409: {
        "model": Fault,
        "description": "The amphora has no agent yet, or its agent is of a release older than "
        "the call (the faultstring says which).",
    },
}


@router.get(
    "/loadbalancers/{lb_id}/config_preview",
    response_model=mv.ConfigPreviewRoot,
    responses={
        **v.errors(404, 409),
        409: {
            "model": Fault,
            "description": "No amphora serves the load balancer yet, or the renderer refuses "
            "its desired state (the faultstring says why).",
        },
    },
)
async def config_preview(lb_id: str, request: Request, who: Caller) -> dict:
    """What the renderer deployed now makes of the load balancer's desired state, for each
    amphora serving it, and whether (and how: a unified diff) that differs from what the
    amphora runs. Nothing is pushed; files holding a private key are not shown."""
    req = pb.PreviewLoadBalancerConfigRequest(scope=who.scope(), id=lb_id)
    return mv.config_preview(await call(request, "PreviewLoadBalancerConfig", req))


@router.put(
    "/loadbalancers/{lb_id}/config",
    status_code=202,
    response_class=Response,
    responses={**v.errors(404, 409), 202: {"description": "Re-push accepted."}},
)
async def resync(lb_id: str, request: Request, who: Caller) -> Response:
    """Re-render and force-push the configuration of every amphora serving the load balancer
    (as PUT /v2/octavia/amphorae/{amphora_id}/config does for one), in one reconcile pass."""
    req = pb.ResyncLoadBalancerRequest(scope=who.scope(), id=lb_id)
    await call(request, "ResyncLoadBalancer", req)
    return accepted()


@router.get(
    "/amphorae/{amphora_id}/diagnostics",
    response_model=mv.AmphoraDiagnosticsRoot,
    responses=_AGENT,
)
async def diagnostics(amphora_id: str, request: Request, who: Caller) -> dict:
    """The amphora agent's report: its API version and capabilities, the engine's and
    OpenSSL's versions, processes and their uptime, listening sockets, the applied config and
    renderer version, and the last apply and (re)load with the engine's error output."""
    req = pb.GetAmphoraDiagnosticsRequest(id=amphora_id)
    return mv.diagnostics(await call(request, "GetAmphoraDiagnostics", req))


@router.get(
    "/amphorae/{amphora_id}/logs",
    response_model=mv.AmphoraLogsRoot,
    responses={**_AGENT, 400: {"model": Fault, "description": "`lines` is out of range."}},
)
async def logs(
    amphora_id: str,
    request: Request,
    who: Caller,
    lines: int = Query(
        100,
        ge=1,
        le=2**31 - 1,
        description="How many of each log's last lines (the agent's and the engine's); at most "
        "1000, more is a 400 naming `lines`. Each log is also cut to its last 256 KiB.",
    ),
) -> dict:
    req = pb.GetAmphoraLogsRequest(id=amphora_id, lines=lines)
    return mv.logs(await call(request, "GetAmphoraLogs", req))
