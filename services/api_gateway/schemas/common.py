"""Pieces shared by the resource schemas: ResourceMeta filling, project resolution, and the
building blocks of the documented response models."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from pydantic import BaseModel, ConfigDict, create_model

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


# -- response models (OpenAPI; tests check every view against them) -----------------------


class View(BaseModel):
    """Base of the documented response objects: exactly these attributes."""

    model_config = ConfigDict(extra="forbid")


class IdRef(View):
    id: str


class Link(View):
    rel: str
    href: str


class MetaView(View):
    id: str
    name: str
    project_id: str
    tenant_id: str
    provisioning_status: str
    operating_status: str
    admin_state_up: bool
    created_at: str | None
    updated_at: str | None
    tags: list[str]


def partial(model: type[BaseModel]) -> type[BaseModel]:
    """The same attributes, none required: list items may be cut down by `fields=`."""
    fields: dict[str, Any] = {
        name: (info.annotation, None) for name, info in model.model_fields.items()
    }
    return create_model(f"{model.__name__}Fields", __base__=View, **fields)


def collection_model(name: str, item: type[BaseModel]) -> type[BaseModel]:
    """`{<name>: [item...], <name>_links: [link...]}`."""
    fields: dict[str, Any] = {name: (list[partial(item)], ...), f"{name}_links": (list[Link], ...)}
    return create_model(f"{item.__name__}List", __base__=View, **fields)


def root_model(root: str, item: type[BaseModel], suffix: str = "Root") -> type[BaseModel]:
    """`{<root>: item}`, the envelope of one object."""
    return create_model(f"{item.__name__}{suffix}", __base__=View, **{root: (item, ...)})


def request_root(root: str, body: type[BaseModel]) -> type[BaseModel]:
    """`{<root>: body}`, the envelope of a request (documentation only; parse_body checks it)."""
    return create_model(f"{body.__name__}Root", __base__=BaseModel, **{root: (body, ...)})
