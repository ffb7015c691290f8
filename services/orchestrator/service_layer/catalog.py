"""Operator catalog: providers and their capabilities, flavor profiles, flavors, availability
zone profiles and availability zones; and the check a load balancer create makes against them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.errors import Conflict, InvalidInput, NotFound, Precondition, Unsupported
from services.orchestrator.adapters.db.admin_models import (
    AvailabilityZoneProfileRow,
    AvailabilityZoneRow,
    FlavorProfileRow,
    FlavorRow,
)
from services.orchestrator.adapters.db.models import LoadBalancerRow
from services.orchestrator.domain import rules, sizes
from services.orchestrator.service_layer.common import Deps, new_id

# -- providers ---------------------------------------------------------------------------------

# Octavia's default enabled_provider_drivers: "octavia" is the deprecated alias of "amphora".
PROVIDERS: dict[str, str] = {
    "amphora": "The Octavia Amphora driver.",
    "octavia": "Deprecated alias of the Octavia Amphora driver.",
}

# Flavor capabilities of the amphora provider (Octavia's, plus this project's "backend").
BACKENDS = ("haproxy", "nginx")
FLAVOR_CAPABILITIES: dict[str, str] = {
    "loadbalancer_topology": (
        "The load balancer topology. One of: SINGLE - One amphora per load balancer. "
        "ACTIVE_STANDBY - Two amphora per load balancer."
    ),
    "compute_flavor": "The compute driver flavor ID.",
    "amp_image_tag": "The amphora image tag.",
    "backend": "The load balancing engine the amphorae run. One of: haproxy, nginx.",
}
AVAILABILITY_ZONE_CAPABILITIES: dict[str, str] = {
    "compute_zone": "The compute availability zone.",
    "management_network": "The management network ID for the amphora.",
    "valid_vip_networks": (
        "List of network IDs that are allowed for VIP use. This overrides/replaces the list of "
        "allowed networks configured in the controller."
    ),
}


def list_providers() -> list[tuple[str, str]]:
    return list(PROVIDERS.items())


def _provider(name: str, field: str) -> str:
    if name not in PROVIDERS:
        raise InvalidInput(f"Provider '{name}' is not enabled.", field=field)
    return name


def flavor_capabilities(provider: str) -> list[tuple[str, str]]:
    _provider(provider, "provider")
    return list(FLAVOR_CAPABILITIES.items())


def availability_zone_capabilities(provider: str) -> list[tuple[str, str]]:
    _provider(provider, "provider")
    return list(AVAILABILITY_ZONE_CAPABILITIES.items())


# -- validation of profile data ----------------------------------------------------------------


def _json_object(text: str, field: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else None
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{field} is not valid JSON: {err.msg}.", field=field) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{field} must be a JSON object.", field=field)
    return data


def _unknown_keys(data: Mapping[str, Any], known: Iterable[str], field: str) -> None:
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InvalidInput(
            f"{field} has unsupported capabilities: {', '.join(unknown)}.", field=field
        )


def validate_flavor_data(provider: str, text: str, buildable: Deps | None = None) -> dict[str, Any]:
    """flavor_data must be a JSON object whose keys are flavor capabilities of the provider,
    each with a value of the right shape; with `buildable` (the configured compute driver's
    topologies and sizes), also one that driver can build."""
    _provider(provider, "provider_name")
    data = _json_object(text, "flavor_data")
    _unknown_keys(data, FLAVOR_CAPABILITIES, "flavor_data")
    if "loadbalancer_topology" in data and data["loadbalancer_topology"] not in rules.TOPOLOGIES:
        raise InvalidInput(
            f"loadbalancer_topology must be one of {', '.join(rules.TOPOLOGIES)}.",
            field="flavor_data",
        )
    if "backend" in data and data["backend"] not in BACKENDS:
        raise InvalidInput(f"backend must be one of {', '.join(BACKENDS)}.", field="flavor_data")
    for key in ("compute_flavor", "amp_image_tag"):
        if key in data and (not isinstance(data[key], str) or not data[key]):
            raise InvalidInput(f"{key} must be a non-empty string.", field="flavor_data")
    if buildable is not None:
        buildable_by(buildable, data, "flavor_data")
    return data


def buildable_by(deps: Deps, flavor_data: Mapping[str, Any], field: str) -> None:
    """A 400 naming `field` when the configured compute driver cannot build what the flavor
    data asks for: its topology, or its compute size (sizes.check)."""
    topology = flavor_data.get("loadbalancer_topology")
    if topology and topology not in deps.topologies:
        raise Unsupported.option(
            f"The {topology} topology is not available with the configured compute driver "
            f"(available: {', '.join(deps.topologies)}).",
            field=field,
        )
    sizes.check(dict(deps.sizes), compute_flavor(flavor_data), field)


def compute_flavor(flavor_data: Mapping[str, Any]) -> str:
    """The compute size a load balancer of this flavor is built with ("" for the default)."""
    return str(flavor_data.get("compute_flavor") or sizes.DEFAULT)


def validate_availability_zone_data(provider: str, text: str) -> dict[str, Any]:
    _provider(provider, "provider_name")
    data = _json_object(text, "availability_zone_data")
    _unknown_keys(data, AVAILABILITY_ZONE_CAPABILITIES, "availability_zone_data")
    for key in ("compute_zone", "management_network"):
        if key in data and not isinstance(data[key], str):
            raise InvalidInput(f"{key} must be a string.", field="availability_zone_data")
    nets = data.get("valid_vip_networks", [])
    if not isinstance(nets, list) or not all(isinstance(n, str) for n in nets):
        raise InvalidInput(
            "valid_vip_networks must be a list of network IDs.", field="availability_zone_data"
        )
    return data


def _paths(paths: Iterable[str], allowed: Iterable[str]) -> list[str]:
    out = list(paths)
    for path in out:
        if path not in allowed:
            raise InvalidInput(f"Field {path!r} cannot be updated.", field=path)
    return out


def _in_use(session: Session, column: Any, value: str) -> bool:
    return bool(session.scalar(select(func.count()).where(column == value)))


# -- flavor profiles ---------------------------------------------------------------------------


def create_flavor_profile(
    session: Session, fields: Mapping[str, Any], buildable: Deps | None = None
) -> FlavorProfileRow:
    if not fields.get("name"):
        raise InvalidInput("name is required.", field="name")
    provider = fields.get("provider_name") or ""
    validate_flavor_data(provider, fields.get("flavor_data") or "", buildable)
    row = FlavorProfileRow(
        id=new_id(fields.get("id") or ""),
        name=fields["name"],
        provider_name=provider,
        flavor_data=fields["flavor_data"],
    )
    session.add(row)
    session.flush()
    return row


def get_flavor_profile(session: Session, profile_id: str) -> FlavorProfileRow:
    row = session.get(FlavorProfileRow, profile_id) if profile_id else None
    if row is None:
        raise NotFound(f"Flavor profile {profile_id} not found.", field="id")
    return row


def list_flavor_profiles(session: Session) -> list[FlavorProfileRow]:
    query = select(FlavorProfileRow).order_by(FlavorProfileRow.created_at, FlavorProfileRow.id)
    return list(session.scalars(query))


def update_flavor_profile(
    session: Session,
    profile_id: str,
    fields: Mapping[str, Any],
    paths: Iterable[str],
    buildable: Deps | None = None,
) -> FlavorProfileRow:
    paths = _paths(paths, ("name", "provider_name", "flavor_data"))
    row = session.execute(
        select(FlavorProfileRow).where(FlavorProfileRow.id == profile_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Flavor profile {profile_id} not found.", field="id")
    if "name" in paths and not fields.get("name"):
        raise InvalidInput("name cannot be empty.", field="name")
    behaviour = {"provider_name", "flavor_data"} & set(paths)
    if behaviour and _in_use(session, FlavorRow.flavor_profile_id, row.id):
        # As Octavia: flavors promise their users a behaviour; it cannot change under them.
        raise Precondition(f"Flavor profile {row.id} is in use by a flavor.", field="id")
    provider = fields["provider_name"] if "provider_name" in paths else row.provider_name
    data = fields["flavor_data"] if "flavor_data" in paths else row.flavor_data
    validate_flavor_data(provider, data, buildable)
    for path in paths:
        setattr(row, path, fields[path])
    session.flush()
    return row


def delete_flavor_profile(session: Session, profile_id: str) -> None:
    row = get_flavor_profile(session, profile_id)
    if _in_use(session, FlavorRow.flavor_profile_id, row.id):
        raise Precondition(f"Flavor profile {row.id} is in use by a flavor.", field="id")
    session.delete(row)


# -- flavors -----------------------------------------------------------------------------------


def create_flavor(session: Session, fields: Mapping[str, Any]) -> FlavorRow:
    if not fields.get("name"):
        raise InvalidInput("name is required.", field="name")
    profile_id = fields.get("flavor_profile_id") or ""
    if not profile_id or session.get(FlavorProfileRow, profile_id) is None:
        raise InvalidInput(f"Flavor profile {profile_id} not found.", field="flavor_profile_id")
    if session.scalar(select(FlavorRow.id).where(FlavorRow.name == fields["name"])):
        raise Conflict(f"A flavor named {fields['name']!r} already exists.", field="name")
    row = FlavorRow(
        id=new_id(fields.get("id") or ""),
        name=fields["name"],
        description=fields.get("description") or "",
        enabled=bool(fields.get("enabled", True)),
        flavor_profile_id=profile_id,
    )
    session.add(row)
    session.flush()
    return row


def get_flavor(session: Session, flavor_id: str) -> FlavorRow:
    row = session.get(FlavorRow, flavor_id) if flavor_id else None
    if row is None:
        raise NotFound(f"Flavor {flavor_id} not found.", field="id")
    return row


def list_flavors(session: Session) -> list[FlavorRow]:
    return list(session.scalars(select(FlavorRow).order_by(FlavorRow.created_at, FlavorRow.id)))


def update_flavor(
    session: Session, flavor_id: str, fields: Mapping[str, Any], paths: Iterable[str]
) -> FlavorRow:
    paths = _paths(paths, ("name", "description", "enabled"))
    row = get_flavor(session, flavor_id)
    if "name" in paths:
        if not fields.get("name"):
            raise InvalidInput("name cannot be empty.", field="name")
        other = session.scalar(
            select(FlavorRow.id).where(FlavorRow.name == fields["name"], FlavorRow.id != row.id)
        )
        if other:
            raise Conflict(f"A flavor named {fields['name']!r} already exists.", field="name")
    for path in paths:
        setattr(row, path, fields[path])
    session.flush()
    return row


def delete_flavor(session: Session, flavor_id: str) -> None:
    row = get_flavor(session, flavor_id)
    if _in_use(session, LoadBalancerRow.flavor_id, row.id):
        raise Precondition(f"Flavor {row.id} is in use by a load balancer.", field="id")
    session.delete(row)


# -- availability zone profiles ----------------------------------------------------------------


def create_availability_zone_profile(
    session: Session, fields: Mapping[str, Any]
) -> AvailabilityZoneProfileRow:
    if not fields.get("name"):
        raise InvalidInput("name is required.", field="name")
    provider = fields.get("provider_name") or ""
    validate_availability_zone_data(provider, fields.get("availability_zone_data") or "")
    row = AvailabilityZoneProfileRow(
        id=new_id(fields.get("id") or ""),
        name=fields["name"],
        provider_name=provider,
        availability_zone_data=fields["availability_zone_data"],
    )
    session.add(row)
    session.flush()
    return row


def get_availability_zone_profile(session: Session, profile_id: str) -> AvailabilityZoneProfileRow:
    row = session.get(AvailabilityZoneProfileRow, profile_id) if profile_id else None
    if row is None:
        raise NotFound(f"Availability zone profile {profile_id} not found.", field="id")
    return row


def list_availability_zone_profiles(session: Session) -> list[AvailabilityZoneProfileRow]:
    query = select(AvailabilityZoneProfileRow).order_by(
        AvailabilityZoneProfileRow.created_at, AvailabilityZoneProfileRow.id
    )
    return list(session.scalars(query))


def update_availability_zone_profile(
    session: Session, profile_id: str, fields: Mapping[str, Any], paths: Iterable[str]
) -> AvailabilityZoneProfileRow:
    paths = _paths(paths, ("name", "provider_name", "availability_zone_data"))
    row = get_availability_zone_profile(session, profile_id)
    if "name" in paths and not fields.get("name"):
        raise InvalidInput("name cannot be empty.", field="name")
    behaviour = {"provider_name", "availability_zone_data"} & set(paths)
    if behaviour and _in_use(session, AvailabilityZoneRow.availability_zone_profile_id, row.id):
        raise Precondition(
            f"Availability zone profile {row.id} is in use by an availability zone.", field="id"
        )
    provider = fields["provider_name"] if "provider_name" in paths else row.provider_name
    data = (
        fields["availability_zone_data"]
        if "availability_zone_data" in paths
        else row.availability_zone_data
    )
    validate_availability_zone_data(provider, data)
    for path in paths:
        setattr(row, path, fields[path])
    session.flush()
    return row


def delete_availability_zone_profile(session: Session, profile_id: str) -> None:
    row = get_availability_zone_profile(session, profile_id)
    if _in_use(session, AvailabilityZoneRow.availability_zone_profile_id, row.id):
        raise Precondition(
            f"Availability zone profile {row.id} is in use by an availability zone.", field="id"
        )
    session.delete(row)


# -- availability zones ------------------------------------------------------------------------


def create_availability_zone(session: Session, fields: Mapping[str, Any]) -> AvailabilityZoneRow:
    name = fields.get("name") or ""
    if not name:
        raise InvalidInput("name is required.", field="name")
    profile_id = fields.get("availability_zone_profile_id") or ""
    if not profile_id or session.get(AvailabilityZoneProfileRow, profile_id) is None:
        raise InvalidInput(
            f"Availability zone profile {profile_id} not found.",
            field="availability_zone_profile_id",
        )
    if session.get(AvailabilityZoneRow, name) is not None:
        raise Conflict(f"An availability zone named {name!r} already exists.", field="name")
    row = AvailabilityZoneRow(
        name=name,
        description=fields.get("description") or "",
        enabled=bool(fields.get("enabled", True)),
        availability_zone_profile_id=profile_id,
    )
    session.add(row)
    session.flush()
    return row


def get_availability_zone(session: Session, name: str) -> AvailabilityZoneRow:
    row = session.get(AvailabilityZoneRow, name) if name else None
    if row is None:
        raise NotFound(f"Availability zone {name} not found.", field="name")
    return row


def list_availability_zones(session: Session) -> list[AvailabilityZoneRow]:
    query = select(AvailabilityZoneRow).order_by(AvailabilityZoneRow.name)
    return list(session.scalars(query))


def update_availability_zone(
    session: Session, name: str, fields: Mapping[str, Any], paths: Iterable[str]
) -> AvailabilityZoneRow:
    paths = _paths(paths, ("description", "enabled"))
    row = get_availability_zone(session, name)
    for path in paths:
        setattr(row, path, fields[path])
    session.flush()
    return row


def delete_availability_zone(session: Session, name: str) -> None:
    row = get_availability_zone(session, name)
    if _in_use(session, LoadBalancerRow.availability_zone, row.name):
        raise Precondition(f"Availability zone {row.name} is in use.", field="name")
    session.delete(row)


# -- load balancer create ----------------------------------------------------------------------


def validate_loadbalancer(session: Session, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Checks a new load balancer's provider, flavor_id and availability_zone; returns the
    flavor's data (empty without a flavor). Unknown or disabled flavor or zone, or a flavor of
    another provider, is InvalidInput naming the field (Octavia answers 400)."""
    provider = fields.get("provider") or "amphora"
    _provider(provider, "provider")
    flavor_data = flavor_data_of(session, fields.get("flavor_id") or "", provider)
    zone = fields.get("availability_zone") or ""
    if zone:
        row = session.get(AvailabilityZoneRow, zone)
        if row is None:
            raise InvalidInput(f"Availability zone {zone} not found.", field="availability_zone")
        if not row.enabled:
            raise InvalidInput(f"Availability zone {zone} is disabled.", field="availability_zone")
    return flavor_data


