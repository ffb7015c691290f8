"""L7 policy and rule use cases (Octavia's ordering, action and rule semantics)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput, NotFound, Precondition
from services.orchestrator.adapters.db.models import (
    L7PolicyRow,
    L7RuleRow,
    ListenerRow,
    LoadBalancerRow,
)
from services.orchestrator.domain import rules, status
from services.orchestrator.service_layer import quotas
from services.orchestrator.service_layer.common import (
    Deps,
    Scope,
    accept_change,
    alive,
    apply_changes,
    ensure_mutable,
    get_scoped,
    lock_loadbalancer,
    mark_updated,
    new_id,
)

_REDIRECT_FIELDS = ("redirect_pool_id", "redirect_url", "redirect_prefix")


def _invalid(at: str, problem: rules.Problem | None) -> None:
    if problem is not None:
        field, message = problem
        raise InvalidInput(message, field=f"{at}{field}")


# -- policy validation (pure; shared with the fully populated load balancer create) ----------


def normalize_policy(values: dict[str, Any], at: str = "") -> dict[str, Any]:
    """Octavia's sanitize_l7policy_api_args over a policy's complete values: the fields the
    action does not use are cleared, redirect_http_code defaults to 302 for HTTP redirects."""
    v = dict(values)
    action = v.get("action", "")
    message = rules.not_one_of(action, rules.L7POLICY_ACTIONS)
    if message is not None:
        raise InvalidInput(message, field=f"{at}action")
    code = v.get("redirect_http_code")
    if code is not None and code not in rules.L7_REDIRECT_HTTP_CODES:
        raise InvalidInput(
            str(rules.not_one_of(code, rules.L7_REDIRECT_HTTP_CODES)),
            field=f"{at}redirect_http_code",
        )
    required = rules.L7_ACTION_TARGETS.get(action)
    if required and not v.get(required):
        raise InvalidInput(f"Action {action} requires {required}.", field=f"{at}{required}")
    if required in ("redirect_url", "redirect_prefix"):
        _invalid(at, rules.redirect_url_problem(v[required], required))
    for name in _REDIRECT_FIELDS:
        if name != required:
            v[name] = None if name == "redirect_pool_id" else ""
    if action in rules.L7_HTTP_REDIRECTS:
        v["redirect_http_code"] = code or rules.DEFAULT_REDIRECT_HTTP_CODE
    else:
        v["redirect_http_code"] = None
    return v


def resolve_action(sent: dict[str, Any], *, create: bool, at: str = "") -> dict[str, Any]:
    """The action and redirect fields the sent fields resolve to (rules.l7policy_action)."""
    resolved, problem = rules.l7policy_action(sent, create=create)
    _invalid(at, problem)
    return resolved


def check_policy_target(
    listener_protocol: str,
    values: dict[str, Any],
    pool_protocol: Callable[[str], str | None],
    at: str = "",
) -> None:
    """The listener takes L7 policies and a redirect pool exists on the same load balancer with
    a protocol the listener can forward to. pool_protocol(id) is None for an unknown pool."""
    if listener_protocol not in rules.L7_LISTENER_PROTOCOLS:
        raise InvalidInput(
            f"L7 policies are only supported on HTTP and TERMINATED_HTTPS listeners, "
            f"not {listener_protocol}.",
            field=f"{at}listener_id",
        )
    pool_id = values.get("redirect_pool_id")
    if not pool_id:
        return
    protocol = pool_protocol(pool_id)
    if protocol is None:
        raise InvalidInput(
            f"Pool {pool_id} not found on the listener's load balancer.",
            field=f"{at}redirect_pool_id",
        )
    if not rules.pool_protocol_allowed(listener_protocol, protocol):
        raise InvalidInput(
            f"Listener protocol {listener_protocol} and pool protocol {protocol} "
            "are not compatible.",
            field=f"{at}redirect_pool_id",
        )


def check_position(position: int, at: str = "") -> None:
    if not 0 <= position <= rules.MAX_POLICY_POSITION:
        raise InvalidInput("position must be 1 or more.", field=f"{at}position")


def check_rule(values: dict[str, Any], at: str = "") -> None:
    _invalid(
        at,
        rules.l7rule_problem(
            values.get("type", ""),
            values.get("compare_type", ""),
            values.get("key", ""),
            values.get("value", ""),
        ),
    )


# -- ordering -------------------------------------------------------------------------------


def _ordered(listener: ListenerRow, without: L7PolicyRow | None = None) -> list[L7PolicyRow]:
    return [p for p in listener.l7policies if alive(p) and p is not without]


def place(policies: list[L7PolicyRow], policy: L7PolicyRow, position: int) -> None:
    """Puts policy at 1-based position (0 or past the end: last) and renumbers 1..n, as
    Octavia's ordering list does: inserting shifts the others down."""
    index = len(policies) if position <= 0 else min(position - 1, len(policies))
    policies.insert(index, policy)
    renumber(policies)


