"""Helpers every route uses: the injected ports, list queries, documented error responses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from google.protobuf.message import Message
from pydantic import BaseModel

from services.api_gateway.adapters.health import HealthPort
from services.api_gateway.adapters.orchestrator import OrchestratorPort
from services.api_gateway.faults import Fault
from services.api_gateway.query import apply_list_query, apply_show_query, json_response

# The error statuses every Octavia resource route can answer, all with a Fault body.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Fault, "description": text}
    for status, text in (
        (400, "Bad request: a field is invalid (the faultstring names it)."),
        (401, "Authentication required."),
        (403, "Policy does not allow this request, or a quota is exceeded."),
        (404, "Not found."),
        (409, "Conflict with the object's state."),
        (
            501,
            "The provider does not support a requested option or action (Octavia's "
            "\"Provider '...' does not support a requested option: ...\").",
        ),
    )
}


def orchestrator(request: Request) -> OrchestratorPort:
    return request.app.state.orchestrator


def health(request: Request) -> HealthPort:
    return request.app.state.health


async def call(request: Request, rpc: str, message: Message) -> Any:
    return await orchestrator(request).call(rpc, message)


def respond(body: dict[str, Any], status: int = 200) -> JSONResponse:
    """The body as built (the documented response_model is checked by the unit tests)."""
    return JSONResponse(body, status_code=status)


def accepted() -> Response:
    return Response(status_code=202)


def list_response(
    request: Request,
    name: str,
    items: list[dict[str, Any]],
    view: type[BaseModel],
    ignore: Iterable[str] = (),
) -> Response:
    """Octavia's filters, sorting, paging and fields on a collection of views."""
    body = apply_list_query(request, items, name, ignore=ignore, attributes=view.model_fields)
    return json_response(body)


def show_response(
    request: Request, root: str, item: dict[str, Any], status: int = 200
) -> JSONResponse:
    return respond({root: apply_show_query(request, item)}, status)


# -- for the Neutron-shaped network routes (Neutron's own list semantics, not Octavia's) ----

_NOT_FILTERS = frozenset(
    ["limit", "marker", "page_reverse", "sort", "sort_key", "sort_dir", "fields", "cascade"]
)


def _matches(value: Any, wanted: list[str]) -> bool:
    if isinstance(value, bool):
        return str(value).lower() in [w.lower() for w in wanted]
    if value is None:
        return False
    return str(value) in wanted


def filter_list(
    items: list[dict[str, Any]], request: Request, handled: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Equality filters on any scalar attribute named in the query (repeated = any of).

    Keys in `handled` were applied by the caller; keys that name no attribute are ignored.
    """
    params = request.query_params
    for key in {k for k in params if k not in _NOT_FILTERS and k not in handled}:
        wanted = params.getlist(key)
        items = [
            i
            for i in items
            if key not in i or (not isinstance(i[key], list | dict) and _matches(i[key], wanted))
        ]
    fields = params.getlist("fields")
    if fields:
        keep = {f for value in fields for f in value.split(",")}
        items = [{k: v for k, v in i.items() if k in keep} for i in items]
    return items


def collection(name: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {name: items, f"{name}_links": []}
