"""Member and health monitor use cases (both hang off a pool)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import Conflict, InvalidInput, NotFound
from services.orchestrator.adapters.db.models import HealthMonitorRow, MemberRow, PoolRow
from services.orchestrator.domain import rules, status
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


def _check_member(values: dict[str, Any]) -> None:
    if "weight" in values and not 0 <= values["weight"] <= 256:
        raise InvalidInput("weight must be between 0 and 256.", field="weight")
    if values.get("monitor_port") is not None and not rules.valid_port(values["monitor_port"]):
        raise InvalidInput("Invalid monitor_port.", field="monitor_port")


def create_member(session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]) -> MemberRow:
    pool = get_scoped(session, PoolRow, fields["pool_id"], scope, "Pool", "pool_id")
    lb = lock_loadbalancer(session, pool.load_balancer_id, scope)
    ensure_mutable(lb, pool)
    if not fields["address"]:
        raise InvalidInput("address is required.", field="address")
    if not rules.valid_port(fields["protocol_port"]):
        raise InvalidInput(
            f"Invalid protocol_port {fields['protocol_port']}.", field="protocol_port"
        )
    _check_member(fields)
    for other in filter(alive, pool.members):
        if (other.address, other.protocol_port) == (fields["address"], fields["protocol_port"]):
            raise Conflict(
                f"Another member on pool {pool.id} already has address {fields['address']} "
                f"and port {fields['protocol_port']}.",
                field="address",
            )
    member = MemberRow(
        **{k: v for k, v in fields.items() if k != "id"},
        id=new_id(fields["id"]),
        project_id=pool.project_id,
        provisioning_status=status.PENDING_CREATE,
        # Octavia: without a health monitor a member's health is unknown (NO_MONITOR).
        operating_status=(
            status.OFFLINE if any(map(alive, pool.health_monitors)) else status.NO_MONITOR
        ),
    )
    session.add(member)
    accept_change(session, deps, lb)
    return member


def get_member(session: Session, scope: Scope, pool_id: str, member_id: str) -> MemberRow:
    member = get_scoped(session, MemberRow, member_id, scope, "Member")
    if pool_id and member.pool_id != pool_id:
        raise NotFound(f"Member {member_id} not found.", field="id")
    return member


def list_members(session: Session, scope: Scope, pool_id: str) -> list[MemberRow]:
    get_scoped(session, PoolRow, pool_id, scope, "Pool", "pool_id")
    query = select(MemberRow).where(MemberRow.pool_id == pool_id)
    return list(session.scalars(query.order_by(MemberRow.created_at, MemberRow.id)))


def update_member(
    session: Session, deps: Deps, scope: Scope, pool_id: str, member_id: str, changes: dict
) -> MemberRow:
    member = get_member(session, scope, pool_id, member_id)
    lb = lock_loadbalancer(session, member.pool.load_balancer_id, scope)
    if not changes:
        return member
    ensure_mutable(lb, member)
    _check_member(changes)
    apply_changes(member, changes)
    mark_updated(member)
    accept_change(session, deps, lb)
    return member


def delete_member(session: Session, deps: Deps, scope: Scope, pool_id: str, member_id: str) -> None:
    member = get_member(session, scope, pool_id, member_id)
    lb = lock_loadbalancer(session, member.pool.load_balancer_id, scope)
    if member.provisioning_status == status.PENDING_DELETE:
        return
    ensure_mutable(lb)
    member.provisioning_status = status.PENDING_DELETE
    accept_change(session, deps, lb)


def _check_monitor(values: dict[str, Any]) -> None:
    for name in ("delay", "timeout"):
        if name in values and values[name] < 1:
            raise InvalidInput(f"{name} must be at least 1.", field=name)
    if "max_retries" in values and not 1 <= values["max_retries"] <= 10:
        raise InvalidInput("max_retries must be between 1 and 10.", field="max_retries")
    if "max_retries_down" in values and not 1 <= values["max_retries_down"] <= 10:
        raise InvalidInput("max_retries_down must be between 1 and 10.", field="max_retries_down")
    if "timeout" in values and "delay" in values and values["timeout"] > values["delay"]:
        raise InvalidInput("timeout must not exceed delay.", field="timeout")


def create_health_monitor(
    session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]
) -> HealthMonitorRow:
    pool = get_scoped(session, PoolRow, fields["pool_id"], scope, "Pool", "pool_id")
    lb = lock_loadbalancer(session, pool.load_balancer_id, scope)
    ensure_mutable(lb, pool)
    if fields["type"] not in rules.HEALTH_MONITOR_TYPES:
        raise InvalidInput(f"Invalid health monitor type {fields['type']!r}.", field="type")
    if not rules.health_monitor_allowed(pool.protocol, fields["type"]):
        raise InvalidInput(
            f"A {fields['type']} health monitor cannot monitor a {pool.protocol} pool.",
            field="type",
        )
    _check_monitor(fields)
    if any(alive(hm) for hm in pool.health_monitors):
        raise Conflict(f"Pool {pool.id} already has a health monitor.", field="pool_id")
    hm = HealthMonitorRow(
        **{k: v for k, v in fields.items() if k != "id"},
        id=new_id(fields["id"]),
        project_id=pool.project_id,
        provisioning_status=status.PENDING_CREATE,
        operating_status=status.OFFLINE,
    )
    session.add(hm)
    accept_change(session, deps, lb)
    return hm


def get_health_monitor(session: Session, scope: Scope, hm_id: str) -> HealthMonitorRow:
    return get_scoped(session, HealthMonitorRow, hm_id, scope, "Health Monitor")


def list_health_monitors(session: Session, scope: Scope) -> list[HealthMonitorRow]:
    query = select(HealthMonitorRow).order_by(HealthMonitorRow.created_at, HealthMonitorRow.id)
    if not scope.all_projects:
        query = query.where(HealthMonitorRow.project_id == scope.project_id)
    return list(session.scalars(query))


def update_health_monitor(
    session: Session, deps: Deps, scope: Scope, hm_id: str, changes: dict[str, Any]
) -> HealthMonitorRow:
    hm = get_health_monitor(session, scope, hm_id)
    lb = lock_loadbalancer(session, hm.pool.load_balancer_id, scope)
    if not changes:
        return hm
    ensure_mutable(lb, hm)
    _check_monitor({**{"delay": hm.delay, "timeout": hm.timeout}, **changes})
    apply_changes(hm, changes)
    mark_updated(hm)
    accept_change(session, deps, lb)
    return hm


def delete_health_monitor(session: Session, deps: Deps, scope: Scope, hm_id: str) -> None:
    hm = get_health_monitor(session, scope, hm_id)
    lb = lock_loadbalancer(session, hm.pool.load_balancer_id, scope)
    if hm.provisioning_status == status.PENDING_DELETE:
        return
    ensure_mutable(lb)
    hm.provisioning_status = status.PENDING_DELETE
    accept_change(session, deps, lb)