def renumber(policies: list[L7PolicyRow]) -> None:
    for number, p in enumerate(policies, start=1):
        p.position = number


# -- policies -------------------------------------------------------------------------------


def _pool_protocol_on(lb: LoadBalancerRow) -> Callable[[str], str | None]:
    def protocol(pool_id: str) -> str | None:
        pool = next((p for p in lb.pools if p.id == pool_id and alive(p)), None)
        return pool.protocol if pool is not None else None

    return protocol


def _policy_values(row: L7PolicyRow) -> dict[str, Any]:
    return {
        "action": row.action,
        "redirect_pool_id": row.redirect_pool_id,
        "redirect_url": row.redirect_url,
        "redirect_prefix": row.redirect_prefix,
        "redirect_http_code": row.redirect_http_code,
    }


def create_policy(
    session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]
) -> L7PolicyRow:
    listener = get_scoped(
        session, ListenerRow, fields["listener_id"], scope, "Listener", "listener_id"
    )
    lb = lock_loadbalancer(session, listener.load_balancer_id, scope)
    ensure_mutable(lb, listener)
    check_position(fields.get("position", 0))
    values = normalize_policy({**fields, **resolve_action(fields, create=True)})
    check_policy_target(listener.protocol, values, _pool_protocol_on(lb))
    nested = values.pop("rules", None) or []
    for i, rule in enumerate(nested):
        check_rule(rule, f"rules[{i}].")
    if len(nested) > rules.MAX_L7RULES_PER_POLICY:
        raise InvalidInput(
            f"An L7 policy takes at most {rules.MAX_L7RULES_PER_POLICY} rules.", field="rules"
        )
    policies = _ordered(listener)
    policy = L7PolicyRow(
        **{k: v for k, v in values.items() if k not in ("id", "position")},
        id=new_id(fields["id"]),
        project_id=listener.project_id,
        position=0,
        provisioning_status=status.PENDING_CREATE,
        operating_status=status.OFFLINE,
    )
    quotas.reserve(session, policy.project_id, "l7policy")
    session.add(policy)
    place(policies, policy, fields.get("position", 0))
    mark_updated(listener)
    session.flush()
    # Rules given with the policy are created with it, as Octavia does (they were dropped).
    for rule in nested:
        quotas.reserve(session, policy.project_id, "l7rule")
        session.add(
            L7RuleRow(
                **{k: v for k, v in rule.items() if k not in ("id", "l7policy_id")},
                id=new_id(rule["id"]),
                l7policy_id=policy.id,
                project_id=policy.project_id,
                provisioning_status=status.PENDING_CREATE,
                operating_status=status.OFFLINE,
            )
        )
    session.flush()
    session.expire(policy, ["rules"])
    session.refresh(listener)
    accept_change(session, deps, lb)
    return policy


def get_policy(session: Session, scope: Scope, policy_id: str) -> L7PolicyRow:
    return get_scoped(session, L7PolicyRow, policy_id, scope, "L7 Policy")


def list_policies(session: Session, scope: Scope, listener_id: str = "") -> list[L7PolicyRow]:
    query = select(L7PolicyRow).order_by(
        L7PolicyRow.listener_id, L7PolicyRow.position, L7PolicyRow.created_at
    )
    if not scope.all_projects:
        query = query.where(L7PolicyRow.project_id == scope.project_id)
    if listener_id:
        query = query.where(L7PolicyRow.listener_id == listener_id)
    return list(session.scalars(query))


def update_policy(
    session: Session, deps: Deps, scope: Scope, policy_id: str, changes: dict[str, Any]
) -> L7PolicyRow:
    policy = get_policy(session, scope, policy_id)
    listener = policy.listener
    lb = lock_loadbalancer(session, listener.load_balancer_id, scope)
    if not changes:
        return policy
    ensure_mutable(lb, policy)
    changes = dict(changes)
    position = changes.pop("position", None)
    if position is not None and not 1 <= position <= rules.MAX_POLICY_POSITION:
        raise InvalidInput("position must be 1 or more.", field="position")
    # The action and redirect fields as the fields the update names resolve them (an update
    # naming only a redirect target changes the action to match it).
    merged = {**_policy_values(policy), **changes, **resolve_action(changes, create=False)}
    values = normalize_policy(merged)
    check_policy_target(listener.protocol, values, _pool_protocol_on(lb))
    apply_changes(policy, {k: v for k, v in values.items() if k in merged})
    if position is not None:
        place(_ordered(listener, without=policy), policy, position)
    mark_updated(policy)
    mark_updated(listener)
    accept_change(session, deps, lb)
    return policy


