"""What every use case shares: scoping, locking the owning load balancer, accepting a change."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from services.common.errors import (
    POLICY_FORBIDDEN,
    Forbidden,
    InvalidInput,
    NotFound,
    Precondition,
)
from services.orchestrator.adapters.db.models import LoadBalancerRow, insert_new
from services.orchestrator.domain import status
from services.orchestrator.domain.ports import NetworkDriver
from services.orchestrator.domain.sizes import DEFAULT_CATALOG, Size

Row = TypeVar("Row")
T = TypeVar("T")

# A check of a write against the backend of its load balancer (the feature gate: Unsupported,
# 501, for what that backend's renderer cannot render), run in the write's transaction where it
# finds the load balancer: check(session, backend). Installed by the caller for one transaction
# (with_backend_check), so no use case takes it as a parameter.
BackendCheck = Callable[[Session, str], None]
_BACKEND_CHECK = "lbaas_backend_check"


@dataclass(frozen=True)
class Scope:
    """all_projects: an administrator acting on every project; else only project_id's objects."""

    project_id: str = ""
    all_projects: bool = False

    def sees(self, project_id: str) -> bool:
        return self.all_projects or (bool(self.project_id) and project_id == self.project_id)

    def owner_for_create(self, requested: str) -> str:
        if self.all_projects:
            owner = requested or self.project_id
        else:
            if requested and requested != self.project_id:
                raise Forbidden(POLICY_FORBIDDEN, field="project_id")
            owner = self.project_id
        if not owner:
            raise InvalidInput("A project_id is required.", field="project_id")
        return owner


class ReconcileQueue(Protocol):
    def enqueue(
        self,
        session: Session,
        loadbalancer_id: str,
        *,
        delay: float | None = None,
        created: bool = False,
    ) -> bool:
        """Defers a reconcile of the load balancer in the session's transaction, due now or
        after `delay` seconds. A waiting job due later (a retry backing off) is brought forward
        to this one's time. True when this call wrote the job that will run; False when a job
        due no later was already queued (it will see this change). created: the load balancer
        is inserted by this transaction, so no job of it can be queued yet."""
        ...

    def enqueue_created(self, session: Session, loadbalancer_ids: list[str]) -> None:
        """enqueue(created=True) for several load balancers, in one statement."""
        ...


@dataclass(frozen=True)
class Deps:
    network: NetworkDriver
    queue: ReconcileQueue
    # The topologies the configured compute driver can build (config.TOPOLOGIES_BY_DRIVER).
    topologies: tuple[str, ...] = ("SINGLE",)
    # The compute sizes a flavor may name (config.Settings.compute_flavors).
    sizes: Mapping[str, Size] = field(default_factory=lambda: dict(DEFAULT_CATALOG))


def new_id(requested: str) -> str:
    if not requested:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(requested))
    except ValueError:
        raise InvalidInput(f"Invalid id {requested!r}.", field="id") from None


def get_scoped(
    session: Session, model: type[Row], id: str, scope: Scope, what: str, field: str = "id"
) -> Row:
    row = session.get(model, id) if id else None
    if row is None:
        raise NotFound(f"{what} {id} not found.", field=field)
    check_project(scope, row.project_id, field)  # type: ignore[attr-defined]
    return row


def check_project(scope: Scope, project_id: str, field: str = "id") -> None:
    """Forbidden (403) when an existing object is of a project the scope does not act on, as
    Octavia's policy check on the object's project, which comes before anything else."""
    if not scope.sees(project_id):
        raise Forbidden(POLICY_FORBIDDEN, field=field)


def with_backend_check(check: BackendCheck, work: Callable[[Session], T]) -> Callable[[Session], T]:
    """work, with check installed in its session: lock_loadbalancer (every child create and
    update, after finding the object) and a load balancer create (with its flavor's backend)
    run it, so the write is refused, and rolled back, in the transaction that finds the
    backend."""

    def checked(session: Session) -> T:
        session.info[_BACKEND_CHECK] = check
        return work(session)

    return checked


def backend_check(session: Session) -> BackendCheck | None:
    """The check installed in the session's transaction (with_backend_check), if any."""
    return session.info.get(_BACKEND_CHECK)


