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
    "vip_sg_ids": ("vip_sg_ids", _list("vip_sg_ids")),
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
    "default_tls_container_ref": ("default_tls_container_ref", _attr("default_tls_container_ref")),
    "sni_container_refs": ("sni_container_refs", _list("sni_container_refs")),
    "client_authentication": (
        "client_authentication",
        lambda m: m.client_authentication or "NONE",
    ),
    "client_ca_tls_container_ref": (
        "client_ca_tls_container_ref",
        _attr("client_ca_tls_container_ref"),
    ),
    "client_crl_container_ref": ("client_crl_container_ref", _attr("client_crl_container_ref")),
    "tls_versions": ("tls_versions", _list("tls_versions")),
    "tls_ciphers": ("tls_ciphers", _attr("tls_ciphers")),
    "alpn_protocols": ("alpn_protocols", _list("alpn_protocols")),
    "hsts_max_age": ("hsts_max_age", _optional_int("hsts_max_age")),
    "hsts_include_subdomains": ("hsts_include_subdomains", _attr("hsts_include_subdomains")),
    "hsts_preload": ("hsts_preload", _attr("hsts_preload")),
}
POOL_PATHS = {
    **_META,
    "lb_algorithm": ("lb_algorithm", _attr("lb_algorithm")),
    "session_persistence": ("session_persistence", _session_persistence),
    **{
        name: (name, _attr(name))
        for name in (
            "tls_enabled",
            "tls_container_ref",
            "ca_tls_container_ref",
            "crl_container_ref",
            "tls_ciphers",
        )
    },
    "tls_versions": ("tls_versions", _list("tls_versions")),
    "alpn_protocols": ("alpn_protocols", _list("alpn_protocols")),
}
MEMBER_PATHS = {
    **_META,
    "weight": ("weight", _attr("weight")),
    "backup": ("backup", _attr("backup")),
    "monitor_address": ("monitor_address", _attr("monitor_address")),
    "monitor_port": ("monitor_port", _optional_int("monitor_port")),
}
L7POLICY_PATHS = {
    **_META,
    "action": ("action", _attr("action")),
    "position": ("position", _attr("position")),
    "redirect_pool_id": ("redirect_pool_id", lambda m: m.redirect_pool_id or None),
    "redirect_url": ("redirect_url", _attr("redirect_url")),
    "redirect_prefix": ("redirect_prefix", _attr("redirect_prefix")),
    "redirect_http_code": ("redirect_http_code", _optional_int("redirect_http_code")),
}
L7RULE_PATHS = {
    **_META,
    **{name: (name, _attr(name)) for name in ("type", "compare_type", "key", "value", "invert")},
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
        "vip_vnic_type": msg.vip_vnic_type or "normal",
        "additional_vips": [
            {"subnet_id": v.subnet_id, "ip_address": v.ip_address} for v in msg.additional_vips
        ],
        "vip_sg_ids": list(msg.vip_sg_ids),
        # A fully populated create: nested objects (empty for a bare load balancer).
        "listeners": [_nested_listener(li) for li in msg.listeners],
        "pools": [_nested_pool(p) for p in msg.pools],
    }


def _nested_listener(msg: Any) -> dict[str, Any]:
    return {
        **listener_fields(msg),
        "l7policies": [
            {**l7policy_fields(p), "rules": [l7rule_fields(r) for r in p.rules]}
            for p in msg.l7policies
        ],
    }


def _nested_pool(msg: Any) -> dict[str, Any]:
    return {
        **pool_fields(msg),
        "members": [member_fields(m) for m in msg.members],
        "healthmonitor": health_monitor_fields(msg.healthmonitor)
        if msg.HasField("healthmonitor")
        else None,
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
        "vnic_type": msg.vnic_type or "normal",
    }


def health_monitor_fields(msg: Any) -> dict[str, Any]:
    return {
        **_all(msg, HEALTH_MONITOR_PATHS),
        "id": msg.meta.id,
        "pool_id": msg.pool_id,
        "type": msg.type,
    }


def l7policy_fields(msg: Any) -> dict[str, Any]:
    return {**_all(msg, L7POLICY_PATHS), "id": msg.meta.id, "listener_id": msg.listener_id}


def l7rule_fields(msg: Any) -> dict[str, Any]:
    return {**_all(msg, L7RULE_PATHS), "id": msg.meta.id, "l7policy_id": msg.l7policy_id}
