"""Octavia's L7 policy walk, the same for every backend; each backend renders the rules and says
which pools an L7 policy may send to.

Policies are taken by position; a policy or rule id seen twice is refused; disabled rules are left
out, and a disabled policy, a policy without an enabled rule and a policy sending to a disabled
pool are never applied. Octavia evaluates REJECT policies first, then REDIRECT_TO_URL and
REDIRECT_PREFIX, then REDIRECT_TO_POOL, each group by position (`evaluation_order`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lbaas.common.v1 import graph_pb2

from services.common.errors import InvalidInput
from services.renderer.domain import filters

ACTIONS = frozenset({"REJECT", "REDIRECT_TO_URL", "REDIRECT_PREFIX", "REDIRECT_TO_POOL"})
REDIRECTS = frozenset({"REDIRECT_TO_URL", "REDIRECT_PREFIX"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
DEFAULT_REDIRECT_CODE = 302

Rule = TypeVar("Rule")


@dataclass(frozen=True)
class Policy(Generic[Rule]):
    """One applied policy, checked; `field` ("l7policy.<id>") starts every error about it."""

    id: str
    field: str
    action: str
    name: str
    description: str
    # The enabled rules, as the backend's rule check made them, by rule id.
    rules: list[Rule]
    # Redirects only: the HTTP status (302 unless set) and the location or the prefix.
    code: int | None = None
    location: str | None = None
    prefix: str | None = None
    # REDIRECT_TO_POOL only.
    pool_id: str | None = None


def applied_policies(
    policies: Iterable[graph_pb2.L7Policy],
    field: str,
    pools: Mapping[str, graph_pb2.Pool],
    check_rule: Callable[[graph_pb2.L7Rule, str], Rule],
    check_pool: Callable[[str, graph_pb2.Pool, str], None],
    *,
    actions: Collection[str] = ACTIONS,
    rule_ids_first: bool = False,
    codes_of_redirects_only: bool = False,
) -> list[Policy[Rule]]:
    """The listener's applied policies, by position, every policy (applied or not) checked.

    `field` is the listener's ("listener.<id>"). `check_rule(rule, rule_id)` checks and renders
    one rule; `check_pool(pool_id, pool, policy_field)` refuses a pool in the graph that this
    backend cannot send an L7 policy to. By default a rule's content is checked before its id is
    looked up among those seen, and redirect_http_code is checked on every action;
    `rule_ids_first` and `codes_of_redirects_only` keep the order and leniency the f5-as3
    renderer has always had.
    """
    applied: list[Policy[Rule]] = []
    seen: set[str] = set()
    for policy in sorted(policies, key=lambda p: (p.position, p.meta.id)):
        pid = filters.uuid_id(policy.meta.id, f"{field}.l7policy.id")
        pfield = f"l7policy.{pid}"
        if pid in seen:
            raise InvalidInput(f"L7 policy {pid} appears twice", field=f"{pfield}.id")
        seen.add(pid)
        action = filters.one_of(policy.action, f"{pfield}.action", actions)
        rules = []
        for rule in sorted(policy.rules, key=lambda r: r.meta.id):
            rid = filters.uuid_id(rule.meta.id, f"{pfield}.rule.id")
            if rule_ids_first:
                _first_sight(seen, rid, pfield)
                checked = check_rule(rule, rid)
            else:
                checked = check_rule(rule, rid)
                _first_sight(seen, rid, pfield)
            if rule.meta.admin_state_up:
                rules.append(checked)
        code = None
        if action in REDIRECTS or not codes_of_redirects_only:
            code = _redirect_code(policy, pfield)
        target: dict[str, Any] = {}
        if action == "REDIRECT_TO_URL":
            location = filters.redirect_url(policy.redirect_url, f"{pfield}.redirect_url")
            target = {"code": code, "location": location}
        elif action == "REDIRECT_PREFIX":
            prefix = filters.redirect_url(policy.redirect_prefix, f"{pfield}.redirect_prefix")
            target = {"code": code, "prefix": prefix}
        elif action == "REDIRECT_TO_POOL":
            pool_id = filters.uuid_id(policy.redirect_pool_id, f"{pfield}.redirect_pool_id")
            if pool_id not in pools:
                raise InvalidInput(
                    f"L7 policy {pid} redirects to pool {pool_id}, which is not in the graph",
                    field=f"{pfield}.redirect_pool_id",
                )
            check_pool(pool_id, pools[pool_id], pfield)
            if not pools[pool_id].meta.admin_state_up:
                continue  # Octavia: a disabled pool is never chosen by a policy
            target = {"pool_id": pool_id}
        if not policy.meta.admin_state_up or not rules:
            continue
        applied.append(
            Policy(pid, pfield, action, policy.meta.name, policy.meta.description, rules, **target)
        )
    return applied


def entry(policy: Policy[Any]) -> dict[str, Any]:
    """The policy as template data: id, action and what the action needs ("location" or
    "prefix" with "code", or "pool"); the backend adds its rules."""
    data: dict[str, Any] = {"id": policy.id, "action": policy.action}
    if policy.action == "REDIRECT_TO_URL":
        data.update(location=policy.location, code=policy.code)
    elif policy.action == "REDIRECT_PREFIX":
        data.update(prefix=policy.prefix, code=policy.code)
    elif policy.action == "REDIRECT_TO_POOL":
        data["pool"] = policy.pool_id
    return data


def _first_sight(seen: set[str], rid: str, pfield: str) -> None:
    if rid in seen:
        raise InvalidInput(f"L7 rule {rid} appears twice", field=f"{pfield}.rules")
    seen.add(rid)


def _redirect_code(policy: graph_pb2.L7Policy, pfield: str) -> int:
    if not policy.HasField("redirect_http_code"):
        return DEFAULT_REDIRECT_CODE
    if policy.redirect_http_code not in REDIRECT_CODES:
        raise InvalidInput(
            f"{pfield}.redirect_http_code must be one of 301, 302, 303, 307, 308",
            field=f"{pfield}.redirect_http_code",
        )
    return policy.redirect_http_code


def evaluation_order(policies: Iterable[Policy[Rule]]) -> list[Policy[Rule]]:
    """Octavia's order: REJECT, then the redirects, then REDIRECT_TO_POOL, each by position."""
    group = {"REJECT": 0, "REDIRECT_TO_POOL": 2}
    return sorted(policies, key=lambda p: group.get(p.action, 1))
