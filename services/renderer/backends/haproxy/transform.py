"""Turns the protobuf graph into the plain, validated data the haproxy template renders.

Every value leaving this module has been checked by a domain filter; field names in errors use
the object id so the user can tell which of several listeners or members is wrong.
"""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.haproxy import features as f
from services.renderer.domain import filters
from services.renderer.domain.versions import parse_version

# Octavia's defaults, used where the graph leaves a timeout unset (0).
DEFAULT_TIMEOUT_CLIENT_DATA = 50000
DEFAULT_TIMEOUT_MEMBER_CONNECT = 5000
DEFAULT_TIMEOUT_MEMBER_DATA = 50000
DEFAULT_TIMEOUT_TCP_INSPECT = 0
# Octavia's HAPROXY_DEFAULT_MAXCONN, for connection_limit -1 (unlimited).
DEFAULT_MAXCONN = 50000
MAX_CONNECTION_LIMIT = 1_000_000
MAX_TIMEOUT_MS = 24 * 24 * 3600 * 1000  # Octavia's upper bound (24 days)
MAX_MONITOR_SECONDS = 24 * 3600


def transform(lb: graph_pb2.LoadBalancer, target: renderer_service_pb2.Target) -> dict[str, Any]:
    version = parse_version(target.haproxy_version, field="target.haproxy_version")
    f.HAPROXY_FEATURES.require("base", version)
    runtime_dir = filters.runtime_dir(target.runtime_dir, "target.runtime_dir")
    lb_id = filters.uuid_id(lb.meta.id, "loadbalancer.id")
    pools = _pools_by_id(lb)
    listeners = sorted(lb.listeners, key=lambda listener: listener.meta.id)
    vip = _vip(lb, target) if listeners else None

    frontends, backends, pool_owner = [], [], {}
    for listener in listeners:
        frontend = _frontend(listener, vip, lb.meta.admin_state_up)
        frontends.append(frontend)
        pool_id = frontend["default_backend"]
        if pool_id is None:
            continue
        if pool_id in pool_owner:
            raise InvalidInput(
                f"pool {pool_id} is the default pool of listeners {pool_owner[pool_id]} "
                f"and {frontend['id']}",
                field=f"listener.{frontend['id']}.default_pool_id",
            )
        pool_owner[pool_id] = frontend["id"]
        if pool_id not in pools:
            raise InvalidInput(
                f"listener {frontend['id']} names default pool {pool_id}, "
                "which is not in the graph",
                field=f"listener.{frontend['id']}.default_pool_id",
            )
        backends.append(_backend(pools[pool_id], listener, frontend, version))
    backends.sort(key=lambda backend: backend["id"])
    return {
        "loadbalancer_id": lb_id,
        "runtime_dir": runtime_dir,
        "frontends": frontends,
        "backends": backends,
    }


def _pools_by_id(lb: graph_pb2.LoadBalancer) -> dict[str, graph_pb2.Pool]:
    pools: dict[str, graph_pb2.Pool] = {}
    for pool in lb.pools:
        if pool.meta.id in pools:
            raise InvalidInput(f"pool {pool.meta.id} appears twice", field="loadbalancer.pools")
        pools[pool.meta.id] = pool
    return pools


def _vip(lb: graph_pb2.LoadBalancer, target: renderer_service_pb2.Target) -> str:
    if target.vip_address:
        return str(filters.ip_address(target.vip_address, "target.vip_address"))
    return str(filters.ip_address(lb.vip.address, "loadbalancer.vip.address"))


def _frontend(listener: graph_pb2.Listener, vip: str | None, lb_up: bool) -> dict[str, Any]:
    lid = filters.uuid_id(listener.meta.id, "listener.id")
    field = f"listener.{lid}"
    protocol = filters.one_of(listener.protocol, f"{field}.protocol", f.OCTAVIA_LISTENER_PROTOCOLS)
    if protocol not in f.LISTENER_PROTOCOLS:
        raise f.unsupported(f"listener.protocol.{protocol}", f"{field}.protocol")
    if listener.insert_headers:
        raise f.unsupported("listener.insert_headers", f"{field}.insert_headers")
    if listener.allowed_cidrs:
        raise f.unsupported("listener.allowed_cidrs", f"{field}.allowed_cidrs")
    limit = filters.int_range(
        listener.connection_limit, f"{field}.connection_limit", -1, MAX_CONNECTION_LIMIT
    )
    default_pool = listener.default_pool_id
    return {
        "id": lid,
        "mode": f.LISTENER_PROTOCOLS[protocol],
        "bind_address": vip,
        "port": filters.int_range(listener.protocol_port, f"{field}.protocol_port", 1, 65535),
        "maxconn": DEFAULT_MAXCONN if limit == -1 else limit,
        "timeout_client": _timeout(
            listener.timeout_client_data,
            f"{field}.timeout_client_data",
            DEFAULT_TIMEOUT_CLIENT_DATA,
        ),
        "tcp_inspect": _timeout(
            listener.timeout_tcp_inspect,
            f"{field}.timeout_tcp_inspect",
            DEFAULT_TIMEOUT_TCP_INSPECT,
        ),
        "disabled": not (lb_up and listener.meta.admin_state_up),
        "default_backend": (
            filters.uuid_id(default_pool, f"{field}.default_pool_id") if default_pool else None
        ),
    }


