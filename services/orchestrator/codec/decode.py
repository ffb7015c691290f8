"""Protobuf messages -> plain dicts of column values (for creates and FieldMask updates)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from services.common.errors import InvalidInput

Getter = Callable[[Any], Any]


def _attr(path: str) -> Getter:
    def get(msg: Any) -> Any:
        for part in path.split("."):
            msg = getattr(msg, part)
        return msg

    return get


def _list(path: str) -> Getter:
    return lambda msg: list(_attr(path)(msg))


def _optional_int(name: str) -> Getter:
    return lambda msg: getattr(msg, name) if msg.HasField(name) else None


def _session_persistence(msg: Any) -> dict[str, Any] | None:
    sp = msg.session_persistence
    if not sp.type:
        return None
    return {
        "type": sp.type,
        "cookie_name": sp.cookie_name,
        "persistence_timeout": sp.persistence_timeout
        if sp.HasField("persistence_timeout")
        else None,
        "persistence_granularity": sp.persistence_granularity,
    }


_META: dict[str, tuple[str, Getter]] = {
    "meta.name": ("name", _attr("meta.name")),
    "meta.description": ("description", _attr("meta.description")),
    "meta.admin_state_up": ("admin_state_up", _attr("meta.admin_state_up")),
    "meta.tags": ("tags", _list("meta.tags")),
}

# Updatable paths of each resource: FieldMask path -> (column, getter).
LOADBALANCER_PATHS = {
    **_META,
    "vip.qos_policy_id": ("vip_qos_policy_id", _attr("vip.qos_policy_id")),
}
LISTENER_PATHS = {
    **_META,
    "connection_limit": ("connection_limit", _attr("connection_limit")),
    "default_pool_id": ("default_pool_id", lambda m: m.default_pool_id or None),
    "timeout_client_data": ("timeout_client_data", _attr("timeout_client_data")),
    "timeout_member_connect": ("timeout_member_connect", _attr("timeout_member_connect")),
    "timeout_member_data": ("timeout_member_data", _attr("timeout_member_data")),
    "timeout_tcp_inspect": ("timeout_tcp_inspect", _attr("timeout_tcp_inspect")),
    "insert_headers": ("insert_headers", lambda m: dict(m.insert_headers)),
    "allowed_cidrs": ("allowed_cidrs", _list("allowed_cidrs")),
}
POOL_PATHS = {
    **_META,
    "lb_algorithm": ("lb_algorithm", _attr("lb_algorithm")),
    "session_persistence": ("session_persistence", _session_persistence),
}
MEMBER_PATHS = {
    **_META,
    "weight": ("weight", _attr("weight")),
    "backup": ("backup", _attr("backup")),
    "monitor_address": ("monitor_address", _attr("monitor_address")),
    "monitor_port": ("monitor_port", _optional_int("monitor_port")),
}
HEALTH_MONITOR_PATHS = {
    **_META,
    **{
        name: (name, _attr(name))
        for name in (
            "delay",
            "timeout",
            "max_retries",
            "max_retries_down",
            "http_method",
            "url_path",
            "expected_codes",
            "http_version",
            "domain_name",
        )
    },
}


def changes(
    msg: Any, paths: Iterable[str], allowed: dict[str, tuple[str, Getter]]
) -> dict[str, Any]:
    """Column values named by an update mask. A path that is unknown or not updatable is the
    caller's error; sub-paths of a message field ("session_persistence.type") update the whole
    field."""
    out: dict[str, Any] = {}
    for path in paths:
        key = path if path in allowed else path.split(".", 1)[0]
        if key not in allowed or key == "meta":
            raise InvalidInput(f"Field {path!r} cannot be updated.", field=path)
        column, get = allowed[key]
        out[column] = get(msg)
    return out


def _all(msg: Any, allowed: dict[str, tuple[str, Getter]]) -> dict[str, Any]:
    return {column: get(msg) for column, get in allowed.values()}


def loadbalancer_fields(msg: Any) -> dict[str, Any]:
    return {
        **_all(msg, LOADBALANCER_PATHS),
        "id": msg.meta.id,
        "project_id": msg.meta.project_id,
        "provider": msg.provider,
        "flavor_id": msg.flavor_id,
        "availability_zone": msg.availability_zone,
        "topology": msg.topology,
        "vip_address": msg.vip.address,
        "vip_subnet_id": msg.vip.subnet_id,
        "vip_network_id": msg.vip.network_id,
    }


def listener_fields(msg: Any) -> dict[str, Any]:
    return {
        **_all(msg, LISTENER_PATHS),
        "id": msg.meta.id,
        "load_balancer_id": msg.loadbalancer_id,
        "protocol": msg.protocol,
        "protocol_port": msg.protocol_port,
    }


def pool_fields(msg: Any) -> dict[str, Any]:
    return {
        **_all(msg, POOL_PATHS),
        "id": msg.meta.id,
        "load_balancer_id": msg.loadbalancer_id,
        "protocol": msg.protocol,
    }


def member_fields(msg: Any) -> dict[str, Any]:
    return {
        **_all(msg, MEMBER_PATHS),
        "id": msg.meta.id,
        "pool_id": msg.pool_id,
        "address": msg.address,
        "protocol_port": msg.protocol_port,
        "subnet_id": msg.subnet_id,
    }


def health_monitor_fields(msg: Any) -> dict[str, Any]:
    return {
        **_all(msg, HEALTH_MONITOR_PATHS),
        "id": msg.meta.id,
        "pool_id": msg.pool_id,
        "type": msg.type,
    }
