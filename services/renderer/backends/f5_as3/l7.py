"""Octavia L7 policies as one AS3 Endpoint_Policy per listener (first-match, Octavia's order)."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.f5_as3 import features as f
from services.renderer.backends.f5_as3 import names
from services.renderer.domain import filters, l7

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
    applied = l7.applied_policies(
        listener.l7policies,
        field,
        pools,
        lambda rule, rid: _condition(rule, f"l7rule.{rid}"),
        _check_pool,
        actions=f.L7_ACTIONS,
        rule_ids_first=True,
        codes_of_redirects_only=True,
    )
    rules = [_rule(policy) for policy in l7.evaluation_order(applied)]
    targets = [p.pool_id for p in applied if p.pool_id is not None]
    if not rules:
        return None, targets
    return {"class": "Endpoint_Policy", "strategy": "first-match", "rules": rules}, targets


def _check_pool(pool_id: str, pool: graph_pb2.Pool, pfield: str) -> None:
    if pool.protocol not in f.HTTP_POOL_PROTOCOLS:
        raise InvalidInput(
            f"pool {pool_id} (protocol {pool.protocol}) cannot be the target of an L7 policy",
            field=f"{pfield}.redirect_pool_id",
        )


def _rule(policy: l7.Policy[dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": names.of("l7policy", policy.id, f"{policy.field}.id"),
        "conditions": policy.rules,
        "actions": [_action(policy)],
    }
    return names.described(entry, policy.name, policy.description)


def _action(policy: l7.Policy[dict[str, Any]]) -> dict[str, Any]:
    if policy.action == "REJECT":
        return {"type": "drop", "event": "request"}
    if policy.pool_id is not None:
        pool = names.of("pool", policy.pool_id, f"{policy.field}.redirect_pool_id")
        return {"type": "forward", "event": "request", "select": {"pool": {"use": pool}}}
    # Locations are written as Tcl ("tcl:"), the user's URL as a literal word inside it, so the
    # BIG-IP substitutes nothing of it whichever way it reads the field; a prefix redirect adds
    # the BIG-IP's own [HTTP::uri] (the request's path and query).
    if policy.location is not None:
        location = _TCL_PREFIX + tcl_literal(policy.location)
    else:
        location = _TCL_PREFIX + tcl_literal((policy.prefix or "").rstrip("/")) + "[HTTP::uri]"
    return {"type": "httpRedirect", "event": "request", "location": location, "code": policy.code}


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
