"""L7 policies for nginx: each rule becomes a `map` to "1"/"0", and one map per listener picks
the first matching policy in Octavia's order of evaluation (services.renderer.domain.l7 walks
and checks the policies).

The listener's map source is the rule results of every applied policy, each policy's results followed by ':';
policy i matches when its segment is all ones, and nginx tries regex keys in order, so the first
listed matching policy wins.
"""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2

from services.common.errors import InvalidInput
from services.renderer.backends.nginx import features as f
from services.renderer.domain import filters, l7

# Octavia's rule types -> the nginx variable they are matched against. PATH and FILE_TYPE use
# $uri: percent-decoded, dot segments resolved, without the query string (so an encoded path
# cannot slip past a rule that the decoded path would match). HOST_NAME uses $host: the Host
# header without its port, lower case.
_SOURCES = {"HOST_NAME": "host", "PATH": "uri", "FILE_TYPE": "uri"}


def key(resource_id: str) -> str:
    """The id as an nginx variable suffix: variables cannot hold '-'."""
    return resource_id.replace("-", "")


def literal(text: str) -> str:
    """A PCRE pattern matching text literally: every non-word character escaped."""
    return "".join(c if c.isalnum() or c == "_" else "\\" + c for c in text)


def policies(
    listener: graph_pb2.Listener,
    field: str,
    protocol: str,
    usable_pools: dict[str, graph_pb2.Pool],
    all_pools: dict[str, graph_pb2.Pool],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rules, policies) of the listener, policies in evaluation order."""
    if not listener.l7policies:
        return [], []
    if f.LISTENER_PROTOCOLS[protocol] != "http":
        raise InvalidInput(
            f"L7 policies need an HTTP or TERMINATED_HTTPS listener, not {protocol}",
            field=f"{field}.l7policies",
        )
    applied = l7.applied_policies(
        listener.l7policies,
        field,
        all_pools,
        _rule,
        lambda pool_id, pool, pfield: _check_pool(pool_id, pool, pfield, field),
        actions=f.L7_ACTIONS,
    )
    rules = [rule for policy in applied for rule in policy.rules]
    ordered = [{**l7.entry(p), "rules": p.rules} for p in l7.evaluation_order(applied)]
    for index, entry in enumerate(ordered):
        entry["pattern"] = "~^" + (f"(?:[01]+:){{{index}}}" if index else "") + "1+:"
        if entry["action"] == "REDIRECT_TO_POOL":
            # A pool without a usable member is the empty target: nginx answers 503.
            entry["target"] = _pool_target(entry["pool"], usable_pools)
        else:
            entry["target"] = f"action-{index}"
    return rules, ordered


def _check_pool(pool_id: str, pool: graph_pb2.Pool, pfield: str, field: str) -> None:
    if pool.protocol in f.HTTP_POOL_PROTOCOLS:
        return
    if pool.protocol == "PROXY":
        raise f.unsupported(
            "pool.protocol.PROXY",
            f"{pfield}.redirect_pool_id",
            "nginx cannot send a PROXY header from an HTTP listener",
        )
    raise InvalidInput(
        f"pool {pool_id} (protocol {pool.protocol}) cannot be the "
        f"target of an L7 policy of listener {field.split('.', 1)[1]}",
        field=f"{pfield}.redirect_pool_id",
    )


def _pool_target(pool_id: str, usable_pools: dict[str, graph_pb2.Pool]) -> str:
    return f"pool-{pool_id}" if pool_id in usable_pools else "none"


def _rule(rule: graph_pb2.L7Rule, rid: str) -> dict[str, Any]:
    field = f"l7rule.{rid}"
    kind = filters.one_of(rule.type, f"{field}.type", f.OCTAVIA_L7_RULE_TYPES)
    if kind not in f.L7_RULE_TYPES:
        raise f.unsupported(f"l7rule.type.{kind}", f"{field}.type")
    compare = filters.one_of(rule.compare_type, f"{field}.compare_type", f.L7_COMPARE_TYPES)
    if kind == "HEADER":
        name = filters.http_name(rule.key, f"{field}.key")
        if "_" in name or "." in name:
            # nginx names header variables by lower-casing and turning '-' into '_': a name
            # with '_' or '.' cannot be told apart from (or reached as) a variable.
            raise InvalidInput(
                f"{field}.key: nginx matches header names of letters, digits and '-' only",
                field=f"{field}.key",
            )
        source = filters.variable_name("http_" + name.lower().replace("-", "_"), f"{field}.key")
    elif kind == "COOKIE":
        name = filters.http_name(rule.key, f"{field}.key")
        source = filters.variable_name("cookie_" + name, f"{field}.key")
    else:
        source = _SOURCES[kind]
    if compare == "REGEX":
        pattern = filters.regex(rule.value, f"{field}.value")
    else:
        value = literal(filters.match_pattern(rule.value, f"{field}.value"))
        pattern = {
            "EQUAL_TO": f"^{value}$",
            "STARTS_WITH": f"^{value}",
            "ENDS_WITH": f"{value}$",
            "CONTAINS": value,
        }[compare]
    if kind == "FILE_TYPE":
        if compare not in ("REGEX", "EQUAL_TO"):
            raise InvalidInput(
                f"{field}.compare_type must be REGEX or EQUAL_TO for FILE_TYPE rules",
                field=f"{field}.compare_type",
            )
        if compare == "EQUAL_TO":
            # The file type "jpg" matches paths ending in ".jpg".
            pattern = "\\." + literal(rule.value) + "$"
    return {
        "id": rid,
        "key": key(rid),
        "source": source,
        # HOST_NAME compares case-insensitively, as haproxy's "-i" does for Octavia.
        "pattern": ("~*" if kind == "HOST_NAME" else "~") + pattern,
        "invert": rule.invert,
    }
