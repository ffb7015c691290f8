"""Per-project quotas: limits (explicit or the configured defaults), usage, and a reservation
that is safe under concurrent creates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput, NotFound, QuotaExceeded
from services.orchestrator.adapters.db import models
from services.orchestrator.adapters.db.admin_models import QUOTA_RESOURCES, QuotaRow

UNLIMITED = -1
MAX_QUOTA = 2_000_000_000  # Octavia's upper bound

# Where the configured defaults travel: the UnitOfWork puts them in every session's info, so a
# create path can call reserve(session, ...) without being handed the settings.
SESSION_DEFAULTS_KEY = "quota_defaults"

_NAMES = {
    "load_balancer": "load balancer",
    "listener": "listener",
    "pool": "pool",
    "health_monitor": "health monitor",
    "member": "member",
    "l7policy": "L7 policy",
    "l7rule": "L7 rule",
}


def _usage_model(resource: str) -> Any:
    return {
        "load_balancer": models.LoadBalancerRow,
        "listener": models.ListenerRow,
        "pool": models.PoolRow,
        "health_monitor": models.HealthMonitorRow,
        "member": models.MemberRow,
        "l7policy": getattr(models, "L7PolicyRow", None),
        "l7rule": getattr(models, "L7RuleRow", None),
    }[resource]


def session_defaults(session: Session) -> dict[str, int]:
    configured: Mapping[str, int] = session.info.get(SESSION_DEFAULTS_KEY, {})
    return {r: int(configured.get(r, UNLIMITED)) for r in QUOTA_RESOURCES}


def _check_resource(resource: str) -> None:
    if resource not in QUOTA_RESOURCES:
        raise ValueError(f"unknown quota resource {resource!r}")


def usage(session: Session, project_id: str, resource: str) -> int:
    """Objects of the project that count against its quota. As in Octavia, an object being
    deleted still counts until its deletion completes."""
    model = _usage_model(resource)
    if model is None:
        return 0
    with session.no_autoflush:  # objects the caller added but not flushed are not yet counted
        return int(
            session.scalar(
                select(func.count()).select_from(model).where(model.project_id == project_id)
            )
            or 0
        )


def _locked_row(session: Session, project_id: str) -> QuotaRow:
    """The project's quota row, created if missing and locked FOR UPDATE until the end of the
    caller's transaction: concurrent reservations of one project queue up here, so each one
    counts usage after the previous one committed its objects."""
    session.execute(pg_insert(QuotaRow).values(project_id=project_id).on_conflict_do_nothing())
    return session.execute(
        select(QuotaRow)
        .where(QuotaRow.project_id == project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _limit(row: Any, resource: str, defaults: Mapping[str, int]) -> int:
    value = getattr(row, resource) if row is not None else None
    return defaults[resource] if value is None else value


_NOT_READ = object()


def explicit_limit(resource: str) -> Any:
    """A scalar subquery for a caller's own query: the project's (bind parameter `project_id`)
    explicit limit on `resource` as committed, NULL when it has none (no quota row, or the
    default). Its answer is reserve()'s `explicit`: one round trip fewer for a create."""
    _check_resource(resource)
    column = getattr(_quota_table.c, resource)
    return (
        select(column).where(_quota_table.c.project_id == bindparam("project_id")).scalar_subquery()
    )


def reserve(
    session: Session,
    project_id: str,
    resource: str,
    count: int = 1,
    *,
    explicit: int | None | object = _NOT_READ,
) -> None:
    """Checks that the project may create `count` more objects of `resource`, in the caller's
    transaction, before the caller adds them; raises QuotaExceeded otherwise.

    Call it before session.add() of the new objects (they must not be counted twice) and inside
    the transaction that creates them: when the resource is limited, the quota row stays locked
    until that transaction ends, so N concurrent creates against a limit of L end with exactly
    min(N, L) objects. When it is unlimited (-1, explicitly or by default) nothing is locked or
    counted, as in Octavia: unlimited projects' creates do not queue behind each other.

    explicit: what the caller's query read with explicit_limit(resource), so the quota row is
    not read again to learn that nothing is limited (a limited resource is locked and read
    again all the same)."""
    if explicit is not _NOT_READ and count > 0:
        _check_resource(resource)
        default = session_defaults(session)[resource]
        if default == UNLIMITED and explicit in (None, UNLIMITED):
            return
    reserve_many(session, project_id, {resource: count})


_quota_table = QuotaRow.__table__
# Built once (its cache key is kept on it): every create runs it.
_LIMITS = select(_quota_table).where(_quota_table.c.project_id == bindparam("project_id"))


def _unlocked_row(session: Session, project_id: str) -> Any:
    """The project's quota limits as committed (no lock), as a plain row: only to learn whether
    a limit applies (every create asks, so no ORM object is built)."""
    return session.connection().execute(_LIMITS, {"project_id": project_id}).one_or_none()