def delete_policy(session: Session, deps: Deps, scope: Scope, policy_id: str) -> None:
    policy = get_policy(session, scope, policy_id)
    listener = policy.listener
    lb = lock_loadbalancer(session, listener.load_balancer_id, scope)
    if policy.provisioning_status == status.PENDING_DELETE:
        return
    ensure_mutable(lb)
    policy.provisioning_status = status.PENDING_DELETE
    for rule in policy.rules:
        rule.provisioning_status = status.PENDING_DELETE
    renumber(_ordered(listener))
    if alive(listener):
        mark_updated(listener)
    accept_change(session, deps, lb)


def mark_listener_policies_deleted(listener: ListenerRow) -> None:
    for policy in listener.l7policies:
        policy.provisioning_status = status.PENDING_DELETE
        for rule in policy.rules:
            rule.provisioning_status = status.PENDING_DELETE


def pool_in_use(lb: LoadBalancerRow, pool_id: str) -> L7PolicyRow | None:
    """An alive L7 policy redirecting to the pool (Octavia refuses to delete such a pool)."""
    for listener in filter(alive, lb.listeners):
        for policy in filter(alive, listener.l7policies):
            if policy.redirect_pool_id == pool_id:
                return policy
    return None


# -- rules ----------------------------------------------------------------------------------


def _rule_values(row: L7RuleRow) -> dict[str, Any]:
    return {"type": row.type, "compare_type": row.compare_type, "key": row.key, "value": row.value}


def create_rule(session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]) -> L7RuleRow:
    policy = get_scoped(
        session, L7PolicyRow, fields["l7policy_id"], scope, "L7 Policy", "l7policy_id"
    )
    lb = lock_loadbalancer(session, policy.listener.load_balancer_id, scope)
    ensure_mutable(lb, policy)
    check_rule(fields)
    if len([r for r in policy.rules if alive(r)]) >= rules.MAX_L7RULES_PER_POLICY:
        raise Precondition(
            f"L7 policy {policy.id} already has {rules.MAX_L7RULES_PER_POLICY} rules.",
            field="l7policy_id",
        )
    rule = L7RuleRow(
        **{k: v for k, v in fields.items() if k != "id"},
        id=new_id(fields["id"]),
        project_id=policy.project_id,
        provisioning_status=status.PENDING_CREATE,
        operating_status=status.OFFLINE,
    )
    quotas.reserve(session, rule.project_id, "l7rule")
    session.add(rule)
    mark_updated(policy)
    mark_updated(policy.listener)
    accept_change(session, deps, lb)
    return rule


def get_rule(session: Session, scope: Scope, policy_id: str, rule_id: str) -> L7RuleRow:
    rule = get_scoped(session, L7RuleRow, rule_id, scope, "L7 Rule")
    if policy_id and rule.l7policy_id != policy_id:
        raise NotFound(f"L7 Rule {rule_id} not found.", field="id")
    return rule


def list_rules(session: Session, scope: Scope, policy_id: str) -> list[L7RuleRow]:
    get_scoped(session, L7PolicyRow, policy_id, scope, "L7 Policy", "l7policy_id")
    query = select(L7RuleRow).where(L7RuleRow.l7policy_id == policy_id)
    return list(session.scalars(query.order_by(L7RuleRow.created_at, L7RuleRow.id)))


def rule_type(session: Session, rule_id: str) -> str:
    """A rule's type, for the feature gate ("" when there is no such rule: the update answers)."""
    rule = session.get(L7RuleRow, rule_id)
    return rule.type if rule is not None else ""


def update_rule(
    session: Session, deps: Deps, scope: Scope, policy_id: str, rule_id: str, changes: dict
) -> L7RuleRow:
    rule = get_rule(session, scope, policy_id, rule_id)
    policy = rule.policy
    lb = lock_loadbalancer(session, policy.listener.load_balancer_id, scope)
    if not changes:
        return rule
    ensure_mutable(lb, rule)
    check_rule({**_rule_values(rule), **changes})
    apply_changes(rule, changes)
    mark_updated(rule)
    mark_updated(policy)
    mark_updated(policy.listener)
    accept_change(session, deps, lb)
    return rule


def delete_rule(session: Session, deps: Deps, scope: Scope, policy_id: str, rule_id: str) -> None:
    rule = get_rule(session, scope, policy_id, rule_id)
    policy = rule.policy
    lb = lock_loadbalancer(session, policy.listener.load_balancer_id, scope)
    if rule.provisioning_status == status.PENDING_DELETE:
        return
    ensure_mutable(lb, policy)
    rule.provisioning_status = status.PENDING_DELETE
    mark_updated(policy)
    mark_updated(policy.listener)
    accept_change(session, deps, lb)
