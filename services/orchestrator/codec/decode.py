"""Protobuf messages -> plain dicts of column values (for creates and FieldMask updates).

Fields map to columns by name; codec/names.py names the exceptions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

from services.common.errors import InvalidInput
from services.orchestrator.codec import names
from services.orchestrator.codec.names import Entity, Mapped

Getter = Callable[[Any], Any]


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


def _additional_vips(msg: Any) -> list[dict[str, str]]:
    return [{"subnet_id": v.subnet_id, "ip_address": v.ip_address} for v in msg.additional_vips]


# The JSON columns names.py lists as by_hand (encode.py converts them back).
_BY_HAND: dict[str, Getter] = {
    "session_persistence": _session_persistence,
    "additional_vips": _additional_vips,
}


def _getter(entity: Entity, m: Mapped) -> Getter:
    get = attrgetter(m.path)
    if m.field.is_repeated:
        if m.field.message_type is not None and m.field.message_type.GetOptions().map_entry:
            return lambda msg: dict(get(msg))
        return lambda msg: list(get(msg))
    if m.field.message_type is not None or m.field.enum_type is not None:
        raise TypeError(f"{m.path}: no column conversion for this type; see codec/names.py")
    if m.field.has_presence:  # proto3 `optional`: unset is NULL
        parent, _, name = m.path.rpartition(".")
        if parent:
            owner = attrgetter(parent)
            return lambda msg: get(msg) if owner(msg).HasField(name) else None
        return lambda msg: get(msg) if msg.HasField(name) else None
    if m.path in entity.empty_is_null:
        return lambda msg: get(msg) or None
    if m.path in entity.defaults:
        default = entity.defaults[m.path]
        return lambda msg: get(msg) or default
    return get


def _decoded(entity: Entity, *, update: bool) -> dict[str, tuple[str, Getter]]:
    """FieldMask path -> (column, getter) of what a create (or an update) may set."""
    skip = set(entity.read_only) | (set(entity.create_only) if update else set())
    out = {
        m.path: (m.column, _getter(entity, m)) for m in names.mapped(entity) if m.path not in skip
    }
    for path in entity.by_hand:
        if path not in skip:
            out[path] = (entity.renamed.get(path, path), _BY_HAND[path])
    return out


# Updatable paths of each resource: FieldMask path -> (column, getter).
LOADBALANCER_PATHS = _decoded(names.LOADBALANCER, update=True)
LISTENER_PATHS = _decoded(names.LISTENER, update=True)
POOL_PATHS = _decoded(names.POOL, update=True)
MEMBER_PATHS = _decoded(names.MEMBER, update=True)
L7POLICY_PATHS = _decoded(names.L7POLICY, update=True)
L7RULE_PATHS = _decoded(names.L7RULE, update=True)
HEALTH_MONITOR_PATHS = _decoded(names.HEALTH_MONITOR, update=True)

# What a create reads: the updatable paths and the create-only ones.
_LOADBALANCER = _decoded(names.LOADBALANCER, update=False)
_LISTENER = _decoded(names.LISTENER, update=False)
_POOL = _decoded(names.POOL, update=False)
_MEMBER = _decoded(names.MEMBER, update=False)
_L7POLICY = _decoded(names.L7POLICY, update=False)
_L7RULE = _decoded(names.L7RULE, update=False)
_HEALTH_MONITOR = _decoded(names.HEALTH_MONITOR, update=False)


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
        **_all(msg, _LOADBALANCER),
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
    return _all(msg, _LISTENER)


def pool_fields(msg: Any) -> dict[str, Any]:
    return _all(msg, _POOL)


def member_fields(msg: Any) -> dict[str, Any]:
    return _all(msg, _MEMBER)


def health_monitor_fields(msg: Any) -> dict[str, Any]:
    return _all(msg, _HEALTH_MONITOR)


def l7policy_fields(msg: Any) -> dict[str, Any]:
    return _all(msg, _L7POLICY)


def l7rule_fields(msg: Any) -> dict[str, Any]:
    return _all(msg, _L7RULE)
