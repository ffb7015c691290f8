"""Turns the protobuf graph into the plain, validated data the nginx template renders.

Every value leaving this module has been checked by a domain filter; field names in errors use
the object id so the user can tell which of several listeners or members is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput, Precondition
from services.renderer.backends.nginx import features as f
from services.renderer.backends.nginx import l7, logs
from services.renderer.domain import filters, log_offload, monitors, privileges, sizing, tls
from services.renderer.domain.versions import Version, parse_version

# Octavia's defaults, used where the graph leaves a timeout unset (0).
DEFAULT_TIMEOUT_CLIENT_DATA = 50000
DEFAULT_TIMEOUT_MEMBER_CONNECT = 5000
DEFAULT_TIMEOUT_MEMBER_DATA = 50000
MAX_CONNECTION_LIMIT = 1_000_000
DEFAULT_WORKER_CONNECTIONS = 4096  # per worker, when Target.size sets no max_connections
MAX_TIMEOUT_MS = 24 * 24 * 3600 * 1000  # Octavia's upper bound (24 days)
MAX_HSTS_AGE = 2**31 - 1
ALPN_PROTOCOLS = {"h2", "http/1.1", "http/1.0"}
CERT_DIR = "certs"
NO_TARGET = "none"


def transform(
    lb: graph_pb2.LoadBalancer,
    target: renderer_service_pb2.Target,
    request_materials: Sequence[renderer_service_pb2.TlsMaterial] = (),
) -> tuple[dict[str, Any], dict[str, tls.Material]]:
    """(template data, certificate files by path relative to the config directory)."""
    if target.HasField("vrrp"):
        # keepalived's check script and the peers that carry stick tables are haproxy's; nginx
        # pairs would need their own (orchestrator rules.ACTIVE_STANDBY_BACKENDS agrees).
        raise Precondition(
            "ACTIVE_STANDBY topology is not available with the nginx backend",
            field="target.vrrp",
        )
    version = parse_version(target.nginx_version, field="target.nginx_version")
    f.require("base", version)
    runtime_dir = filters.runtime_dir(target.runtime_dir, "target.runtime_dir")
    lb_id = filters.uuid_id(lb.meta.id, "loadbalancer.id")
    pools = _pools_by_id(lb)
    usable = {pid: pool for pid, pool in pools.items() if _usable(pool)}
    materials = tls.materials(request_materials)
    certs: dict[str, tls.Material] = {}
    listeners = []
    for listener in sorted(lb.listeners, key=lambda item: item.meta.id):
        checked = _listener(listener, pools, usable, materials, certs, version)
        if lb.meta.admin_state_up and listener.meta.admin_state_up:
            listeners.append(checked)  # nginx has no disabled listener: it is not rendered
    vip = _vip(lb, target) if listeners else None
    contexts: dict[str, dict[str, Any]] = {}  # pool id -> {"http": bool, "stream": bool, ...}
    for listener in listeners:
        listener["address"] = vip
        for pool_id in listener["pools"]:
            contexts.setdefault(pool_id, {"http": False, "stream": False})
            contexts[pool_id][listener["context"]] = True
    upstreams = {"http": [], "stream": []}
    manifest_pools = []
    for pool_id in sorted(contexts):
        upstream = _upstream(pools[pool_id])
        manifest_pools.append(upstream)
        if pool_id not in usable:
            continue
        for context in ("http", "stream"):
            if contexts[pool_id][context]:
                upstreams[context].append(upstream)
    http = [li for li in listeners if li["context"] == "http"]
    stream = [li for li in listeners if li["context"] == "stream"]
    return {
        "loadbalancer_id": lb_id,
        "runtime_dir": runtime_dir,
        **_workers(target),
        # Workers run as www-data; None for an agent that does not prepare for it. nginx has no
        # chroot.
        "run_as": privileges.run_as(target, f.WORKER_USER, f.WORKER_GROUP, chroot=False),
        "http2_directive": f.NGINX_FEATURES.supports("http2.directive", version),
        "http_listeners": http,
        "stream_listeners": stream,
        "http_upstreams": upstreams["http"],
        "stream_upstreams": upstreams["stream"],
        "manifest": {"listeners": [li["id"] for li in listeners], "pools": manifest_pools},
        # Log offload (logs.py): syslog targets, where the error log goes; else None.
        "logging": logs.transform(log_offload.plan(target, lb.meta.project_id)),
    }, certs


def _workers(target: renderer_service_pb2.Target) -> dict[str, Any]:
    """worker_processes and worker_connections from Target.size.

    Without a size (or with zeros) the defaults stay: one worker per CPU, 4096 connections each.
    max_connections counts client connections, as haproxy's global maxconn does, but nginx's
    worker_connections counts every connection a worker holds, and each proxied client holds a
    second one to its member: a worker gets twice its share. With threads the share is
    max_connections / threads (rounded up); without, the number of workers is the CPU count,
    unknown here, so each worker may take all of max_connections (nginx has no limit across
    workers to divide exactly anyway).
    """
    size = sizing.size(target)
    workers = size.threads or 1
    return {
        "worker_processes": size.threads,  # None: auto
        "worker_connections": (
            DEFAULT_WORKER_CONNECTIONS
            if size.max_connections is None
            else 2 * -(-size.max_connections // workers)
        ),
    }


def _pools_by_id(lb: graph_pb2.LoadBalancer) -> dict[str, graph_pb2.Pool]:
    pools: dict[str, graph_pb2.Pool] = {}
    for pool in lb.pools:
        pid = filters.uuid_id(pool.meta.id, "pool.id")
        if pid in pools:
            raise InvalidInput(f"pool {pid} appears twice", field="loadbalancer.pools")
        pools[pid] = pool
    return pools


def _usable(pool: graph_pb2.Pool) -> bool:
    """An upstream needs a server nginx may send to; otherwise the pool's target is empty."""
    return pool.meta.admin_state_up and any(
        m.meta.admin_state_up and m.weight > 0 for m in pool.members
    )


