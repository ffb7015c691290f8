"""Octavia's "fully populated load balancer" create: nested listeners, pools, members, monitors,
L7 policies and rules, all checked before anything is written.

References between nested objects: a listener's default_pool_id and an L7 policy's
redirect_pool_id name a pool of the same request, by that pool's meta.id when the client gave one,
else by its (unique) meta.name; Octavia's JSON does the latter ({"default_pool": {"name": ...}}).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from services.common.errors import InvalidInput
from services.orchestrator.adapters.db.models import (
    HealthMonitorRow,
    L7PolicyRow,
    L7RuleRow,
    ListenerRow,
    LoadBalancerRow,
    MemberRow,
    PoolRow,
)
from services.orchestrator.domain import rules, status
from services.orchestrator.service_layer import certificates, l7
from services.orchestrator.service_layer.common import new_id
from services.orchestrator.service_layer.listeners import (
    check_allowed_cidrs,
    check_listener,
    check_pool_protocol,
)
from services.orchestrator.service_layer.members import (
    check_new_member,
    check_new_monitor,
    initial_member_status,
)
from services.orchestrator.service_layer.pools import check_pool


@dataclass
class Plan:
    """Checked nested objects with their ids assigned and references resolved."""

    pools: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[dict[str, Any]] = field(default_factory=list)


def _with_id(values: dict[str, Any], at: str, taken: set[str]) -> dict[str, Any]:
    try:
        object_id = new_id(values["id"])
    except InvalidInput as err:
        raise InvalidInput(err.user_message, field=f"{at}id") from None
    if object_id in taken:
        raise InvalidInput(f"Id {object_id} is used twice.", field=f"{at}id")
    taken.add(object_id)
    return {**values, "id": object_id}


class _PoolIndex:
    def __init__(self, pools: list[dict[str, Any]], given_ids: list[str]):
        self._by_id = {p["id"]: p for p, given in zip(pools, given_ids, strict=True) if given}
        self._by_name: dict[str, list[dict[str, Any]]] = {}
        for p in pools:
            if p["name"]:
                self._by_name.setdefault(p["name"], []).append(p)

    def resolve(self, ref: str, field: str) -> dict[str, Any]:
        if ref in self._by_id:
            return self._by_id[ref]
        named = self._by_name.get(ref, [])
        if len(named) == 1:
            return named[0]
        if named:
            raise InvalidInput(f"More than one pool is named {ref!r}.", field=field)
        raise InvalidInput(f"Pool {ref!r} is not one of the load balancer's pools.", field=field)


def plan(listeners: list[dict[str, Any]], pools: list[dict[str, Any]]) -> Plan:
    out = Plan()
    taken: set[str] = set()
    for i, spec in enumerate(pools):
        at = f"pools[{i}]."
        pool = rules.pool_defaults(_with_id(spec, at, taken))
        check_pool(pool, at)
        seen: set[tuple[str, int]] = set()
        members = []
        for j, m in enumerate(spec.get("members") or []):
            mat = f"{at}members[{j}]."
            member = _with_id(m, mat, taken)
            check_new_member(member, mat)
            key = (member["address"], member["protocol_port"])
            if key in seen:
                raise InvalidInput(
                    f"Member {key[0]}:{key[1]} is listed more than once.", field=f"{mat}address"
                )
            seen.add(key)
            members.append(member)
        pool["members"] = members
        if spec.get("healthmonitor") is not None:
            hm = _with_id(spec["healthmonitor"], f"{at}healthmonitor.", taken)
            hm = rules.monitor_defaults(hm, hm["type"])
            check_new_monitor(hm, pool["protocol"], f"{at}healthmonitor.")
            pool["healthmonitor"] = hm
        out.pools.append(pool)
    index = _PoolIndex(out.pools, [p["id"] for p in pools])

    ports: set[tuple[str, int]] = set()
    for i, spec in enumerate(listeners):
        at = f"listeners[{i}]."
        listener = _with_id(spec, at, taken)
        listener = rules.listener_defaults(listener, listener["protocol"])
        check_listener(listener, at)
        port = (rules.transport(listener["protocol"]), listener["protocol_port"])
        if port in ports:
            raise InvalidInput(
                f"Another listener already uses port {listener['protocol_port']}.",
                field=f"{at}protocol_port",
            )
        ports.add(port)
        if listener.get("default_pool_id"):
            pool = index.resolve(listener["default_pool_id"], f"{at}default_pool_id")
            check_pool_protocol(listener["protocol"], pool["protocol"], f"{at}default_pool_id")
            listener["default_pool_id"] = pool["id"]
        policies = []
        for k, p in enumerate(spec.get("l7policies") or []):
            pat = f"{at}l7policies[{k}]."
            policy = _with_id(p, pat, taken)
            l7.check_position(policy.get("position", 0), pat)
            policy = {**policy, **l7.resolve_action(policy, create=True, at=pat)}
            policy = l7.normalize_policy(policy, pat)
            resolved: dict[str, str] = {}
            if policy.get("redirect_pool_id"):
                target = index.resolve(policy["redirect_pool_id"], f"{pat}redirect_pool_id")
                resolved[target["id"]] = target["protocol"]
                policy["redirect_pool_id"] = target["id"]
            l7.check_policy_target(listener["protocol"], policy, resolved.get, pat)
            rule_specs = p.get("rules") or []
            if len(rule_specs) > rules.MAX_L7RULES_PER_POLICY:
                raise InvalidInput(
                    f"An L7 policy takes at most {rules.MAX_L7RULES_PER_POLICY} rules.",
                    field=f"{pat}rules",
                )
            policy["rules"] = []
            for r, rule in enumerate(rule_specs):
                rat = f"{pat}rules[{r}]."
                rule = _with_id(rule, rat, taken)
                l7.check_rule(rule, rat)
                policy["rules"].append(rule)
            policies.append(policy)
        listener["l7policies"] = policies
        out.listeners.append(listener)
    return out


def _columns(values: dict[str, Any], *nested: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in nested}


def write(session: Session, lb: LoadBalancerRow, plan: Plan) -> None:
    """Adds the planned objects under lb, every one PENDING_CREATE. Flushes in dependency order
    (listeners reference pools without an ORM relationship)."""
    for i, pool in enumerate(plan.pools):
        certificates.check_pool_refs(session, lb.project_id, pool, f"pools[{i}].")
    for i, listener in enumerate(plan.listeners):
        certificates.check_listener_refs(session, lb.project_id, listener, f"listeners[{i}].")
        check_allowed_cidrs(lb, listener, f"listeners[{i}].")
    pending = {"provisioning_status": status.PENDING_CREATE, "project_id": lb.project_id}
    for pool in plan.pools:
        hm = pool.get("healthmonitor")
        session.add(
            PoolRow(
                **_columns(pool, "members", "healthmonitor", "load_balancer_id"),
                **pending,
                load_balancer_id=lb.id,
                operating_status=status.OFFLINE,
            )
        )
        for member in pool["members"]:
            session.add(
                MemberRow(
                    **_columns(member, "pool_id"),
                    **pending,
                    pool_id=pool["id"],
                    operating_status=initial_member_status(
                        None,
                        has_monitor=hm is not None,
                        admin_up=member.get("admin_state_up", True),
                    ),
                )
            )
        if hm is not None:
            session.add(
                HealthMonitorRow(
                    **_columns(hm, "pool_id"),
                    **pending,
                    pool_id=pool["id"],
                    operating_status=status.OFFLINE,
                )
            )
    session.flush()
    for listener in plan.listeners:
        session.add(
            ListenerRow(
                **_columns(listener, "l7policies", "load_balancer_id"),
                **pending,
                load_balancer_id=lb.id,
                operating_status=status.OFFLINE,
            )
        )
    session.flush()
    for listener in plan.listeners:
        rows: list[L7PolicyRow] = []
        for policy in listener["l7policies"]:
            row = L7PolicyRow(
                **_columns(policy, "rules", "listener_id", "position"),
                **pending,
                listener_id=listener["id"],
                position=0,
                operating_status=status.OFFLINE,
            )
            session.add(row)
            l7.place(rows, row, policy.get("position", 0))
        session.flush()
        for policy in listener["l7policies"]:
            for rule in policy["rules"]:
                session.add(
                    L7RuleRow(
                        **_columns(rule, "l7policy_id"),
                        **pending,
                        l7policy_id=policy["id"],
                        operating_status=status.OFFLINE,
                    )
                )
    session.flush()
