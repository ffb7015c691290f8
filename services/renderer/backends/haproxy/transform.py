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
from services.renderer.backends.haproxy import logs, ping, tls, vrrp
from services.renderer.domain import filters, l7, log_offload, monitors, privileges, sizing
from services.renderer.domain.tls import Materials
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
# Octavia's default stick-table size (haproxy "size", entries).
STICK_TABLE_SIZE = "10k"
CIDRS_PER_LINE = 32


def transform(
    lb: graph_pb2.LoadBalancer,
    target: renderer_service_pb2.Target,
    materials: Materials | None = None,
) -> dict[str, Any]:
    """The template's data; "files" maps each companion file's path to (content, mode)."""
    version = parse_version(target.haproxy_version, field="target.haproxy_version")
    f.HAPROXY_FEATURES.require("base", version)
    runtime_dir = filters.runtime_dir(target.runtime_dir, "target.runtime_dir")
    lb_id = filters.uuid_id(lb.meta.id, "loadbalancer.id")
    pools = _pools_by_id(lb)
    listeners = sorted(lb.listeners, key=lambda listener: listener.meta.id)
    vip = _vip(lb, target) if listeners else None
    ctx = _Context(materials or Materials(()), tls.FileSet(), target.openssl_version, version)

    frontends = [_frontend(li, vip, lb.meta.admin_state_up, pools, ctx) for li in listeners]
    # One backend per pool. Its timeouts and mode come from the listener owning it: the one whose
    # default pool it is, else the first listener (by id) whose L7 policies route to it.
    owner: dict[str, tuple[graph_pb2.Listener, dict[str, Any]]] = {}
    for listener, frontend in zip(listeners, frontends, strict=True):
        pool_id = frontend["default_backend"]
        if pool_id is None:
            continue
        if pool_id in owner:
            raise InvalidInput(
                f"pool {pool_id} is the default pool of listeners {owner[pool_id][1]['id']} "
                f"and {frontend['id']}",
                field=f"listener.{frontend['id']}.default_pool_id",
            )
        if pool_id not in pools:
            raise InvalidInput(
                f"listener {frontend['id']} names default pool {pool_id}, "
                "which is not in the graph",
                field=f"listener.{frontend['id']}.default_pool_id",
            )
        owner[pool_id] = (listener, frontend)
    for listener, frontend in zip(listeners, frontends, strict=True):
        for policy in frontend["use_backends"]:
            pool_id = policy["pool"]
            owner.setdefault(pool_id, (listener, frontend))
            if owner[pool_id][1]["mode"] != frontend["mode"]:
                raise InvalidInput(
                    f"pool {pool_id} is the default pool of {owner[pool_id][1]['mode']} "
                    f"listener {owner[pool_id][1]['id']} and the target of an L7 policy of "
                    f"{frontend['mode']} listener {frontend['id']}",
                    field=f"l7policy.{policy['id']}.redirect_pool_id",
                )
    ipv6 = vip is not None and ":" in vip
    backends = [
        _backend(pools[pool_id], listener, frontend, ipv6, ctx)
        for pool_id, (listener, frontend) in owner.items()
    ]
    backends.sort(key=lambda backend: backend["id"])
    size = sizing.size(target)
    external_check = any(b["monitor"] and b["monitor"]["ping"] for b in backends)
    return {
        "loadbalancer_id": lb_id,
        "runtime_dir": runtime_dir,
        # Target.size: global nbthread / maxconn, each None (not rendered) for the default.
        "threads": size.threads,
        "max_connections": size.max_connections,
        "frontends": frontends,
        "backends": backends,
        # Lets haproxy fork check processes: only when a PING monitor needs it.
        "external_check": external_check,
        # Workers run as haproxy:haproxy (Debian's haproxy package creates both), chrooted
        # into an empty directory unless a PING check must exec its script and ping; None for
        # an agent that does not prepare for it (privileges.py).
        "run_as": privileges.run_as(
            target, f.WORKER_USER, f.WORKER_GROUP, chroot=not external_check
        ),
        "files": ctx.files.files,
        # ACTIVE_STANDBY: this half of the keepalived pair and the haproxy peers; else None.
        "vrrp": vrrp.transform(lb_id, lb, target),
        # Log offload (logs.py): syslog targets of the access and admin logs; else None.
        "logging": logs.transform(log_offload.plan(target, lb.meta.project_id), version),
    }