def _vip(lb: graph_pb2.LoadBalancer, target: renderer_service_pb2.Target) -> str:
    if target.vip_address:
        return str(filters.ip_address(target.vip_address, "target.vip_address"))
    return str(filters.ip_address(lb.vip.address, "loadbalancer.vip.address"))


def _timeout(value: int, field: str, default: int) -> int:
    """0 means unset in proto3; Octavia's default applies then."""
    return filters.int_range(value, field, 0, MAX_TIMEOUT_MS) or default


def _listener(
    listener: graph_pb2.Listener,
    pools: dict[str, graph_pb2.Pool],
    usable: dict[str, graph_pb2.Pool],
    materials: tls.Materials,
    certs: dict[str, tls.Material],
    version: tuple[int, int, int],
) -> dict[str, Any]:
    lid = filters.uuid_id(listener.meta.id, "listener.id")
    field = f"listener.{lid}"
    protocol = filters.one_of(listener.protocol, f"{field}.protocol", f.OCTAVIA_LISTENER_PROTOCOLS)
    if protocol not in f.LISTENER_PROTOCOLS:
        raise f.unsupported(f"listener.protocol.{protocol}", f"{field}.protocol")
    if listener.client_authentication not in ("", "NONE"):
        raise f.unsupported("listener.client_authentication", f"{field}.client_authentication")
    context = f.LISTENER_PROTOCOLS[protocol]
    limit = filters.int_range(
        listener.connection_limit, f"{field}.connection_limit", -1, MAX_CONNECTION_LIMIT
    )
    client = _timeout(
        listener.timeout_client_data, f"{field}.timeout_client_data", DEFAULT_TIMEOUT_CLIENT_DATA
    )
    member_data = _timeout(
        listener.timeout_member_data, f"{field}.timeout_member_data", DEFAULT_TIMEOUT_MEMBER_DATA
    )
    default_pool = ""
    proxy_protocol = False
    if listener.default_pool_id:
        default_pool = filters.uuid_id(listener.default_pool_id, f"{field}.default_pool_id")
        if default_pool not in pools:
            raise InvalidInput(
                f"listener {lid} names default pool {default_pool}, which is not in the graph",
                field=f"{field}.default_pool_id",
            )
        proxy_protocol = _check_pool_protocol(pools[default_pool], lid, context)
    rules, policies = l7.policies(listener, field, protocol, usable, pools)
    routed = [p["pool"] for p in policies if p["action"] == "REDIRECT_TO_POOL"]
    tls_data = (
        _tls(listener, field, materials, certs, version) if protocol == "TERMINATED_HTTPS" else None
    )
    blocks = [{"cert": None, "names": [], "default": True}]
    if tls_data is not None:
        blocks = [{"cert": tls_data["default_file"], "names": [], "default": True}] + [
            {"cert": sni["file"], "names": sni["names"], "default": False}
            for sni in tls_data["sni"]
        ]
    return {
        "id": lid,
        "key": l7.key(lid),
        "context": context,
        "port": filters.int_range(listener.protocol_port, f"{field}.protocol_port", 1, 65535),
        "connection_limit": None if limit == -1 else limit,
        "timeout_client": client,
        "timeout_connect": _timeout(
            listener.timeout_member_connect,
            f"{field}.timeout_member_connect",
            DEFAULT_TIMEOUT_MEMBER_CONNECT,
        ),
        "timeout_member": member_data,
        # A stream proxy has one idle timeout for both sides: the longer of the two.
        "timeout_stream": max(client, member_data),
        "allowed_cidrs": _allowed_cidrs(listener, field),
        "headers": _insert_headers(listener, field, context),
        "tls": tls_data,
        "blocks": blocks,
        "rules": rules,
        "policies": policies,
        "default_target": (
            f"pool-{default_pool}" if default_pool and default_pool in usable else NO_TARGET
        ),
        "proxy_protocol": proxy_protocol,
        # Pools this listener sends to: each needs an upstream in the listener's context.
        "pools": ([default_pool] if default_pool else []) + routed,
    }


