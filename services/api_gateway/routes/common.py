"""Helpers every route uses: the injected orchestrator port and list filtering."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from google.protobuf.message import Message

from services.api_gateway.adapters.orchestrator import OrchestratorPort

# Query parameters Octavia accepts that are not equality filters (paging, sorting, fields).
_NOT_FILTERS = frozenset(
    ["limit", "marker", "page_reverse", "sort", "sort_key", "sort_dir", "fields", "cascade"]
)


def orchestrator(request: Request) -> OrchestratorPort:
    return request.app.state.orchestrator


async def call(request: Request, rpc: str, message: Message) -> Any:
    return await orchestrator(request).call(rpc, message)


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