class _Context:
    """What every part of one transform shares: the request's certificate material, the files
    written so far and the target's versions."""

    __slots__ = ("files", "materials", "openssl", "version")

    def __init__(
        self,
        materials: Materials,
        files: tls.FileSet,
        openssl: str,
        version: tuple[int, int, int],
    ) -> None:
        self.materials = materials
        self.files = files
        self.openssl = openssl
        self.version = version


def _pools_by_id(lb: graph_pb2.LoadBalancer) -> dict[str, graph_pb2.Pool]:
    pools: dict[str, graph_pb2.Pool] = {}
    for pool in lb.pools:
        if pool.meta.id in pools:
            raise InvalidInput(f"pool {pool.meta.id} appears twice", field="loadbalancer.pools")
        pools[pool.meta.id] = pool
    return pools


def _vip(lb: graph_pb2.LoadBalancer, target: renderer_service_pb2.Target) -> str:
    return str(vrrp.vip_address(lb, target))


def _frontend(
    listener: graph_pb2.Listener,
    vip: str | None,
    lb_up: bool,
    pools: dict[str, graph_pb2.Pool],
    ctx: _Context,
) -> dict[str, Any]:
    lid = filters.uuid_id(listener.meta.id, "listener.id")
    field = f"listener.{lid}"
    protocol = filters.one_of(listener.protocol, f"{field}.protocol", f.OCTAVIA_LISTENER_PROTOCOLS)
    if protocol not in f.LISTENER_PROTOCOLS:
        raise f.unsupported(f"listener.protocol.{protocol}", f"{field}.protocol")
    listener_tls = tls.listener_tls(
        listener, field, protocol, ctx.materials, ctx.files, ctx.openssl
    )
    mode = f.LISTENER_PROTOCOLS[protocol]
    limit = filters.int_range(
        listener.connection_limit, f"{field}.connection_limit", -1, MAX_CONNECTION_LIMIT
    )
    default_pool = listener.default_pool_id
    prometheus = protocol == "PROMETHEUS"
    if prometheus and default_pool:
        raise InvalidInput(
            "a PROMETHEUS listener cannot have a default pool", field=f"{field}.default_pool_id"
        )
    acls, http_rules, use_backends = _l7policies(listener, field, protocol, pools)
    return {
        "id": lid,
        "mode": mode,
        "prometheus": prometheus,
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
        "allowed_cidrs": _allowed_cidrs(listener, field),
        "tls": listener_tls,
        "hsts": tls.hsts(listener, field, protocol),
        "headers": _insert_headers(listener, field, protocol),
        "acls": acls,
        "http_rules": http_rules,
        "use_backends": use_backends,
        "default_backend": (
            filters.uuid_id(default_pool, f"{field}.default_pool_id") if default_pool else None
        ),
    }


def _allowed_cidrs(listener: graph_pb2.Listener, field: str) -> list[list[str]]:
    """Normalised, de-duplicated CIDRs in chunks (haproxy reads at most 64 words a line)."""
    networks = {filters.cidr(text, f"{field}.allowed_cidrs") for text in listener.allowed_cidrs}
    ordered = [str(n) for n in sorted(networks, key=lambda n: (n.version, n))]
    return [ordered[i : i + CIDRS_PER_LINE] for i in range(0, len(ordered), CIDRS_PER_LINE)]


def _insert_headers(listener: graph_pb2.Listener, field: str, protocol: str) -> dict[str, bool]:
    hfield = f"{field}.insert_headers"
    wanted = {}
    for key, value in sorted(listener.insert_headers.items()):
        if key not in f.HTTP_INSERT_HEADERS | f.SSL_INSERT_HEADERS:
            raise InvalidInput(f"{hfield} has an unsupported header", field=hfield)
        if value.lower() not in ("true", "false"):
            raise InvalidInput(f"{hfield}: the value of {key} must be true or false", field=hfield)
        if key in f.SSL_INSERT_HEADERS and protocol != "TERMINATED_HTTPS":
            raise InvalidInput(f"{hfield}: {key} needs a TERMINATED_HTTPS listener", field=hfield)
        if protocol not in f.HTTP_LISTENER_PROTOCOLS:
            raise InvalidInput(
                f"{hfield}: headers cannot be inserted by {protocol} listeners", field=hfield
            )
        wanted[key] = value.lower() == "true"
    return {
        "forwarded_for": wanted.get("X-Forwarded-For", False),
        "forwarded_port": wanted.get("X-Forwarded-Port", False),
        "forwarded_proto": wanted.get("X-Forwarded-Proto", False),
        "proto": "https" if protocol == "TERMINATED_HTTPS" else "http",
        # Octavia's X-SSL-* headers, in its order; the template holds each one's sample fetch.
        "ssl": [h for h in SSL_HEADER_ORDER if wanted.get(h, False)],
    }