def _check_pool_protocol(pool: graph_pb2.Pool, lid: str, context: str) -> bool:
    """Whether members get a PROXY header; raises for pools this listener cannot use."""
    pid = pool.meta.id
    field = f"pool.{pid}.protocol"
    protocol = filters.one_of(pool.protocol, field, f.OCTAVIA_POOL_PROTOCOLS)
    if protocol not in f.POOL_PROTOCOLS:
        raise f.unsupported(f"pool.protocol.{protocol}", field)
    if context == "http" and protocol == "PROXY":
        raise f.unsupported(
            "pool.protocol.PROXY", field, "nginx cannot send a PROXY header from an HTTP listener"
        )
    if context == "http" and protocol not in f.HTTP_POOL_PROTOCOLS:
        raise InvalidInput(
            f"pool {pid} (protocol {protocol}) cannot be the default pool of HTTP listener {lid}",
            field=field,
        )
    return protocol == "PROXY"


def _allowed_cidrs(listener: graph_pb2.Listener, field: str) -> list[str]:
    networks = {filters.cidr(text, f"{field}.allowed_cidrs") for text in listener.allowed_cidrs}
    return [str(n) for n in sorted(networks, key=lambda n: (n.version, n))]


def _insert_headers(listener: graph_pb2.Listener, field: str, context: str) -> dict[str, bool]:
    hfield = f"{field}.insert_headers"
    wanted = {}
    for key, value in sorted(listener.insert_headers.items()):
        if key not in f.OCTAVIA_INSERT_HEADERS:
            raise InvalidInput(f"{hfield} has an unsupported header", field=hfield)
        if value.lower() not in ("true", "false"):
            raise InvalidInput(f"{hfield}: the value of {key} must be true or false", field=hfield)
        if value.lower() == "false":
            continue
        if key not in f.INSERT_HEADERS:
            # X-SSL-* describe a client certificate: client authentication is not rendered.
            raise f.unsupported(f"listener.insert_headers.{key}", hfield)
        if context != "http":
            raise InvalidInput(
                f"{hfield}: headers cannot be inserted by {listener.protocol} listeners",
                field=hfield,
            )
        wanted[key] = True
    return {
        "forwarded_for": wanted.get("X-Forwarded-For", False),
        "forwarded_port": wanted.get("X-Forwarded-Port", False),
        "forwarded_proto": wanted.get("X-Forwarded-Proto", False),
    }


