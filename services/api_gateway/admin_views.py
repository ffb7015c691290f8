"""Operator resources as Octavia shows them: response models (the OpenAPI truth), converters
from contract messages, list envelopes, and the OpenAPI declarations their routes share.

Every attribute of a response model has a default because `fields=` may leave any of them
out; routes serialize with `response_model_exclude_unset=True`, so what is sent is exactly
what the converter produced, checked against the model.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from lbaas.health.v1 import health_service_pb2 as hpb
from lbaas.health.v1 import stats_pb2
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import BaseModel, ConfigDict

from services.api_gateway.faults import Fault
from services.api_gateway.query import apply_list_query, apply_show_query
from services.api_gateway.views import timestamp


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Link(View):
    rel: str
    href: str


# -- quotas -------------------------------------------------------------------------------
class Quota(View):
    """A null limit means "the deployment default" (lists show what a project has set)."""

    project_id: str | None = None
    tenant_id: str | None = None
    load_balancer: int | None = None
    loadbalancer: int | None = None
    listener: int | None = None
    pool: int | None = None
    health_monitor: int | None = None
    healthmonitor: int | None = None
    member: int | None = None
    l7policy: int | None = None
    l7rule: int | None = None


class QuotaRoot(View):
    quota: Quota


class QuotasRoot(View):
    quotas: list[Quota]
    quotas_links: list[Link]


_QUOTA_ALIASES = {"load_balancer": "loadbalancer", "health_monitor": "healthmonitor"}
_QUOTA_LIMITS = ("load_balancer", "listener", "pool", "health_monitor", "member", "l7policy")


def quota(q: admin_pb2.Quota, *, project_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    project = project_id if project_id is not None else q.project_id
    if project:
        out["project_id"] = out["tenant_id"] = project
    for field in (*_QUOTA_LIMITS, "l7rule"):
        value = getattr(q, field) if q.HasField(field) else None
        out[field] = value
        if field in _QUOTA_ALIASES:
            out[_QUOTA_ALIASES[field]] = value
    return out


# -- providers ----------------------------------------------------------------------------
class Provider(View):
    name: str | None = None
    description: str | None = None


class ProvidersRoot(View):
    providers: list[Provider]


class FlavorCapabilitiesRoot(View):
    flavor_capabilities: list[Provider]


class AvailabilityZoneCapabilitiesRoot(View):
    availability_zone_capabilities: list[Provider]


def provider(p: admin_pb2.Provider | admin_pb2.ProviderCapability) -> dict[str, Any]:
    return {"name": p.name, "description": p.description}


# -- flavors and flavor profiles ----------------------------------------------------------
class Flavor(View):
    id: str | None = None
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    flavor_profile_id: str | None = None


class FlavorRoot(View):
    flavor: Flavor


class FlavorsRoot(View):
    flavors: list[Flavor]
    flavors_links: list[Link]


def flavor(f: admin_pb2.Flavor) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "description": f.description,
        "enabled": f.enabled,
        "flavor_profile_id": f.flavor_profile_id,
    }


class FlavorProfile(View):
    id: str | None = None
    name: str | None = None
    provider_name: str | None = None
    flavor_data: str | None = None


class FlavorProfileRoot(View):
    flavorprofile: FlavorProfile


class FlavorProfilesRoot(View):
    flavorprofiles: list[FlavorProfile]
    # Octavia's spelling (singular), kept for compatibility.
    flavorprofile_links: list[Link]


def flavor_profile(p: admin_pb2.FlavorProfile) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "provider_name": p.provider_name,
        "flavor_data": p.flavor_data,
    }


# -- availability zones and their profiles ------------------------------------------------
class AvailabilityZone(View):
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None
    availability_zone_profile_id: str | None = None


class AvailabilityZoneRoot(View):
    availability_zone: AvailabilityZone


class AvailabilityZonesRoot(View):
    availability_zones: list[AvailabilityZone]
    availability_zones_links: list[Link]


def availability_zone(z: admin_pb2.AvailabilityZone) -> dict[str, Any]:
    return {
        "name": z.name,
        "description": z.description,
        "enabled": z.enabled,
        "availability_zone_profile_id": z.availability_zone_profile_id,
    }


class AvailabilityZoneProfile(View):
    id: str | None = None
    name: str | None = None
    provider_name: str | None = None
    availability_zone_data: str | None = None


class AvailabilityZoneProfileRoot(View):
    availability_zone_profile: AvailabilityZoneProfile


class AvailabilityZoneProfilesRoot(View):
    availability_zone_profiles: list[AvailabilityZoneProfile]
    # Octavia's spelling (singular), kept for compatibility.
    availability_zone_profile_links: list[Link]


def availability_zone_profile(p: admin_pb2.AvailabilityZoneProfile) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "provider_name": p.provider_name,
        "availability_zone_data": p.availability_zone_data,
    }


# -- amphorae -----------------------------------------------------------------------------
class Amphora(View):
    """Octavia's amphora; attributes this deployment does not track are null."""

    id: str | None = None
    loadbalancer_id: str | None = None
    compute_id: str | None = None
    lb_network_ip: str | None = None
    vrrp_ip: str | None = None
    ha_ip: str | None = None
    vrrp_port_id: str | None = None
    ha_port_id: str | None = None
    cert_expiration: str | None = None
    cert_busy: bool | None = None
    role: str | None = None
    status: str | None = None
    vrrp_interface: str | None = None
    vrrp_id: int | None = None
    vrrp_priority: int | None = None
    cached_zone: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    image_id: str | None = None
    compute_flavor: str | None = None