SSL_HEADER_ORDER = (
    "X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN", "X-SSL-Client-CN",
    "X-SSL-Issuer", "X-SSL-Client-SHA1", "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After",
)  # fmt: skip


def _l7policies(
    listener: graph_pb2.Listener,
    field: str,
    protocol: str,
    pools: dict[str, graph_pb2.Pool],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """ACLs (every applied policy's rules, by position), then http-request and use_backend rules
    in Octavia's order of evaluation (see services.renderer.domain.l7)."""
    if not listener.l7policies:
        return [], [], []
    if protocol not in f.HTTP_LISTENER_PROTOCOLS:
        raise InvalidInput(
            f"L7 policies need an HTTP listener, not {protocol}", field=f"{field}.l7policies"
        )
    applied = l7.applied_policies(
        listener.l7policies,
        field,
        pools,
        lambda rule, rid: _l7rule(rule, rid, protocol),
        lambda pool_id, pool, pfield: _check_l7_pool(pool_id, pool, pfield, field),
        actions=f.L7_ACTIONS,
    )
    acls = [rule for policy in applied for rule in policy.rules]
    http_rules, use_backends = [], []
    for policy in l7.evaluation_order(applied):
        entry = {**l7.entry(policy), "conditions": policy.rules}
        (use_backends if policy.action == "REDIRECT_TO_POOL" else http_rules).append(entry)
    return acls, http_rules, use_backends


def _check_l7_pool(pool_id: str, pool: graph_pb2.Pool, pfield: str, field: str) -> None:
    if pool.protocol not in f.HTTP_POOL_PROTOCOLS:
        raise InvalidInput(
            f"pool {pool_id} (protocol {pool.protocol}) cannot be the target "
            f"of an L7 policy of HTTP listener {field.split('.', 1)[1]}",
            field=f"{pfield}.redirect_pool_id",
        )


def _l7rule(rule: graph_pb2.L7Rule, rid: str, protocol: str) -> dict[str, Any]:
    field = f"l7rule.{rid}"
    kind = filters.one_of(rule.type, f"{field}.type", f.OCTAVIA_L7_RULE_TYPES)
    compare = filters.one_of(rule.compare_type, f"{field}.compare_type", f.L7_COMPARE_TYPES)
    if kind in f.SSL_L7_RULE_TYPES:
        # SSL_* rules look at the client certificate: only TERMINATED_HTTPS listeners have one.
        if protocol != "TERMINATED_HTTPS":
            raise InvalidInput(
                f"{field}.type {kind} needs a TERMINATED_HTTPS listener", field=f"{field}.type"
            )
        return {"id": rid, "invert": rule.invert, **tls.ssl_rule(rule, field, kind, compare)}
    key = None
    if kind in ("HEADER", "COOKIE"):
        key = filters.http_name(rule.key, f"{field}.key")
    if compare == "REGEX":
        value = filters.regex(rule.value, f"{field}.value")
    else:
        value = filters.match_pattern(rule.value, f"{field}.value")
    method = f.L7_COMPARE_TYPES[compare]
    fetch = {"HOST_NAME": "host", "PATH": "path", "FILE_TYPE": "path", "HEADER": "hdr",
             "COOKIE": "cook"}[kind]  # fmt: skip
    if kind == "FILE_TYPE":
        if compare not in ("REGEX", "EQUAL_TO"):
            raise InvalidInput(
                f"{field}.compare_type must be REGEX or EQUAL_TO for FILE_TYPE rules",
                field=f"{field}.compare_type",
            )
        if compare == "EQUAL_TO":
            # The file type "jpg" matches paths ending in ".jpg".
            method, value = "end", filters.match_pattern("." + value, f"{field}.value")
    return {
        "id": rid,
        "fetch": fetch,
        "key": key,
        "ignore_case": kind == "HOST_NAME",
        "method": method,
        "regex": method == "reg",
        "value": value,
        "invert": rule.invert,
    }


def _timeout(value: int, field: str, default: int) -> int:
    """0 means unset in proto3; Octavia's default applies then."""
    checked = filters.int_range(value, field, 0, MAX_TIMEOUT_MS)
    return checked or default


def _backend(
    pool: graph_pb2.Pool,
    listener: graph_pb2.Listener,
    frontend: dict[str, Any],
    ipv6_vip: bool,
    ctx: _Context,
) -> dict[str, Any]:
    pid = filters.uuid_id(pool.meta.id, "pool.id")
    field = f"pool.{pid}"
    protocol = filters.one_of(pool.protocol, f"{field}.protocol", f.OCTAVIA_POOL_PROTOCOLS)
    if protocol not in f.POOL_PROTOCOLS:
        raise f.unsupported(f"pool.protocol.{protocol}", f"{field}.protocol")
    if frontend["mode"] == "http" and protocol not in f.HTTP_POOL_PROTOCOLS:
        raise InvalidInput(
            f"pool {pid} (protocol {protocol}) cannot be the default pool of HTTP listener "
            f"{frontend['id']}",
            field=f"{field}.protocol",
        )
    algorithm = filters.one_of(pool.lb_algorithm, f"{field}.lb_algorithm", f.OCTAVIA_LB_ALGORITHMS)
    if algorithm not in f.LB_ALGORITHMS:
        # SOURCE_IP_PORT: Octavia only offers it on UDP and SCTP pools (LVS), not in haproxy.
        raise f.unsupported(f"pool.lb_algorithm.{algorithm}", f"{field}.lb_algorithm")
    persistence = _persistence(pool, field, frontend["mode"], ipv6_vip)
    monitor = _monitor(pool, field, ctx)
    pool_tls = tls.pool_tls(pool, field, ctx.materials, ctx.files, ctx.openssl)
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
        "persistence": persistence,
        "monitor": monitor,
        "send_proxy": f.POOL_PROTOCOLS[protocol],
        "tls": pool_tls,
        "servers": [_server(member, field) for member in members],
    }