def _cert_file(material: tls.Material, certs: dict[str, tls.Material]) -> str:
    path = f"{CERT_DIR}/{material.name}.pem"
    certs[path] = material
    return path


def _ciphers(value: str, field: str, version: Version) -> dict[str, str | None]:
    """Octavia's cipher string as nginx's ssl_ciphers (TLS <= 1.2) and OpenSSL's Ciphersuites
    (TLS 1.3, by ssl_conf_command), as haproxy's ciphers and ciphersuites: ssl_ciphers ignores
    TLS 1.3 names, and nginx does not start on a list of nothing else. An nginx without
    ssl_conf_command keeps OpenSSL's TLS 1.3 suites, as it always did."""
    if not value:
        return {"ciphers": None, "ciphersuites": None}
    names = [n for n in re.split("[:,]", filters.cipher_list(value, field)) if n]
    suites = [n for n in names if n in f.TLS13_CIPHERSUITES]
    older = [n for n in names if n not in f.TLS13_CIPHERSUITES]
    if suites and not f.NGINX_FEATURES.supports("ssl_conf_command", version):
        if not older:
            f.require("ssl_conf_command", version)  # raises: nothing nginx could start with
        suites = []
    return {"ciphers": ":".join(older) or None, "ciphersuites": ":".join(suites) or None}


def _tls(
    listener: graph_pb2.Listener,
    field: str,
    materials: tls.Materials,
    certs: dict[str, tls.Material],
    version: Version,
) -> dict[str, Any]:
    # Without a default certificate the first SNI certificate is the default (Octavia's rule).
    default_ref, default_field = listener.default_tls_container_ref, "default_tls_container_ref"
    if not default_ref and listener.sni_container_refs:
        default_ref, default_field = listener.sni_container_refs[0], "sni_container_refs[0]"
    if not default_ref:
        raise InvalidInput(
            f"{field}: a TERMINATED_HTTPS listener needs a default or an SNI certificate",
            field=f"{field}.default_tls_container_ref",
        )
    default = materials.get(default_ref, f"{field}.{default_field}", key=True)
    # SNI: each host name goes to the first SNI certificate that names it; a name no SNI
    # certificate claims is answered with the default certificate (nginx's default_server).
    sni = []
    claimed: set[str] = set()
    for index, ref in enumerate(listener.sni_container_refs):
        material = materials.get(ref, f"{field}.sni_container_refs[{index}]", key=True)
        names = [name for name in material.hostnames if name not in claimed]
        claimed.update(names)
        if names:
            sni.append({"file": _cert_file(material, certs), "names": names})
    versions = [
        filters.one_of(v, f"{field}.tls_versions", f.TLS_VERSION_ORDER)
        for v in listener.tls_versions
    ] or list(f.DEFAULT_TLS_VERSIONS)
    if "SSLv3" in versions:
        raise f.unsupported("listener.tls_versions_sslv3", f"{field}.tls_versions")
    indexes = sorted({f.TLS_VERSION_ORDER.index(v) for v in versions})
    if indexes != list(range(indexes[0], indexes[-1] + 1)):
        raise f.unsupported("listener.tls_versions_noncontiguous", f"{field}.tls_versions")
    alpn = [
        filters.one_of(p, f"{field}.alpn_protocols", ALPN_PROTOCOLS)
        for p in listener.alpn_protocols
    ]
    hsts = None
    if listener.HasField("hsts_max_age"):
        hsts = {
            "max_age": filters.int_range(
                listener.hsts_max_age, f"{field}.hsts_max_age", 0, MAX_HSTS_AGE
            ),
            "include_subdomains": listener.hsts_include_subdomains,
            "preload": listener.hsts_preload,
        }
    return {
        "default_file": _cert_file(default, certs),
        "sni": sni,
        "protocols": [f.TLS_VERSION_ORDER[i] for i in indexes],
        **_ciphers(listener.tls_ciphers, f"{field}.tls_ciphers", version),
        # nginx 1.x offers h2 by ALPN only with http2 on, and always offers http/1.1.
        "http2": "h2" in alpn,
        "hsts": hsts,
    }