def _timeout(value: int, field: str, default: int) -> int:
    """0 means unset in proto3; Octavia's default applies then."""
    checked = filters.int_range(value, field, 0, MAX_TIMEOUT_MS)
    return checked or default


def _backend(
    pool: graph_pb2.Pool,
    listener: graph_pb2.Listener,
    frontend: dict[str, Any],
    version: tuple[int, int, int],
) -> dict[str, Any]:
    pid = filters.uuid_id(pool.meta.id, "pool.id")
    field = f"pool.{pid}"
    protocol = filters.one_of(pool.protocol, f"{field}.protocol", f.OCTAVIA_POOL_PROTOCOLS)
    if protocol not in f.POOL_PROTOCOLS:
        raise f.unsupported(f"pool.protocol.{protocol}", f"{field}.protocol")
    if frontend["mode"] == "http" and protocol != "HTTP":
        raise InvalidInput(
            f"pool {pid} (protocol {protocol}) cannot be the default pool of HTTP listener "
            f"{frontend['id']}",
            field=f"{field}.protocol",
        )
    algorithm = filters.one_of(pool.lb_algorithm, f"{field}.lb_algorithm", f.OCTAVIA_LB_ALGORITHMS)
    if algorithm not in f.LB_ALGORITHMS:
        raise f.unsupported(f"pool.lb_algorithm.{algorithm}", f"{field}.lb_algorithm")
    persistence = pool.session_persistence.type
    if persistence:
        filters.one_of(
            persistence, f"{field}.session_persistence.type", f.OCTAVIA_PERSISTENCE_TYPES
        )
        raise f.unsupported(
            f"pool.session_persistence.{persistence}", f"{field}.session_persistence.type"
        )
    monitor = _monitor(pool, field, version)
    members = sorted(pool.members, key=lambda member: member.meta.id)
    return {
        "id": pid,
        # The backend speaks the listener's mode: haproxy refuses a mode mismatch, and a TCP
        # listener in front of an HTTP pool is a valid Octavia combination.
        "mode": frontend["mode"],
        "balance": f.LB_ALGORITHMS[algorithm],
        "disabled": not pool.meta.admin_state_up,
        "timeout_connect": _timeout(
            listener.timeout_member_connect,
            f"listener.{frontend['id']}.timeout_member_connect",
            DEFAULT_TIMEOUT_MEMBER_CONNECT,
        ),
        "timeout_server": _timeout(
            listener.timeout_member_data,
            f"listener.{frontend['id']}.timeout_member_data",
            DEFAULT_TIMEOUT_MEMBER_DATA,
        ),
        "monitor": monitor,
        "servers": [_server(member, field) for member in members],
    }


def _monitor(
    pool: graph_pb2.Pool, pool_field: str, version: tuple[int, int, int]
) -> dict[str, Any] | None:
    if not pool.HasField("healthmonitor"):
        return None
    hm = pool.healthmonitor
    field = f"{pool_field}.healthmonitor"
    kind = filters.one_of(hm.type, f"{field}.type", f.OCTAVIA_MONITOR_TYPES)
    if kind not in f.MONITOR_TYPES:
        raise f.unsupported(f"healthmonitor.type.{kind}", f"{field}.type")
    if not hm.meta.admin_state_up:
        return None
    monitor: dict[str, Any] = {
        "ssl": kind == "HTTPS",
        "http": None,
        "inter": filters.int_range(hm.delay, f"{field}.delay", 1, MAX_MONITOR_SECONDS),
        "timeout": filters.int_range(hm.timeout, f"{field}.timeout", 1, MAX_MONITOR_SECONDS),
        "rise": filters.int_range(hm.max_retries, f"{field}.max_retries", 1, 10),
        "fall": filters.int_range(hm.max_retries_down or 3, f"{field}.max_retries_down", 1, 10),
    }
    if kind in ("HTTP", "HTTPS"):
        f.HAPROXY_FEATURES.require("healthmonitor.http-check.send", version)
        monitor["http"] = {
            "method": filters.one_of(
                hm.http_method or "GET", f"{field}.http_method", filters.HTTP_METHODS
            ),
            "path": filters.url_path(hm.url_path or "/", f"{field}.url_path"),
            "version": filters.one_of(
                hm.http_version or "1.0", f"{field}.http_version", filters.HTTP_VERSIONS
            ),
            "host": filters.hostname(hm.domain_name, f"{field}.domain_name")
            if hm.domain_name
            else None,
            "expect": filters.expected_codes(hm.expected_codes or "200", f"{field}.expected_codes"),
        }
    return monitor


def _server(member: graph_pb2.Member, pool_field: str) -> dict[str, Any]:
    mid = filters.uuid_id(member.meta.id, f"{pool_field}.member.id")
    field = f"member.{mid}"
    return {
        "id": mid,
        "address": filters.ip_address(member.address, f"{field}.address"),
        "port": filters.int_range(member.protocol_port, f"{field}.protocol_port", 1, 65535),
        "weight": filters.int_range(member.weight, f"{field}.weight", 0, 256),
        "backup": member.backup,
        "disabled": not member.meta.admin_state_up,
        "check_address": filters.ip_address(member.monitor_address, f"{field}.monitor_address")
        if member.monitor_address
        else None,
        "check_port": filters.int_range(member.monitor_port, f"{field}.monitor_port", 1, 65535)
        if member.HasField("monitor_port")
        else None,
    }
