"""AS3 Pool, Monitor and Persist objects for the graph's pools."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.f5_as3 import features as f
from services.renderer.backends.f5_as3 import names
from services.renderer.domain import filters, monitors

# AS3 limits (Monitor_HTTP interval/timeout/timeUntilUp, Pool_Member ratio, Persist duration).
MAX_INTERVAL = 3600
MAX_MONITOR_TIMEOUT = 900
MAX_TIME_UNTIL_UP = 1800
MAX_RATIO = 100
MAX_PERSIST_SECONDS = 604800
MAX_COOKIE_NAME = 64
# Priority groups: members in the higher group take traffic while at least one of them is up.
PRIMARY_GROUP = 1
BACKUP_GROUP = 0


def pool(p: graph_pb2.Pool) -> dict[str, dict[str, Any]]:
    """The pool and its monitor, keyed by AS3 name."""
    name = names.of("pool", p.meta.id, "pool.id")
    field = f"pool.{p.meta.id}"
    protocol = filters.one_of(p.protocol, f"{field}.protocol", f.OCTAVIA_POOL_PROTOCOLS)
    if protocol not in f.POOL_PROTOCOLS:
        raise f.unsupported(f"pool.protocol.{protocol}", f"{field}.protocol")
    if p.tls_enabled:
        raise f.unsupported("pool.tls_enabled", f"{field}.tls_enabled")
    algorithm = filters.one_of(p.lb_algorithm, f"{field}.lb_algorithm", f.OCTAVIA_LB_ALGORITHMS)
    if algorithm not in f.LB_ALGORITHMS:
        raise f.unsupported(f"pool.lb_algorithm.{algorithm}", f"{field}.lb_algorithm")
    objects: dict[str, dict[str, Any]] = {}
    body: dict[str, Any] = {
        "class": "Pool",
        "loadBalancingMode": f.LB_ALGORITHMS[algorithm],
        "members": _members(p, field),
        "monitors": [],
    }
    names.described(body, p.meta.name, p.meta.description)
    monitor = _monitor(p, field)
    if monitor is not None:
        monitor_name = names.of("monitor", p.healthmonitor.meta.id, f"{field}.healthmonitor.id")
        objects[monitor_name] = monitor
        body["monitors"] = [{"use": monitor_name}]
    if any(m.backup for m in p.members):
        body["minimumMembersActive"] = 1
    objects[name] = body
    return objects


def _ratios(members: list[graph_pb2.Member], field: str) -> dict[str, int]:
    """Octavia weights are 0-256, AS3 ratios 1-100: weights above 100 scale the whole pool down
    (keeping proportions as nearly as integers allow); weight 0 is drained, not a ratio."""
    weights = {
        m.meta.id: filters.int_range(m.weight, f"member.{m.meta.id}.weight", 0, 256)
        for m in members
    }
    top = max(weights.values(), default=0)
    if top <= MAX_RATIO:
        return {mid: max(w, 1) for mid, w in weights.items()}
    return {mid: max(1, round(w * MAX_RATIO / top)) for mid, w in weights.items()}


def _members(p: graph_pb2.Pool, field: str) -> list[dict[str, Any]]:
    members = sorted(p.members, key=lambda m: m.meta.id)
    ratios = _ratios(members, field)
    backups = any(m.backup for m in members)
    out = []
    for m in members:
        mid = filters.uuid_id(m.meta.id, f"{field}.member.id")
        mfield = f"member.{mid}"
        if m.monitor_address or m.HasField("monitor_port"):
            raise f.unsupported(
                "member.monitor_address", f"{mfield}.monitor_address",
                "an AS3 pool monitor cannot probe another address per member",
            )  # fmt: skip
        address = filters.ip_address(m.address, f"{mfield}.address")
        entry: dict[str, Any] = {
            "servicePort": filters.int_range(m.protocol_port, f"{mfield}.protocol_port", 1, 65535),
            "serverAddresses": [str(address)],
            "shareNodes": True,
            "ratio": ratios[m.meta.id],
            # offline: no traffic at all (Octavia admin down); disable: only existing and
            # persistent connections (Octavia weight 0, a drain).
            "adminState": "enable",
        }
        if not (m.meta.admin_state_up and p.meta.admin_state_up):
            entry["adminState"] = "offline"
        elif m.weight == 0:
            entry["adminState"] = "disable"
        if backups:
            entry["priorityGroup"] = BACKUP_GROUP if m.backup else PRIMARY_GROUP
        if m.meta.name or m.meta.description:
            entry["remark"] = names.remark(m.meta.description or m.meta.name)
        out.append(entry)
    return out


def _monitor(p: graph_pb2.Pool, pool_field: str) -> dict[str, Any] | None:
    enabled = monitors.enabled_monitor(p, pool_field, f.MONITOR_TYPES, f.unsupported)
    if enabled is None:
        return None
    hm, kind, field = enabled
    delay = filters.int_range(hm.delay, f"{field}.delay", 1, MAX_INTERVAL)
    filters.int_range(hm.timeout, f"{field}.timeout", 1, MAX_MONITOR_TIMEOUT)
    rise = filters.int_range(hm.max_retries, f"{field}.max_retries", 1, 10)
    fall = filters.int_range(hm.max_retries_down or 3, f"{field}.max_retries_down", 1, 10)
    # A BIG-IP monitor marks a member down when no probe succeeded for `timeout` seconds:
    # Octavia's max_retries_down failed probes, plus one second, as F5's own 3*interval+1 rule.
    timeout = delay * fall + 1
    until_up = delay * (rise - 1)
    if timeout > MAX_MONITOR_TIMEOUT or until_up > MAX_TIME_UNTIL_UP:
        raise InvalidInput(
            f"{field}: delay x max_retries_down must stay under {MAX_MONITOR_TIMEOUT} s and "
            f"delay x (max_retries - 1) under {MAX_TIME_UNTIL_UP} s on a BIG-IP",
            field=f"{field}.delay",
        )
    monitor: dict[str, Any] = {
        "class": "Monitor",
        "monitorType": f.MONITOR_TYPES[kind],
        "interval": delay,
        "timeout": timeout,
        "timeUntilUp": until_up,
    }
    names.described(monitor, hm.meta.name, hm.meta.description)
    if kind in ("HTTP", "HTTPS"):
        monitor["send"], monitor["receive"] = _http_probe(hm, field)
    elif kind == "TCP":
        monitor["send"], monitor["receive"] = "", ""
    return monitor


def _http_probe(hm: graph_pb2.HealthMonitor, field: str) -> tuple[str, str]:
    method = filters.one_of(hm.http_method or "GET", f"{field}.http_method", filters.HTTP_METHODS)
    path = filters.url_path(hm.url_path or "/", f"{field}.url_path")
    version = filters.one_of(
        hm.http_version or "1.0", f"{field}.http_version", filters.HTTP_VERSIONS
    )
    # BIG-IP monitor strings carry \r\n as the two-character escapes (the schema's default send
    # string is written that way); the filters refuse backslashes in every piece used here.
    lines = [f"{method} {path} HTTP/{version}"]
    if hm.domain_name:
        lines.append("Host: " + filters.hostname(hm.domain_name, f"{field}.domain_name"))
    if version == "1.1":
        lines.append("Connection: Close")
    send = "\\r\\n".join(lines) + "\\r\\n\\r\\n"
    codes = filters.expected_codes(hm.expected_codes or "200", f"{field}.expected_codes")
    if "-" in codes:
        low, high = (int(c) for c in codes.split("-"))
        listed = [str(c) for c in range(low, high + 1)]
    else:
        listed = codes.split(",")
    # `receive` is a regular expression over the response; the status line starts it.
    return send, "^HTTP/1\\.[01] (" + "|".join(listed) + ")"


def persistence(p: graph_pb2.Pool, http: bool) -> tuple[str, dict[str, Any]] | None:
    """The Persist object a service fronting this pool uses, with its AS3 name, or None."""
    sp = p.session_persistence
    field = f"pool.{p.meta.id}.session_persistence"
    if not sp.type:
        return None
    kind = filters.one_of(sp.type, f"{field}.type", f.OCTAVIA_PERSISTENCE_TYPES)
    if kind not in f.PERSISTENCE_TYPES:
        raise f.unsupported(f"pool.session_persistence.{kind}", f"{field}.type")
    if kind != "SOURCE_IP" and not http:
        raise InvalidInput(
            f"{field}.type {kind} needs an HTTP listener in front of the pool",
            field=f"{field}.type",
        )
    duration = None
    if sp.HasField("persistence_timeout"):
        duration = filters.int_range(
            sp.persistence_timeout, f"{field}.persistence_timeout", 1, MAX_PERSIST_SECONDS
        )
    name = names.of("persist", p.meta.id, "pool.id")
    if kind == "SOURCE_IP":
        body: dict[str, Any] = {"class": "Persist", "persistenceMethod": "source-address"}
        if duration is not None:
            body["duration"] = duration
    elif kind == "HTTP_COOKIE":
        # The BIG-IP inserts its own cookie (Octavia's HTTP_COOKIE); cookie_name is not used.
        body = {"class": "Persist", "persistenceMethod": "cookie", "cookieMethod": "insert"}
        if duration is not None:
            body["ttl"] = duration
    else:
        # APP_COOKIE: stick on a hash of the application's own cookie, no iRule needed.
        if not sp.cookie_name:
            raise InvalidInput(
                f"{field}.cookie_name is required for APP_COOKIE", field=f"{field}.cookie_name"
            )
        cookie = filters.http_name(sp.cookie_name, f"{field}.cookie_name")
        if len(cookie) > MAX_COOKIE_NAME:
            raise InvalidInput(
                f"{field}.cookie_name is longer than {MAX_COOKIE_NAME} characters",
                field=f"{field}.cookie_name",
            )
        body = {
            "class": "Persist",
            "persistenceMethod": "cookie",
            "cookieMethod": "hash",
            "cookieName": cookie,
        }
        if duration is not None:
            body["duration"] = duration
    return name, body