PROVIDERS_CANONICAL = {"amphora": "amphora", "octavia": "amphora"}
DEFAULT_BACKEND = "haproxy"


def flavor_data_of(session: Session, flavor_id: str, provider: str) -> dict[str, Any]:
    """The data of an enabled flavor of the provider ({} for no flavor); anything else is
    InvalidInput naming flavor_id."""
    if not flavor_id:
        return {}
    flavor = session.get(FlavorRow, flavor_id)
    if flavor is None:
        raise InvalidInput(f"Flavor {flavor_id} not found.", field="flavor_id")
    if not flavor.enabled:
        raise InvalidInput(f"Flavor {flavor_id} is disabled.", field="flavor_id")
    profile = session.get(FlavorProfileRow, flavor.flavor_profile_id)
    assert profile is not None  # foreign key
    if PROVIDERS_CANONICAL[profile.provider_name] != PROVIDERS_CANONICAL[provider]:
        raise InvalidInput(
            f"Flavor {flavor_id} is not compatible with provider {provider}.", field="flavor_id"
        )
    data: dict[str, Any] = json.loads(profile.flavor_data)
    return data


def backend(flavor_data: Mapping[str, Any]) -> str:
    """The engine a load balancer of this flavor runs (validate_flavor_data checked it)."""
    return str(flavor_data.get("backend") or DEFAULT_BACKEND)


def flavor_backend(session: Session, flavor_id: str) -> str:
    """The backend a new load balancer of flavor_id would get; the default for no flavor or one
    that does not exist (the create itself reports that)."""
    flavor = session.get(FlavorRow, flavor_id) if flavor_id else None
    profile = session.get(FlavorProfileRow, flavor.flavor_profile_id) if flavor else None
    if profile is None:
        return DEFAULT_BACKEND
    try:
        return backend(json.loads(profile.flavor_data))
    except (ValueError, AttributeError):
        return DEFAULT_BACKEND