class AmphoraRoot(View):
    amphora: Amphora


class AmphoraeRoot(View):
    amphorae: list[Amphora]
    amphorae_links: list[Link]


def amphora(a: pb.Amphora) -> dict[str, Any]:
    return {
        "id": a.id,
        "loadbalancer_id": a.loadbalancer_id or None,
        "compute_id": a.compute_id or None,
        "lb_network_ip": a.lb_network_ip or None,
        "vrrp_ip": a.lb_network_ip or None,  # its own address on the VIP network
        "ha_ip": a.vip_address or None,
        "vrrp_port_id": a.vrrp_port_id or None,
        "ha_port_id": a.ha_port_id or None,
        "cert_expiration": timestamp(a.cert_expiration),
        "cert_busy": False,
        "role": a.role or None,
        "status": a.status or None,
        "vrrp_interface": None,
        "vrrp_id": 1,  # Octavia numbers every amphora's VRRP instance 1
        "vrrp_priority": None,
        "cached_zone": None,
        "created_at": timestamp(a.created_at),
        "updated_at": timestamp(a.updated_at),
        "image_id": None,
        "compute_flavor": a.compute_flavor or None,
    }


class AmphoraStats(View):
    id: str | None = None
    loadbalancer_id: str | None = None
    listener_id: str | None = None
    active_connections: int | None = None
    bytes_in: int | None = None
    bytes_out: int | None = None
    request_errors: int | None = None
    total_connections: int | None = None


class AmphoraStatsRoot(View):
    amphora_stats: list[AmphoraStats]


def amphora_stats(a: pb.Amphora, entry: stats_pb2.ListenerStatsEntry) -> dict[str, Any]:
    s = entry.stats
    return {
        "id": a.id,
        "loadbalancer_id": a.loadbalancer_id or None,
        "listener_id": entry.listener_id,
        "active_connections": s.active_connections,
        "bytes_in": s.bytes_in,
        "bytes_out": s.bytes_out,
        "request_errors": s.request_errors,
        "total_connections": s.total_connections,
    }


# -- automatic failover (an extension: the health service's circuit breaker and hold-off) --
class FailoverStatus(View):
    """Whether the health service holds automatic failover back, and why (the replica the
    gateway reached; counts are as it last looked at the fleet)."""

    breaker: str | None = None  # OPEN or CLOSED
    stale_amphorae: int | None = None
    amphorae: int | None = None
    threshold_count: int | None = None
    threshold_percent: float | None = None
    stale_after_seconds: float | None = None
    breaker_opened_at: str | None = None
    hold_off_until: str | None = None
    reason: str | None = None  # "" when failovers are not held back
    failovers_requested: int | None = None
    failovers_claimed: int | None = None


class FailoverStatusRoot(View):
    failover_status: FailoverStatus


def failover_status(s: hpb.FailoverStatus) -> dict[str, Any]:
    return {
        "breaker": "OPEN" if s.breaker_open else "CLOSED",
        "stale_amphorae": s.stale_amphorae,
        "amphorae": s.amphorae,
        "threshold_count": s.threshold_count,
        "threshold_percent": s.threshold_percent,
        "stale_after_seconds": s.stale_after_seconds,
        "breaker_opened_at": (
            timestamp(s.breaker_opened_at) if s.HasField("breaker_opened_at") else None
        ),
        "hold_off_until": timestamp(s.hold_off_until) if s.HasField("hold_off_until") else None,
        "reason": s.reason,
        "failovers_requested": s.failovers_requested,
        "failovers_claimed": s.failovers_claimed,
    }


# -- lists and single objects -------------------------------------------------------------
def listing(
    request: Request,
    items: list[dict[str, Any]],
    collection: str,
    model: type[BaseModel],
    *,
    links_key: str | None = None,
    id_key: str | None = None,
    ignore: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Octavia's list query (filters, sort, paging, fields) and envelope."""
    out = apply_list_query(
        request, items, collection, attributes=model.model_fields, id_key=id_key, ignore=ignore
    )
    if links_key is not None:
        out[links_key] = out.pop(f"{collection}_links")
    return out


def one(request: Request, root: str, item: dict[str, Any]) -> dict[str, Any]:
    """A single object in its envelope, with `fields=` applied."""
    return {root: apply_show_query(request, item)}


def fields_only(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`name`/`description` filters and `fields=`: what Octavia's provider lists accept."""
    params = request.query_params
    for key in ("name", "description"):
        wanted = params.get(key)
        if wanted:
            items = [i for i in items if i[key] == wanted]
    return [apply_show_query(request, i) for i in items]


# -- OpenAPI ------------------------------------------------------------------------------
_ERROR_TEXT = {
    400: "Invalid request (the faultstring names the field).",
    401: "Missing or unknown token.",
    403: "The caller may not do this.",
    404: "No such object.",
    409: "The object is in use or conflicts with another.",
    500: "Unexpected error.",
    503: "The orchestrator is unavailable.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the given codes plus those any route can return."""
    every = sorted({401, 403, 500, 503, *codes})
    return {c: {"model": Fault, "description": _ERROR_TEXT[c]} for c in every}


def request_body(model: type[BaseModel], root: str) -> dict[str, Any]:
    """`openapi_extra=` declaring a body `{root: model}` (the route parses it with parse_body,
    which words its errors as Octavia does)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": [root],
                        "properties": {root: model.model_json_schema()},
                        "additionalProperties": False,
                    }
                }
            },
        }
    }
