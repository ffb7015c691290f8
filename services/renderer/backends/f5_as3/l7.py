"""Octavia L7 policies as one AS3 Endpoint_Policy per listener (first-match, Octavia's order)."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.f5_as3 import features as f
from services.renderer.backends.f5_as3 import names
from services.renderer.domain import filters

# BIG-IP evaluates a value starting with "tcl:" as a Tcl expression in some policy fields;
# user values never may.
_TCL_PREFIX = "tcl:"
# Inside a Tcl word these start a substitution; a backslash disarms each.
_TCL_SPECIAL = {
    "\\": "\\\\",
    "$": "\\$",
    "[": "\\[",
    "]": "\\]",
    '"': '\\"',
    "{": "\\{",
    "}": "\\}",
}


def tcl_literal(text: str) -> str:
    """text as a Tcl word that substitutes nothing."""
    return "".join(_TCL_SPECIAL.get(ch, ch) for ch in text)


def endpoint_policy(
    listener: graph_pb2.Listener, field: str, pools: dict[str, graph_pb2.Pool]
) -> tuple[dict[str, Any] | None, list[str]]:
    """The listener's Endpoint_Policy (None without applicable policies) and the ids of the pools
    its rules forward to."""
    rejects: list[dict[str, Any]] = []
    redirects: list[dict[str, Any]] = []
    forwards: list[dict[str, Any]] = []
    targets: list[str] = []
    seen: set[str] = set()
    for policy in sorted(listener.l7policies, key=lambda p: (p.position, p.meta.id)):
        pid = filters.uuid_id(policy.meta.id, f"{field}.l7policy.id")
        pfield = f"l7policy.{pid}"
        if pid in seen:
            raise InvalidInput(f"L7 policy {pid} appears twice", field=f"{pfield}.id")
        seen.add(pid)
        action = filters.one_of(policy.action, f"{pfield}.action", f.L7_ACTIONS)
        conditions = []
        for rule in sorted(policy.rules, key=lambda r: r.meta.id):
            rid = filters.uuid_id(rule.meta.id, f"{pfield}.rule.id")
            if rid in seen:
                raise InvalidInput(f"L7 rule {rid} appears twice", field=f"{pfield}.rules")
            seen.add(rid)
            condition = _condition(rule, f"l7rule.{rid}")
            if rule.meta.admin_state_up:
                conditions.append(condition)
        entry: dict[str, Any] = {
            "name": names.of("l7policy", pid, f"{pfield}.id"),
            "conditions": conditions,
            "actions": [_action(policy, action, pfield, pools)],
        }
        names.described(entry, policy.meta.name, policy.meta.description)
        if action == "REDIRECT_TO_POOL":
            pool_id = policy.redirect_pool_id
            if not pools[pool_id].meta.admin_state_up:
                continue  # Octavia: a disabled pool is never chosen by a policy
        if not policy.meta.admin_state_up or not conditions:
            continue
        if action == "REDIRECT_TO_POOL":
            targets.append(policy.redirect_pool_id)
        {"REJECT": rejects, "REDIRECT_TO_POOL": forwards}.get(action, redirects).append(entry)
    rules = rejects + redirects + forwards
    if not rules:
        return None, targets
    return {"class": "Endpoint_Policy", "strategy": "first-match", "rules": rules}, targets


def _action(
    policy: graph_pb2.L7Policy, action: str, pfield: str, pools: dict[str, graph_pb2.Pool]
) -> dict[str, Any]:
    if action == "REJECT":
        return {"type": "drop", "event": "request"}
    if action == "REDIRECT_TO_POOL":
        pool_id = filters.uuid_id(policy.redirect_pool_id, f"{pfield}.redirect_pool_id")
        if pool_id not in pools:
            raise InvalidInput(
                f"L7 policy {policy.meta.id} redirects to pool {pool_id}, which is not in the "
                "graph",
                field=f"{pfield}.redirect_pool_id",
            )
        if pools[pool_id].protocol not in f.HTTP_POOL_PROTOCOLS:
            raise InvalidInput(
                f"pool {pool_id} (protocol {pools[pool_id].protocol}) cannot be the target of "
                "an L7 policy",
                field=f"{pfield}.redirect_pool_id",
            )
        return {
            "type": "forward",
            "event": "request",
            "select": {"pool": {"use": names.of("pool", pool_id, f"{pfield}.redirect_pool_id")}},
        }
    code = 302
    if policy.HasField("redirect_http_code"):
        code = policy.redirect_http_code
        if code not in f.REDIRECT_CODES:
            raise InvalidInput(
                f"{pfield}.redirect_http_code must be one of 301, 302, 303, 307, 308",
                field=f"{pfield}.redirect_http_code",
            )
    # Locations are written as Tcl ("tcl:"), the user's URL as a literal word inside it, so the
    # BIG-IP substitutes nothing of it whichever way it reads the field; a prefix redirect adds
    # the BIG-IP's own [HTTP::uri] (the request's path and query).
    if action == "REDIRECT_TO_URL":
        url = filters.redirect_url(policy.redirect_url, f"{pfield}.redirect_url")
        location = _TCL_PREFIX + tcl_literal(url)
    else:
        prefix = filters.redirect_url(policy.redirect_prefix, f"{pfield}.redirect_prefix")
        location = _TCL_PREFIX + tcl_literal(prefix.rstrip("/")) + "[HTTP::uri]"
    return {"type": "httpRedirect", "event": "request", "location": location, "code": code}


def _condition(rule: graph_pb2.L7Rule, field: str) -> dict[str, Any]:
    kind = filters.one_of(rule.type, f"{field}.type", f.OCTAVIA_L7_RULE_TYPES)
    if kind not in f.L7_RULE_TYPES:
        raise f.unsupported(f"l7rule.type.{kind}", f"{field}.type")
    compare = filters.one_of(rule.compare_type, f"{field}.compare_type", f.OCTAVIA_L7_COMPARE_TYPES)
    if compare not in f.L7_COMPARE_TYPES:
        raise f.unsupported(f"l7rule.compare_type.{compare}", f"{field}.compare_type")
    value = filters.match_pattern(rule.value, f"{field}.value")
    if value.lower().startswith(_TCL_PREFIX):
        raise InvalidInput(f"{field}.value must not start with 'tcl:'", field=f"{field}.value")
    operand = f.L7_COMPARE_TYPES[compare][1 if rule.invert else 0]
    # Host names compare case-insensitively, paths, headers and cookies exactly (as haproxy).
    match: dict[str, Any] = {"operand": operand, "values": [value]}
    if kind != "HOST_NAME":
        match["caseSensitive"] = True
    if kind == "HOST_NAME":
        return {"type": "httpHost", "event": "request", "host": match}
    if kind == "PATH":
        return {"type": "httpUri", "event": "request", "path": match}
    if kind == "FILE_TYPE":
        if compare != "EQUAL_TO":
            raise InvalidInput(
                f"{field}.compare_type must be REGEX or EQUAL_TO for FILE_TYPE rules",
                field=f"{field}.compare_type",
            )
        return {"type": "httpUri", "event": "request", "extension": match}
    key = filters.http_name(rule.key, f"{field}.key")
    kind_name = "httpHeader" if kind == "HEADER" else "httpCookie"
    return {"type": kind_name, "event": "request", "name": key, "all": match}
