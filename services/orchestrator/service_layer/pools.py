"""Pool use cases (a pool belongs to a load balancer, optionally as a listener's default pool)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import Conflict, InvalidInput
from services.orchestrator.adapters.db.models import (
    HealthMonitorRow,
    ListenerRow,
    MemberRow,
    PoolRow,
)
from services.orchestrator.domain import rules, status
from services.orchestrator.service_layer import certificates, l7, quotas
from services.orchestrator.service_layer.common import (
    Deps,
    Scope,
    accept_change,
    apply_changes,
    ensure_mutable,
    get_scoped,
    lock_loadbalancer,
    mark_updated,
    new_id,
)
from services.orchestrator.service_layer.listeners import check_pool_protocol, pool_listeners
from services.orchestrator.service_layer.members import (
    check_new_member,
    check_new_monitor,
    initial_member_status,
)

_TLS_COLUMNS = (
    "tls_enabled",
    "tls_container_ref",
    "ca_tls_container_ref",
    "crl_container_ref",
    "tls_versions",
    "tls_ciphers",
    "alpn_protocols",
)


def check_settings(values: dict[str, Any], at: str = "") -> None:
    """Checks of a pool's own values; `at` prefixes field names of a nested pool."""
    if "lb_algorithm" in values:
        message = rules.not_one_of(values["lb_algorithm"], rules.LB_ALGORITHMS)
        if message is not None:
            raise InvalidInput(message, field=f"{at}lb_algorithm")
    sp = values.get("session_persistence")
    if sp:
        if sp["type"] not in rules.SESSION_PERSISTENCE_TYPES:  # "" is none
            raise InvalidInput(
                str(rules.not_one_of(sp["type"], rules.SESSION_PERSISTENCE_TYPES[1:])),
                field=f"{at}session_persistence.type",
            )
    problems = (
        rules.persistence_problem(values.get("protocol", ""), sp),
        rules.pool_tls_problem(values),
    )
    for problem in problems:
        if problem is not None:
            raise InvalidInput(problem[1], field=f"{at}{problem[0]}")


def check_pool(values: dict[str, Any], at: str = "") -> None:
    message = rules.not_one_of(values["protocol"], rules.POOL_PROTOCOLS)
    if message is not None:
        raise InvalidInput(message, field=f"{at}protocol")
    check_settings(values, at)