def lock_loadbalancer(
    session: Session, lb_id: str, scope: Scope, field: str = "loadbalancer_id"
) -> LoadBalancerRow:
    """The load balancer, locked FOR UPDATE: changes to one load balancer are serialized, so
    conflict checks and version bumps cannot race. The backend check of the transaction, if
    any, runs here: after a 404 or 403 for the load balancer (or, in the caller, its child),
    before the use case's own checks."""
    lb = (
        session.execute(
            select(LoadBalancerRow).where(LoadBalancerRow.id == lb_id).with_for_update()
        ).scalar_one_or_none()
        if lb_id
        else None
    )
    if lb is None:
        raise NotFound(f"Load Balancer {lb_id} not found.", field=field)
    return _locked(session, lb, scope, field)


def _locked(session: Session, lb: LoadBalancerRow, scope: Scope, field: str) -> LoadBalancerRow:
    """What lock_loadbalancer checks once the row is locked: its project, then the backend."""
    check_project(scope, lb.project_id, field)
    check = backend_check(session)
    if check is not None:
        check(session, lb.backend)
    return lb


def get_scoped_locking(
    session: Session,
    model: type[Row],
    id: str,
    scope: Scope,
    what: str,
    field: str = "id",
    lb_field: str = "loadbalancer_id",
) -> tuple[Row, LoadBalancerRow]:
    """get_scoped of a row that names its load balancer (a pool, a listener), then
    lock_loadbalancer of that load balancer, in one query: the same answers in the same order
    (the row's 404 and 403 first), one round trip fewer on every change to its children."""
    found = session.execute(_row_and_locked_lb(model), {"id": id}).one_or_none() if id else None
    if found is None:
        raise NotFound(f"{what} {id} not found.", field=field)
    row, lb = found
    check_project(scope, row.project_id, field)  # type: ignore[attr-defined]
    return row, _locked(session, lb, scope, lb_field)


@functools.cache
def _row_and_locked_lb(model: type[Row]) -> Any:
    # Built once per model (SQLAlchemy keeps its cache key on the statement).
    return (
        select(model, LoadBalancerRow)
        .join(LoadBalancerRow, model.load_balancer_id == LoadBalancerRow.id)  # type: ignore[attr-defined]
        .where(model.id == bindparam("id"))  # type: ignore[attr-defined]
        .with_for_update(of=LoadBalancerRow)
    )


def ensure_mutable(lb: LoadBalancerRow, row: Any | None = None) -> None:
    if lb.provisioning_status == status.PENDING_DELETE:
        raise Precondition(f"Load Balancer {lb.id} is being deleted.", field="loadbalancer_id")
    if row is not None and row.provisioning_status == status.PENDING_DELETE:
        raise Precondition(f"{type(row).__name__.removesuffix('Row')} {row.id} is being deleted.")


def accept_change(
    session: Session, deps: Deps, lb: LoadBalancerRow, *, created: bool = False
) -> None:
    """Records that the load balancer's desired state changed and defers its reconcile, in the
    caller's transaction: the change and its job commit (or roll back) together. created: the
    load balancer is new in this transaction."""
    if lb.provisioning_status != status.PENDING_DELETE:
        lb.provisioning_status = status.lb_after_child_change(lb.provisioning_status)
    lb.desired_version += 1
    lb.reconcile_failures = 0
    if created:
        # As Octavia: a new object has not been updated. Written explicitly, so the UPDATE that
        # records the change does not stamp it (onupdate).
        lb.updated_at = None
        flag_modified(lb, "updated_at")
    session.flush()
    deps.queue.enqueue(session, lb.id, created=created)


def accept_created(session: Session, deps: Deps, rows: list[LoadBalancerRow]) -> None:
    """accept_change for plain load balancers created by this transaction and not added to the
    session: their rows are written with one INSERT (no unit-of-work flush) and their jobs
    deferred with one statement."""
    for lb in rows:
        lb.provisioning_status = status.lb_after_child_change(lb.provisioning_status)
        lb.desired_version += 1
        lb.reconcile_failures = 0
    insert_new(session, rows)
    deps.queue.enqueue_created(session, [lb.id for lb in rows])


def mark_updated(row: Any) -> None:
    row.provisioning_status = status.after_update(row.provisioning_status)


def apply_changes(row: Any, changes: dict[str, Any]) -> None:
    for column, value in changes.items():
        setattr(row, column, value)


def alive(row: Any) -> bool:
    """Rows that still count for conflicts and children checks (not being deleted)."""
    return row.provisioning_status != status.PENDING_DELETE
