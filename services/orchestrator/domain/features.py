"""Which renderer features a create or update needs: the one mapping from graph fields to the
feature names renderers advertise in Describe (lbaas.renderer.v1 DescribeResponse
.supported_features) and name in their FAILED_PRECONDITION errors.

A feature name is dotted, most general first ("listener.protocol.TERMINATED_HTTPS",
"listener.insert_headers.X-Forwarded-For", "pool.tls_enabled"). A renderer supports a needed
feature when it advertises the name itself or any dotted prefix of it ("listener.insert_headers"
covers every header). Only what an object actually uses is needed: a protocol, algorithm, type
or action always; an option only when it is set to something other than its default.

Plain Python over the contract messages; `paths` (an update mask, relative to the message)
limits an update to the fields it changes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from services.orchestrator.domain import rules


@dataclass(frozen=True)
class Need:
    feature: str
    field: str


def _changed(paths: Collection[str] | None, name: str) -> bool:
    if paths is None:
        return True
    return any(p == name or p.startswith(f"{name}.") for p in paths)


def _at(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


# Features named after the value of an option list. A value outside the list needs no feature:
# the rules refuse it (a 400 naming the field), and that answer comes before any 501.
_OPTIONS: dict[str, tuple[str, ...]] = {
    "listener.protocol": rules.LISTENER_PROTOCOLS,
    "pool.protocol": rules.POOL_PROTOCOLS,
    "pool.lb_algorithm": rules.LB_ALGORITHMS,
    "pool.session_persistence": rules.SESSION_PERSISTENCE_TYPES,
    "healthmonitor.type": rules.HEALTH_MONITOR_TYPES,
    "l7policy.action": rules.L7POLICY_ACTIONS,
    "l7rule.type": rules.L7RULE_TYPES,
    "l7rule.compare_type": rules.L7RULE_COMPARE_TYPES,
}


def _option(name: str, value: str, field: str) -> Iterator[Need]:
    if value in _OPTIONS[name]:
        yield Need(f"{name}.{value}", field)


def listener(msg: Any, paths: Collection[str] | None = None, at: str = "") -> Iterator[Need]:
    if _changed(paths, "protocol") and msg.protocol:
        yield from _option("listener.protocol", msg.protocol, _at(at, "protocol"))
    if _changed(paths, "client_authentication") and msg.client_authentication not in (
        "",
        "NONE",
    ):
        yield Need("listener.client_authentication", _at(at, "client_authentication"))
    if _changed(paths, "insert_headers"):
        for header, value in sorted(msg.insert_headers.items()):
            # An unknown header needs nothing: the rules refuse it (a 400 before any 501).
            if header in rules.INSERT_HEADERS and str(value).lower() not in ("false", "0", ""):
                yield Need(f"listener.insert_headers.{header}", _at(at, "insert_headers"))
    if _changed(paths, "allowed_cidrs") and len(msg.allowed_cidrs):
        yield Need("listener.allowed_cidrs", _at(at, "allowed_cidrs"))
    if _changed(paths, "sni_container_refs") and len(msg.sni_container_refs):
        yield Need("listener.sni", _at(at, "sni_container_refs"))
    if _changed(paths, "client_crl_container_ref") and msg.client_crl_container_ref:
        yield Need("listener.client_crl", _at(at, "client_crl_container_ref"))
    yield from _tls_options(msg, paths, at, "listener")
    if _changed(paths, "hsts_max_age") and msg.HasField("hsts_max_age"):
        yield Need("listener.hsts", _at(at, "hsts_max_age"))
    if paths is None:
        for policy in msg.l7policies:
            yield from l7policy(policy, None, _at(at, "l7policies."))


def l7policy(msg: Any, paths: Collection[str] | None = None, at: str = "") -> Iterator[Need]:
    if _changed(paths, "action") and msg.action:
        yield from _option("l7policy.action", msg.action, _at(at, "action"))
    if paths is None:
        for rule in msg.rules:
            yield from l7rule(rule, None, _at(at, "rules."))


def l7rule(msg: Any, paths: Collection[str] | None = None, at: str = "") -> Iterator[Need]:
    if _changed(paths, "type") and msg.type:
        yield from _option("l7rule.type", msg.type, _at(at, "type"))
    if _changed(paths, "compare_type") and msg.compare_type:
        yield from _option("l7rule.compare_type", msg.compare_type, _at(at, "compare_type"))
    if _changed(paths, "invert") and msg.invert:
        yield Need("l7rule.invert", _at(at, "invert"))
    if (_changed(paths, "key") or _changed(paths, "type")) and _punctuated(msg.type, msg.key):
        yield Need("l7rule.key_punctuation", _at(at, "key"))


# Key characters that reach a header or cookie only by name: nginx reaches them through
# variables ($http_x_key, $cookie_c), which cannot tell '_' from '-' or hold '.'.
_PUNCTUATION = {"HEADER": "_.", "COOKIE": ".-"}


def _punctuated(rule_type: str, key: str) -> bool:
    """A HEADER or COOKIE key that only a renderer matching names literally can reach."""
    marks = _PUNCTUATION.get(rule_type, "")
    return bool(key) and any(mark in key for mark in marks)


def pool(msg: Any, paths: Collection[str] | None = None, at: str = "") -> Iterator[Need]:
    if _changed(paths, "protocol") and msg.protocol:
        yield from _option("pool.protocol", msg.protocol, _at(at, "protocol"))
    if _changed(paths, "lb_algorithm") and msg.lb_algorithm:
        yield from _option("pool.lb_algorithm", msg.lb_algorithm, _at(at, "lb_algorithm"))
    if _changed(paths, "tls_enabled") and msg.tls_enabled:
        yield Need("pool.tls_enabled", _at(at, "tls_enabled"))
    if _changed(paths, "tls_container_ref") and msg.tls_container_ref:
        yield Need("pool.tls_client_certificate", _at(at, "tls_container_ref"))
    if _changed(paths, "ca_tls_container_ref") and msg.ca_tls_container_ref:
        yield Need("pool.tls_verify", _at(at, "ca_tls_container_ref"))
    if _changed(paths, "crl_container_ref") and msg.crl_container_ref:
        yield Need("pool.tls_crl", _at(at, "crl_container_ref"))
    yield from _tls_options(msg, paths, at, "pool")
    if _changed(paths, "session_persistence") and msg.session_persistence.type:
        yield from _option(
            "pool.session_persistence",
            msg.session_persistence.type,
            _at(at, "session_persistence.type"),
        )
    if paths is None:
        for child in msg.members:
            yield from member(child, None, _at(at, "members."))
        if msg.HasField("healthmonitor") and msg.healthmonitor.type:
            yield from healthmonitor(msg.healthmonitor, None, _at(at, "healthmonitor."))


def _tls_options(msg: Any, paths: Collection[str] | None, at: str, kind: str) -> Iterator[Need]:
    """tls_versions, tls_ciphers and alpn_protocols of a listener or pool. SSLv3 and a set of
    versions with a hole are features of their own: appliances that enable one contiguous range
    of versions (haproxy) cannot honour a hole."""
    if _changed(paths, "tls_versions") and len(msg.tls_versions):
        yield Need(f"{kind}.tls_versions", _at(at, "tls_versions"))
        if "SSLv3" in msg.tls_versions:
            yield Need(f"{kind}.tls_versions_sslv3", _at(at, "tls_versions"))
        known = sorted({rules.TLS_VERSIONS.index(v) for v in msg.tls_versions
                        if v in rules.TLS_VERSIONS})  # fmt: skip
        if known and known != list(range(known[0], known[-1] + 1)):
            yield Need(f"{kind}.tls_versions_noncontiguous", _at(at, "tls_versions"))
    if _changed(paths, "tls_ciphers") and msg.tls_ciphers:
        yield Need(f"{kind}.tls_ciphers", _at(at, "tls_ciphers"))
    if _changed(paths, "alpn_protocols") and len(msg.alpn_protocols):
        yield Need(f"{kind}.alpn_protocols", _at(at, "alpn_protocols"))


def member(msg: Any, paths: Collection[str] | None = None, at: str = "") -> Iterator[Need]:
    if _changed(paths, "backup") and msg.backup:
        yield Need("member.backup", _at(at, "backup"))
    monitor = (_changed(paths, "monitor_address") and msg.monitor_address) or (
        _changed(paths, "monitor_port") and msg.HasField("monitor_port")
    )
    if monitor:
        yield Need("member.monitor_address", _at(at, "monitor_address"))


def healthmonitor(msg: Any, paths: Collection[str] | None = None, at: str = "") -> Iterator[Need]:
    if _changed(paths, "type") and msg.type:
        yield from _option("healthmonitor.type", msg.type, _at(at, "type"))
    if _changed(paths, "http_version") and msg.http_version:
        yield Need("healthmonitor.http_version", _at(at, "http_version"))
    if _changed(paths, "domain_name") and msg.domain_name:
        yield Need("healthmonitor.domain_name", _at(at, "domain_name"))


def loadbalancer(msg: Any, paths: Collection[str] | None = None, at: str = "") -> Iterator[Need]:
    """A load balancer's own fields need nothing; a fully populated create needs its children's."""
    if paths is None:
        for child in msg.listeners:
            yield from listener(child, None, _at(at, "listeners."))
        for child in msg.pools:
            yield from pool(child, None, _at(at, "pools."))


def deployment(log_protocol: str, has_log_targets: bool) -> Iterator[Need]:
    """What the operator's settings need of every load balancer, whatever the change: log
    offload over TCP (nginx sends syslog over UDP only). The field names what a tenant can
    change: a flavor of another backend."""
    if has_log_targets and log_protocol == "tcp":
        yield Need("log_offload.tcp", "flavor_id")


def supports(supported: Collection[str], feature: str) -> bool:
    """The feature or one of its dotted prefixes is advertised."""
    parts = feature.split(".")
    return any(".".join(parts[:n]) in supported for n in range(len(parts), 0, -1))


def missing(supported: Collection[str], needs: Iterable[Need]) -> Need | None:
    """The first need the renderer does not advertise, or None."""
    for need in needs:
        if not supports(supported, need.feature):
            return need
    return None
