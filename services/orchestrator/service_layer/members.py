"""Member and health monitor use cases (both hang off a pool)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from services.common.errors import Conflict, InvalidInput, NotFound
from services.orchestrator.adapters.db.models import HealthMonitorRow, MemberRow, PoolRow
from services.orchestrator.codec import decode
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
    get_scoped_locking,
    lock_loadbalancer,
    mark_updated,
    new_id,
)


def _check_member(values: dict[str, Any], at: str = "") -> None:
    if "weight" in values and not 0 <= values["weight"] <= 256:
        raise InvalidInput("weight must be between 0 and 256.", field=f"{at}weight")
    if values.get("monitor_port") is not None and not rules.valid_port(values["monitor_port"]):
        raise InvalidInput("Invalid monitor_port.", field=f"{at}monitor_port")


def check_new_member(values: dict[str, Any], at: str = "") -> None:
    """Checks of a new member's own values; `at` prefixes field names of a nested member."""
    if not values["address"]:
        raise InvalidInput("address is required.", field=f"{at}address")
    if not rules.valid_port(values["protocol_port"]):
        raise InvalidInput(
            f"Invalid protocol_port {values['protocol_port']}.", field=f"{at}protocol_port"
        )
    message = rules.not_one_of(values.get("vnic_type", "normal"), rules.VNIC_TYPES)
    if message is not None:
        raise InvalidInput(message, field=f"{at}vnic_type")
    _check_member(values, at)


def initial_member_status(
    pool: Any, has_monitor: bool | None = None, *, admin_up: bool = True
) -> str:
    """Octavia: a disabled member is OFFLINE; without a health monitor an enabled member's
    health is unknown (NO_MONITOR)."""
    if not admin_up:
        return status.OFFLINE
    if has_monitor is None:
        has_monitor = any(map(alive, pool.health_monitors))
    return status.OFFLINE if has_monitor else status.NO_MONITOR


# Whether a live member of the pool has the address and port, whether the pool has a live health
# monitor (a new member's first operating status), and the project's explicit member quota.
_CLASH_AND_MONITOR = select(
    exists().where(
        MemberRow.pool_id == bindparam("pool_id"),
        MemberRow.address == bindparam("address"),
        MemberRow.protocol_port == bindparam("port"),
        MemberRow.provisioning_status != status.PENDING_DELETE,
    ),
    exists().where(
        HealthMonitorRow.pool_id == bindparam("pool_id"),
        HealthMonitorRow.provisioning_status != status.PENDING_DELETE,
    ),
    quotas.explicit_limit("member"),
)


def create_member(session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]) -> MemberRow:
    pool, lb = get_scoped_locking(session, PoolRow, fields["pool_id"], scope, "Pool", "pool_id")
    ensure_mutable(lb, pool)
    check_new_member(fields)
    # One query, whatever the pool's size (not its members loaded to compare in Python), which
    # also reads the project's member quota.
    clash, has_monitor, member_quota = session.execute(
        _CLASH_AND_MONITOR,
        {
            "pool_id": pool.id,
            "address": fields["address"],
            "port": fields["protocol_port"],
            "project_id": pool.project_id,
        },
    ).one()
    if clash:
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
        operating_status=initial_member_status(
            pool, has_monitor, admin_up=fields.get("admin_state_up", True)
        ),
    )
    quotas.reserve(session, member.project_id, "member", explicit=member_quota)
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


# Columns a batch update replaces on a member it matches (Octavia's batch member update): the
# ones a member update may change.
_BATCH_UPDATED = tuple(column for column, _ in decode.MEMBER_PATHS.values())