def _plan_children(
    members: list[dict[str, Any]], healthmonitor: dict[str, Any] | None, protocol: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Checks a pool create's nested members and monitor and gives each an id (nothing written)."""
    taken: set[str] = set()

    def with_id(values: dict[str, Any], at: str) -> dict[str, Any]:
        try:
            object_id = new_id(values["id"])
        except InvalidInput as err:
            raise InvalidInput(err.user_message, field=f"{at}id") from None
        if object_id in taken:
            raise InvalidInput(f"Id {object_id} is used twice.", field=f"{at}id")
        taken.add(object_id)
        return {**values, "id": object_id}

    planned, seen = [], set()
    for i, spec in enumerate(members):
        at = f"members[{i}]."
        member = with_id(spec, at)
        check_new_member(member, at)
        key = (member["address"], member["protocol_port"])
        if key in seen:
            raise InvalidInput(
                f"Member {key[0]}:{key[1]} is listed more than once.", field=f"{at}address"
            )
        seen.add(key)
        planned.append(member)
    monitor = None
    if healthmonitor is not None:
        monitor = with_id(healthmonitor, "healthmonitor.")
        monitor = rules.monitor_defaults(monitor, monitor["type"])
        check_new_monitor(monitor, protocol, "healthmonitor.")
    return planned, monitor


def create(
    session: Session,
    deps: Deps,
    scope: Scope,
    fields: dict[str, Any],
    listener_id: str = "",
    *,
    members: list[dict[str, Any]] | None = None,
    healthmonitor: dict[str, Any] | None = None,
) -> PoolRow:
    """A pool, and with it (one transaction, every object reserved against its quota) the
    members and health monitor the request nests."""
    listener = None
    lb_id = fields["load_balancer_id"]
    if listener_id:
        listener = get_scoped(session, ListenerRow, listener_id, scope, "Listener", "listener_id")
        if lb_id and lb_id != listener.load_balancer_id:
            raise InvalidInput(
                "The listener belongs to another load balancer.", field="loadbalancer_id"
            )
        lb_id = listener.load_balancer_id
    if not lb_id:
        raise InvalidInput("loadbalancer_id or listener_id is required.", field="loadbalancer_id")
    lb = lock_loadbalancer(session, lb_id, scope)
    ensure_mutable(lb, listener)
    protocol = fields["protocol"]
    fields = rules.pool_defaults(fields)
    check_pool(fields)
    certificates.check_pool_refs(session, lb.project_id, fields)
    planned_members, monitor = _plan_children(members or [], healthmonitor, protocol)
    if listener is not None:
        check_pool_protocol(listener.protocol, protocol, "protocol")
        if listener.default_pool_id:
            raise Conflict(
                f"Listener {listener.id} already has a default pool.", field="listener_id"
            )
    pool = PoolRow(
        **{k: v for k, v in fields.items() if k not in ("id", "load_balancer_id")},
        id=new_id(fields["id"]),
        load_balancer_id=lb.id,
        project_id=lb.project_id,
        provisioning_status=status.PENDING_CREATE,
        operating_status=status.OFFLINE,
    )
    quotas.reserve(session, pool.project_id, "pool")
    if planned_members:
        quotas.reserve(session, pool.project_id, "member", len(planned_members))
    if monitor is not None:
        quotas.reserve(session, pool.project_id, "health_monitor")
    session.add(pool)
    session.flush()
    pending = {"provisioning_status": status.PENDING_CREATE, "project_id": pool.project_id}
    for member in planned_members:
        session.add(
            MemberRow(
                **{k: v for k, v in member.items() if k != "pool_id"},
                **pending,
                pool_id=pool.id,
                operating_status=initial_member_status(
                    None,
                    has_monitor=monitor is not None,
                    admin_up=member.get("admin_state_up", True),
                ),
            )
        )
    if monitor is not None:
        session.add(
            HealthMonitorRow(
                **{k: v for k, v in monitor.items() if k != "pool_id"},
                **pending,
                pool_id=pool.id,
                operating_status=status.OFFLINE,
            )
        )
    if planned_members or monitor is not None:
        session.flush()
        session.refresh(pool)
    if listener is not None:
        listener.default_pool_id = pool.id
        mark_updated(listener)
    session.refresh(lb)
    accept_change(session, deps, lb)
    return pool


def get(session: Session, scope: Scope, pool_id: str) -> PoolRow:
    return get_scoped(session, PoolRow, pool_id, scope, "Pool")


def list_(session: Session, scope: Scope, lb_id: str = "") -> list[PoolRow]:
    query = select(PoolRow).order_by(PoolRow.created_at, PoolRow.id)
    if not scope.all_projects:
        query = query.where(PoolRow.project_id == scope.project_id)
    if lb_id:
        query = query.where(PoolRow.load_balancer_id == lb_id)
    return list(session.scalars(query))


def update(
    session: Session, deps: Deps, scope: Scope, pool_id: str, changes: dict[str, Any]
) -> PoolRow:
    pool = get(session, scope, pool_id)
    lb = lock_loadbalancer(session, pool.load_balancer_id, scope)
    if not changes:
        return pool
    ensure_mutable(lb, pool)
    # The pool as the update leaves it (its protocol decides which persistence it may have).
    current = {"protocol": pool.protocol}
    if any(name in changes for name in _TLS_COLUMNS):
        current.update({n: getattr(pool, n) for n in _TLS_COLUMNS})
    check_settings({**current, **changes})
    certificates.check_pool_refs(session, lb.project_id, changes)
    apply_changes(pool, changes)
    mark_updated(pool)
    accept_change(session, deps, lb)
    return pool


def delete(session: Session, deps: Deps, scope: Scope, pool_id: str) -> None:
    """The pool goes with its members and health monitor; listeners using it as their default
    pool lose it when the row is removed."""
    pool = get(session, scope, pool_id)
    lb = lock_loadbalancer(session, pool.load_balancer_id, scope)
    if pool.provisioning_status == status.PENDING_DELETE:
        return
    ensure_mutable(lb)
    policy = l7.pool_in_use(lb, pool.id)
    if policy is not None:
        raise Conflict(f"Pool {pool.id} is in use by L7 policy {policy.id}.", field="id")
    for listener in pool_listeners(lb, pool):
        mark_updated(listener)
    for member in pool.members:
        member.provisioning_status = status.PENDING_DELETE
    for hm in pool.health_monitors:
        hm.provisioning_status = status.PENDING_DELETE
    pool.provisioning_status = status.PENDING_DELETE
    accept_change(session, deps, lb)