def reserve_many(session: Session, project_id: str, counts: Mapping[str, int]) -> None:
    """reserve() for several resources at once (a fully populated load balancer): one read of
    the quota row, and the lock plus a usage count only for the limited resources."""
    for resource in counts:
        _check_resource(resource)
    wanted = {r: c for r, c in counts.items() if c > 0}
    if not wanted:
        return
    defaults = session_defaults(session)
    if all(defaults[r] == UNLIMITED for r in wanted):
        row = _unlocked_row(session, project_id)
        if row is None or all(_limit(row, r, defaults) == UNLIMITED for r in wanted):
            return
    # Some resource is limited: serialize on the project's row, then read the limits again
    # (they may have changed before the lock was granted) and count under the lock.
    row = _locked_row(session, project_id)
    for resource, count in wanted.items():
        limit = _limit(row, resource, defaults)
        if limit == UNLIMITED:
            continue
        used = usage(session, project_id, resource)
        if used + count > limit:
            raise QuotaExceeded(
                f"Quota has been met for resources: {_NAMES[resource]} "
                f"(limit {limit}, in use {used}, requested {count}).",
                field=resource,
            )


# -- the quota API ---------------------------------------------------------------------------


def _require_project(project_id: str) -> None:
    if not project_id:
        raise InvalidInput("A project_id is required.", field="project_id")


def effective(session: Session, project_id: str) -> dict[str, int]:
    """Limits in force for the project: explicit values, else the defaults."""
    _require_project(project_id)
    row = session.get(QuotaRow, project_id)
    defaults = session_defaults(session)
    return {r: _limit(row, r, defaults) for r in QUOTA_RESOURCES}


def usage_of(session: Session, project_id: str) -> dict[str, int]:
    _require_project(project_id)
    return {r: usage(session, project_id, r) for r in QUOTA_RESOURCES}


def explicit(row: QuotaRow) -> dict[str, int]:
    """Only the limits set for the project (unset ones follow the defaults)."""
    return {r: getattr(row, r) for r in QUOTA_RESOURCES if getattr(row, r) is not None}


def list_explicit(session: Session, project_id: str = "") -> list[QuotaRow]:
    """Projects with at least one explicit limit."""
    query = select(QuotaRow).order_by(QuotaRow.project_id)
    if project_id:
        query = query.where(QuotaRow.project_id == project_id)
    return [row for row in session.scalars(query) if explicit(row)]


def validate_limit(resource: str, value: int) -> None:
    if value < UNLIMITED or value > MAX_QUOTA:
        raise InvalidInput(
            f"Invalid quota {value} for {resource}: use -1 (unlimited) to {MAX_QUOTA}.",
            field=resource,
        )


def update(
    session: Session, project_id: str, values: Mapping[str, int | None], paths: Iterable[str]
) -> dict[str, int]:
    """Sets the limits named by paths (a FieldMask over Quota); a named limit missing from
    values goes back to the default. Returns the effective limits."""
    _require_project(project_id)
    paths = list(paths)
    for path in paths:
        if path not in QUOTA_RESOURCES:
            raise InvalidInput(f"Unknown quota field {path!r}.", field=path)
    for path in paths:
        value = values.get(path)
        if value is not None:
            validate_limit(path, value)
    row = _locked_row(session, project_id)
    for path in paths:
        setattr(row, path, values.get(path))
    session.flush()
    return effective(session, project_id)


def reset(session: Session, project_id: str) -> None:
    """Back to the defaults. NotFound when the project never had a quota row (as Octavia)."""
    _require_project(project_id)
    row = session.execute(
        select(QuotaRow).where(QuotaRow.project_id == project_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Quota for project {project_id} not found.", field="project_id")
    for resource in QUOTA_RESOURCES:
        setattr(row, resource, None)


def reserve_loadbalancer(session: Session, project_id: str, plan: Any = None) -> None:
    """reserve() for a new load balancer and, when fully populated, everything under it
    (plan: service_layer.graph.Plan with .listeners and .pools as nested dicts)."""
    listeners = list(getattr(plan, "listeners", None) or [])
    pools = list(getattr(plan, "pools", None) or [])
    policies = [p for li in listeners for p in li.get("l7policies") or []]
    reserve_many(
        session,
        project_id,
        {
            "load_balancer": 1,
            "listener": len(listeners),
            "pool": len(pools),
            "member": sum(len(p.get("members") or []) for p in pools),
            "health_monitor": sum(1 for p in pools if p.get("healthmonitor") is not None),
            "l7policy": len(policies),
            "l7rule": sum(len(p.get("rules") or []) for p in policies),
        },
    )


def reserve_member_batch(
    session: Session,
    project_id: str,
    current: Iterable[tuple[str, int]],
    wanted: Iterable[Mapping[str, Any]],
    additive_only: bool,
) -> None:
    """reserve() for a batch member update: the net number of members it adds (new ones minus,
    unless additive_only, the ones it removes)."""
    current_keys = set(current)
    wanted_keys = {(w["address"], w["protocol_port"]) for w in wanted}
    added = len(wanted_keys - current_keys)
    removed = 0 if additive_only else len(current_keys - wanted_keys)
    reserve(session, project_id, "member", added - removed)