def _persistence(
    pool: graph_pb2.Pool, pool_field: str, mode: str, ipv6_vip: bool
) -> dict[str, Any] | None:
    sp = pool.session_persistence
    field = f"{pool_field}.session_persistence"
    if not sp.type:
        return None
    kind = filters.one_of(sp.type, f"{field}.type", f.OCTAVIA_PERSISTENCE_TYPES)
    if kind not in f.PERSISTENCE_TYPES:
        raise f.unsupported(f"pool.session_persistence.{kind}", f"{field}.type")
    cookie = filters.http_name(sp.cookie_name, f"{field}.cookie_name") if sp.cookie_name else None
    if kind == "APP_COOKIE" and cookie is None:
        raise InvalidInput(
            f"{field}.cookie_name is required for APP_COOKIE", field=f"{field}.cookie_name"
        )
    if kind != "SOURCE_IP" and mode != "http":
        raise InvalidInput(
            f"{field}.type {kind} needs an HTTP listener in front of the pool",
            field=f"{field}.type",
        )
    expire = None
    if sp.HasField("persistence_timeout"):
        expire = filters.int_range(
            sp.persistence_timeout, f"{field}.persistence_timeout", 1, MAX_TIMEOUT_MS // 1000
        )
    return {
        "type": kind,
        # Octavia's "type ip" cannot hold IPv6 clients; an IPv6 VIP gets an ipv6 table.
        "table": "string len 64" if kind == "APP_COOKIE" else ("ipv6" if ipv6_vip else "ip"),
        "size": STICK_TABLE_SIZE,
        "expire": expire,
        "cookie": cookie,
    }


def _monitor(pool: graph_pb2.Pool, pool_field: str, ctx: _Context) -> dict[str, Any] | None:
    enabled = monitors.enabled_monitor(pool, pool_field, f.MONITOR_TYPES, f.unsupported)
    if enabled is None:
        return None
    hm, kind, field = enabled
    monitor: dict[str, Any] = {
        "ssl": kind == "HTTPS",
        "ssl_hello": kind == "TLS-HELLO",
        "http": None,
        "inter": filters.int_range(hm.delay, f"{field}.delay", 1, MAX_MONITOR_SECONDS),
        "timeout": filters.int_range(hm.timeout, f"{field}.timeout", 1, MAX_MONITOR_SECONDS),
        "rise": filters.int_range(hm.max_retries, f"{field}.max_retries", 1, 10),
        "fall": filters.int_range(hm.max_retries_down or 3, f"{field}.max_retries_down", 1, 10),
        "ping": None,
    }
    if kind == "PING":
        f.HAPROXY_FEATURES.require("healthmonitor.external-check", ctx.version)
        path = ping.wrapper_path(monitor["timeout"], f"{field}.timeout")
        monitor["ping"] = ctx.files.add(path, ping.SCRIPT, ping.SCRIPT_MODE)
    if kind in ("HTTP", "HTTPS"):
        f.HAPROXY_FEATURES.require("healthmonitor.http-check.send", ctx.version)
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
