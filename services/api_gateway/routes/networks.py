"""Neutron-shaped, read-only view of the networks the network driver offers (v2.0 paths)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import BaseModel

from services.api_gateway import network_views
from services.api_gateway.auth import Caller, Principal
from services.api_gateway.faults import ApiFault
from services.api_gateway.routes.common import call, filter_list

router = APIRouter()


class _NeutronErrorBody(BaseModel):
    type: str
    message: str
    detail: str


class NeutronFault(BaseModel):
    """Neutron's error body (faults.py answers network paths in Neutron's shape)."""

    NeutronError: _NeutronErrorBody


# collection -> (RPC, request class, response field, view, singular, label)
_KINDS: dict[str, tuple[str, Any, str, Callable[[Any], dict], str, str]] = {
    "networks": (
        "ListNetworks",
        pb.ListNetworksRequest,
        "networks",
        network_views.network,
        "network",
        "Network",
    ),
    "subnets": (
        "ListSubnets",
        pb.ListSubnetsRequest,
        "subnets",
        network_views.subnet,
        "subnet",
        "Subnet",
    ),
    "ports": ("ListPorts", pb.ListPortsRequest, "ports", network_views.port, "port", "Port"),
}


async def _fetch(request: Request, who: Principal, kind: str, **exact: str) -> list[dict]:
    rpc, req_cls, field, view, _, _ = _KINDS[kind]
    req = req_cls(scope=who.scope(), **{k: v for k, v in exact.items() if v})
    resp = await call(request, rpc, req)
    return [view(x) for x in getattr(resp, field)]


def _single(request: Request, key: str) -> str:
    # Pushed down to the orchestrator only when unambiguous; repeated values filter here.
    values = request.query_params.getlist(key)
    return values[0] if len(values) == 1 else ""


def _register(prefix: str, kind: str) -> None:
    _, _, _, _, singular, label = _KINDS[kind]

    async def list_(request: Request, who: Caller) -> dict:
        exact = {"id": _single(request, "id"), "name": _single(request, "name")}
        if kind != "networks":
            exact["network_id"] = _single(request, "network_id")
        items = await _fetch(request, who, kind, **exact)
        return {kind: filter_list(items, request)}

    async def show(item_id: str, request: Request, who: Caller) -> dict:
        items = await _fetch(request, who, kind, id=item_id)
        if not items:
            raise ApiFault(404, f"{label} {item_id} could not be found.")
        return {singular: items[0]}

    router.add_api_route(f"{prefix}/{kind}", list_, methods=["GET"], name=f"{prefix}-{kind}-list")
    router.add_api_route(
        f"{prefix}/{kind}/{{item_id}}",
        show,
        methods=["GET"],
        name=f"{prefix}-{kind}-show",
        responses={404: {"model": NeutronFault, "description": f"No {singular} with this id."}},
    )


# Octavia's discovery document points its clients at /v2; some then look for networks there too.
for _prefix in ("/v2.0", "/v2"):
    for _kind in _KINDS:
        _register(_prefix, _kind)