def batch_update_members(
    session: Session,
    deps: Deps,
    scope: Scope,
    pool_id: str,
    wanted: list[dict[str, Any]],
    additive_only: bool,
) -> None:
    """Replaces the pool's members with `wanted` (matched by address and protocol_port), all
    checked before anything is written; one version bump and one reconcile for the whole set."""
    pool = get_scoped(session, PoolRow, pool_id, scope, "Pool", "pool_id")
    lb = lock_loadbalancer(session, pool.load_balancer_id, scope)
    ensure_mutable(lb, pool)
    seen: set[tuple[str, int]] = set()
    for index, values in enumerate(wanted):
        at = f"members[{index}]."
        check_new_member(values, at)
        key = (values["address"], values["protocol_port"])
        if key in seen:
            raise InvalidInput(
                f"Member {key[0]}:{key[1]} is listed more than once.", field=f"{at}address"
            )
        seen.add(key)
    current = {(m.address, m.protocol_port): m for m in pool.members if alive(m)}
    quotas.reserve_member_batch(session, pool.project_id, current, wanted, additive_only)
    for values in wanted:
        existing = current.get((values["address"], values["protocol_port"]))
        if existing is not None:
            apply_changes(existing, {name: values[name] for name in _BATCH_UPDATED})
            mark_updated(existing)
            continue
        session.add(
            MemberRow(
                **{k: v for k, v in values.items() if k not in ("id", "pool_id")},
                id=new_id(values["id"]),
                pool_id=pool.id,
                project_id=pool.project_id,
                provisioning_status=status.PENDING_CREATE,
                operating_status=initial_member_status(
                    pool, admin_up=values.get("admin_state_up", True)
                ),
            )
        )
    if not additive_only:
        for key, member in current.items():
            if key not in seen:
                member.provisioning_status = status.PENDING_DELETE
    mark_updated(pool)
    accept_change(session, deps, lb)


def _check_monitor(values: dict[str, Any], at: str = "") -> None:
    if values.get("http_method"):  # "" on monitors that send no HTTP request
        message = rules.not_one_of(values["http_method"], rules.HTTP_METHODS)
        if message is not None:
            raise InvalidInput(message, field=f"{at}http_method")
    for name in ("delay", "timeout"):
        if name in values and values[name] < 1:
            raise InvalidInput(f"{name} must be at least 1.", field=f"{at}{name}")
    if "max_retries" in values and not 1 <= values["max_retries"] <= 10:
        raise InvalidInput("max_retries must be between 1 and 10.", field=f"{at}max_retries")
    if "max_retries_down" in values and not 1 <= values["max_retries_down"] <= 10:
        raise InvalidInput(
            "max_retries_down must be between 1 and 10.", field=f"{at}max_retries_down"
        )
    for problem in (rules.monitor_fields_problem(values), rules.health_monitor_problem(values)):
        if problem is not None:
            raise InvalidInput(problem[1], field=f"{at}{problem[0]}")


def check_new_monitor(values: dict[str, Any], pool_protocol: str, at: str = "") -> None:
    message = rules.not_one_of(values["type"], rules.HEALTH_MONITOR_TYPES)
    if message is not None:
        raise InvalidInput(message, field=f"{at}type")
    if not rules.health_monitor_allowed(pool_protocol, values["type"]):
        raise InvalidInput(
            f"A {values['type']} health monitor cannot monitor a {pool_protocol} pool.",
            field=f"{at}type",
        )
    _check_monitor(values, at)


def create_health_monitor(
    session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]
) -> HealthMonitorRow:
    pool = get_scoped(session, PoolRow, fields["pool_id"], scope, "Pool", "pool_id")
    lb = lock_loadbalancer(session, pool.load_balancer_id, scope)
    ensure_mutable(lb, pool)
    fields = rules.monitor_defaults(fields, fields["type"])
    check_new_monitor(fields, pool.protocol)
    if any(alive(hm) for hm in pool.health_monitors):
        raise Conflict(f"Pool {pool.id} already has a health monitor.", field="pool_id")
    hm = HealthMonitorRow(
        **{k: v for k, v in fields.items() if k != "id"},
        id=new_id(fields["id"]),
        project_id=pool.project_id,
        provisioning_status=status.PENDING_CREATE,
        operating_status=status.OFFLINE,
    )
    quotas.reserve(session, hm.project_id, "health_monitor")
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
    changes = rules.monitor_defaults(changes, hm.type, changes)
    current = {
        name: getattr(hm, name)
        for name in ("type", "delay", "timeout", "http_version", "domain_name")
    }
    _check_monitor({**current, **changes})
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