def _upstream(pool: graph_pb2.Pool) -> dict[str, Any]:
    pid = pool.meta.id
    field = f"pool.{pid}"
    protocol = filters.one_of(pool.protocol, f"{field}.protocol", f.OCTAVIA_POOL_PROTOCOLS)
    if protocol not in f.POOL_PROTOCOLS:
        raise f.unsupported(f"pool.protocol.{protocol}", f"{field}.protocol")
    if pool.tls_enabled:
        raise f.unsupported("pool.tls_enabled", f"{field}.tls_enabled")
    algorithm = filters.one_of(pool.lb_algorithm, f"{field}.lb_algorithm", f.OCTAVIA_LB_ALGORITHMS)
    if algorithm not in f.LB_ALGORITHMS:
        raise f.unsupported(f"pool.lb_algorithm.{algorithm}", f"{field}.lb_algorithm")
    if pool.HasField("healthmonitor") and pool.healthmonitor.type:
        kind = filters.one_of(
            pool.healthmonitor.type, f"{field}.healthmonitor.type", monitors.OCTAVIA_MONITOR_TYPES
        )
        raise f.unsupported(
            f"healthmonitor.type.{kind}",
            f"{field}.healthmonitor.type",
            "open-source nginx has no active health checks",
        )
    balance = f.LB_ALGORITHMS[algorithm]
    sp = pool.session_persistence
    if sp.type:
        kind = filters.one_of(
            sp.type, f"{field}.session_persistence.type", f.OCTAVIA_PERSISTENCE_TYPES
        )
        if kind not in f.PERSISTENCE_TYPES:
            raise f.unsupported(
                f"pool.session_persistence.{kind}", f"{field}.session_persistence.type"
            )
        balance = "source"  # SOURCE_IP persistence: the client address picks the member
    servers = [_server(member, field) for member in sorted(pool.members, key=lambda m: m.meta.id)]
    if balance == "source" and any(s["backup"] for s in servers):
        raise f.unsupported(
            "member.backup",
            f"{field}.members",
            "nginx cannot combine backup members with SOURCE_IP balancing or persistence",
        )
    return {
        "id": pid,
        "balance": balance,
        "servers": servers,
    }


def _server(member: graph_pb2.Member, pool_field: str) -> dict[str, Any]:
    mid = filters.uuid_id(member.meta.id, f"{pool_field}.member.id")
    field = f"member.{mid}"
    if member.monitor_address or member.HasField("monitor_port"):
        raise f.unsupported("member.monitor_address", f"{field}.monitor_address")
    weight = filters.int_range(member.weight, f"{field}.weight", 0, 256)
    up = member.meta.admin_state_up
    return {
        "id": mid,
        "address": filters.ip_address(member.address, f"{field}.address"),
        "port": filters.int_range(member.protocol_port, f"{field}.protocol_port", 1, 65535),
        # nginx has no weight 0: a draining member (Octavia's weight 0) takes no new requests.
        "weight": max(weight, 1),
        "backup": member.backup,
        "down": not up or weight == 0,
        # What the agent reports for the member (no active checks): admin-down members are
        # left to the health service (OFFLINE from the graph).
        "report": None if not up else ("drain" if weight == 0 else "nocheck"),
    }
