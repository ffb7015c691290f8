"""/lbaas/quotas: list, defaults, show, update, reset (Octavia's quota API)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway import admin_views as v
from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import call
from services.api_gateway.schemas import quota as schema
from services.api_gateway.schemas.body import parse_body

router = APIRouter(prefix="/lbaas/quotas", tags=["quotas"])
_OUT = {"response_model_exclude_unset": True}


@router.get("", response_model=v.QuotasRoot, responses=v.errors(400), **_OUT)
async def list_(request: Request, who: Caller) -> dict:
    """Quotas set for projects (null = the deployment default). Non-admins see their own."""
    asked = request.query_params.get("project_id", "")
    project = asked if who.is_admin else who.project_id
    resp = await call(request, "ListQuotas", pb.ListQuotasRequest(project_id=project))
    items = [v.quota(q) for q in resp.quotas]
    return v.listing(request, items, "quotas", v.Quota, id_key="project_id")


@router.get("/defaults", response_model=v.QuotaRoot, responses=v.errors(), **_OUT)
async def defaults(request: Request, who: Caller) -> dict:
    resp = await call(request, "GetQuotaDefaults", pb.GetQuotaDefaultsRequest())
    # Octavia answers this path as the quota of a project named "defaults".
    return v.one(request, "quota", v.quota(resp.quota, project_id="defaults"))


@router.get("/{project_id}", response_model=v.QuotaRoot, responses=v.errors(404), **_OUT)
async def show(project_id: str, request: Request, who: Caller) -> dict:
    """The project's effective limits (defaults filled in)."""
    resp = await call(request, "GetQuota", pb.GetQuotaRequest(project_id=project_id))
    return v.one(request, "quota", v.quota(resp.quota, project_id=project_id))


@router.get("/{project_id}/default", response_model=v.QuotaRoot, responses=v.errors(), **_OUT)
async def project_defaults(project_id: str, request: Request, who: Caller) -> dict:
    """What the project would have with no limits of its own."""
    resp = await call(request, "GetQuotaDefaults", pb.GetQuotaDefaultsRequest())
    return v.one(request, "quota", v.quota(resp.quota, project_id=project_id))


@router.put(
    "/{project_id}",
    status_code=202,
    response_model=v.QuotaRoot,
    responses=v.errors(400, 404, 409),
    openapi_extra=v.request_body(schema.QuotaUpdate, "quota"),
    **_OUT,
)
async def update(project_id: str, request: Request, who: Caller) -> dict:
    body = await parse_body(request, schema.QuotaUpdate, "quota")
    await call(request, "UpdateQuota", schema.update_request(project_id, body))
    # Octavia answers with the effective limits, defaults filled in.
    resp = await call(request, "GetQuota", pb.GetQuotaRequest(project_id=project_id))
    return {"quota": v.quota(resp.quota, project_id=project_id)}


@router.delete(
    "/{project_id}", status_code=202, response_class=Response, responses=v.errors(404, 409)
)
async def reset(project_id: str, request: Request, who: Caller) -> Response:
    """Back to the deployment defaults. 202 with no body, as Octavia's code does."""
    await call(request, "ResetQuota", pb.ResetQuotaRequest(project_id=project_id))
    return Response(status_code=202)
