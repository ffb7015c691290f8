"""Pieces shared by the resource schemas: ResourceMeta filling and project resolution."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g

from services.api_gateway.auth import Principal
from services.api_gateway.faults import ApiFault

META_PATHS = {
    "name": "meta.name",
    "description": "meta.description",
    "admin_state_up": "meta.admin_state_up",
    "tags": "meta.tags",
}


def owner_project(principal: Principal, body: Any) -> str:
    """The project a new object belongs to: an admin may name one, others get their own."""
    asked = getattr(body, "project_id", None) or getattr(body, "tenant_id", None)
    if asked and asked != principal.project_id and not principal.is_admin:
        raise ApiFault(403, "Policy does not allow this request to be performed.")
    return asked or principal.project_id


def fill_meta(meta: g.ResourceMeta, body: Any, project_id: str = "") -> None:
    """Copies the common fields the caller sent (absent fields keep proto defaults)."""
    for field in ("name", "description"):
        if field in type(body).model_fields:
            setattr(meta, field, getattr(body, field) or "")
    admin = getattr(body, "admin_state_up", None)
    meta.admin_state_up = True if admin is None else admin
    if getattr(body, "tags", None):
        meta.tags.extend(body.tags)
    if project_id:
        meta.project_id = project_id
