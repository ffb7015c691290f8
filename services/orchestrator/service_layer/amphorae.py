"""Amphora administration: views with operator fields, configure, failover, delete."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput, NotFound, Precondition
from services.orchestrator.adapters.db.models import AmphoraRow, LoadBalancerRow
from services.orchestrator.codec import encode
from services.orchestrator.domain import pairs, status
from services.orchestrator.domain.amphora_lifecycle import (
    ALLOCATED,
    BOOTING,
    DELETABLE,
    PENDING_DELETE,
    move,
)
from services.orchestrator.service_layer import catalog
from services.orchestrator.service_layer.common import (
    Deps,
    Scope,
    accept_change,
    lock_loadbalancer,
)


def _timestamp(value) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


_VRRP_PORT_NAMESPACE = uuid.UUID("0b3f5d0e-4c1a-5e7b-9d2f-8a6c4e1b7f30")


def view(session: Session, row: AmphoraRow) -> pb.Amphora:
    out = encode.amphora(row)
    lb = session.get(LoadBalancerRow, row.load_balancer_id) if row.load_balancer_id else None
    out.ha_port_id = (lb.vip_port_id if lb is not None else "") or ""
    out.vrrp_port_id = str(uuid.uuid5(_VRRP_PORT_NAMESPACE, row.id))
    out.lb_network_ip = row.lb_network_ip or ""
    out.status_reason = row.status_reason or ""
    out.applied_renderer_version = row.applied_renderer_version or ""
    out.compute_flavor = row.compute_flavor or ""
    for name, value in (
        ("created_at", row.created_at),
        # Octavia's amphora is updated once allocated; a row never updated shows its creation.
        ("updated_at", row.updated_at or row.created_at),
        ("cert_expiration", row.cert_expiration),
    ):
        ts = _timestamp(value)
        if ts is not None:
            getattr(out, name).CopyFrom(ts)
    return out


def get(session: Session, amphora_id: str) -> AmphoraRow:
    row = session.get(AmphoraRow, amphora_id) if amphora_id else None
    if row is None:
        raise NotFound(f"Amphora {amphora_id} not found.", field="id")
    return row


def list_(session: Session, lb_id: str = "") -> list[AmphoraRow]:
    query = select(AmphoraRow).order_by(AmphoraRow.created_at, AmphoraRow.id)
    if lb_id:
        query = query.where(AmphoraRow.load_balancer_id == lb_id)
    return list(session.scalars(query))


def _locked(session: Session, amphora_id: str) -> AmphoraRow:
    row = (
        session.execute(
            select(AmphoraRow)
            .where(AmphoraRow.id == amphora_id)
            .with_for_update()
            # The row may already be in the session (read before the lock): what the lock
            # protects must be read again, or a test-and-set would test a stale value.
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if amphora_id
        else None
    )
    if row is None:
        raise NotFound(f"Amphora {amphora_id} not found.", field="id")
    return row


def _failover_allowed(lb) -> None:
    """As Octavia: a load balancer that is being changed cannot be failed over (409)."""
    if status.is_pending(lb.provisioning_status):
        raise Precondition(
            f"Invalid state {lb.provisioning_status} of loadbalancer resource {lb.id}.",
            field="id",
        )


def _spare_removed(row: AmphoraRow) -> bool:
    """A spare asked to be failed over or deleted is removed (housekeeping deletes it and fills
    the pool again). False when it was already being removed."""
    if row.status == PENDING_DELETE:
        return False
    row.status = move(row.status, PENDING_DELETE)
    return True


def configure(session: Session, deps: Deps, amphora_id: str, *, drift: bool = False) -> bool:
    """Re-renders and re-pushes the amphora's configuration: one reconcile pass whose push is
    forced (the agent validates, swaps and reloads even an identical config). The load
    balancer's status does not change (as Octavia's amphora configure).

    drift (the health service saw the amphora run another config than the one recorded): not
    claimed (False) when the amphora is not serving, is being replaced, or its load balancer has
    a change in flight, whose pass pushes the config anyway."""
    row = get(session, amphora_id)
    if row.load_balancer_id is None:
        if drift:
            return False
        raise Precondition(f"Amphora {row.id} serves no load balancer.", field="id")
    lb = lock_loadbalancer(session, row.load_balancer_id, Scope(all_projects=True), field="id")
    if lb.provisioning_status == status.PENDING_DELETE:
        if drift:
            return False
        raise Precondition(f"Load Balancer {lb.id} is being deleted.", field="id")
    row = _locked(session, amphora_id)
    if drift and (
        status.is_pending(lb.provisioning_status)
        or row.status != ALLOCATED
        or row.failover_requested
        or row.configure_requested
    ):
        return False
    row.configure_requested = True
    session.flush()
    deps.queue.enqueue(session, lb.id)
    return True


def failover_amphora(
    session: Session, deps: Deps, amphora_id: str, *, automatic: bool = False
) -> bool:
    """Marks the amphora for replacement; the next pass builds a new amphora (new id, new
    certificate; a ready spare when there is one), pushes the config to it, then deletes this
    one. The load balancer is PENDING_UPDATE meanwhile.

    The mark is the claim: a test-and-set on the amphora row under the load balancer's lock, so
    of several callers (health replicas) exactly one gets True. An operator's failover
    (automatic False) is refused while the load balancer has a change in flight, as in Octavia;
    an automatic one (the amphora went silent) is accepted then, and the change is folded into
    the replacement's config. A spare is removed instead (housekeeping replaces it)."""
    row = get(session, amphora_id)
    if row.load_balancer_id is None:
        row = _locked(session, amphora_id)
        if row.load_balancer_id is None:  # still a spare (a pass may have just taken it)
            return _spare_removed(row)
    lb = lock_loadbalancer(session, row.load_balancer_id, Scope(all_projects=True), field="id")
    if automatic:
        if lb.provisioning_status == status.PENDING_DELETE:
            return False  # its amphorae are being deleted anyway
    else:
        _failover_allowed(lb)
    row = _locked(session, amphora_id)
    if row.failover_requested or row.status == PENDING_DELETE:
        return False
    if automatic and row.status == BOOTING:
        # Being built (or rebuilt in place) by a pass, which waits for its agent itself; its
        # heartbeats may pause while it (re)starts. Failing it over would build a second one.
        return False
    row.failover_requested = True
    # An operator's failover is planned: the amphora is drained before it goes. A silent one
    # is not waited for.
    row.drain_requested = not automatic
    accept_change(session, deps, lb)
    return True


def failover_loadbalancer(session: Session, deps: Deps, scope: Scope, lb_id: str) -> None:
    lb = lock_loadbalancer(session, lb_id, scope, field="id")
    _failover_allowed(lb)
    _replace_all(session, deps, lb)


def _replace_all(session: Session, deps: Deps, lb: Any) -> None:
    """Marks every amphora of the load balancer for a planned replacement: each is drained
    before it goes; a pair keeps its serving MASTER until its BACKUP is rebuilt."""
    for row in session.scalars(
        select(AmphoraRow).where(AmphoraRow.load_balancer_id == lb.id).with_for_update()
    ):
        row.failover_requested = True
        row.drain_requested = True
    accept_change(session, deps, lb)


def resize_loadbalancer(
    session: Session, deps: Deps, scope: Scope, lb_id: str, flavor_id: str
) -> None:
    """Moves the load balancer to another flavor (an extension: Octavia has none): the same
    topology and backend, another compute size. Its amphorae are replaced as in a failover of
    the load balancer, by amphorae of the new size (the pass builds replacements from the
    flavor the load balancer has then), each drained before it goes: a pair's BACKUP first,
    then its MASTER, whose BACKUP (already resized) takes the VIP; a single amphora beside its
    replacement, which takes the VIP once drained. Refused (409) while a change is in flight."""
    if not flavor_id:
        raise InvalidInput("flavor_id is required.", field="flavor_id")
    lb = lock_loadbalancer(session, lb_id, scope, field="id")
    data = catalog.flavor_data_of(session, flavor_id, lb.provider or "amphora")
    topology = data.get("loadbalancer_topology") or pairs.SINGLE
    if topology != lb.topology:
        raise InvalidInput(
            f"Flavor {flavor_id} has the {topology} topology; a resize keeps the load "
            f"balancer's ({lb.topology}).",
            field="flavor_id",
        )
    if catalog.backend(data) != lb.backend:
        raise InvalidInput(
            f"Flavor {flavor_id} runs {catalog.backend(data)}; a resize keeps the load "
            f"balancer's backend ({lb.backend}).",
            field="flavor_id",
        )
    catalog.buildable_by(deps, data, "flavor_id")
    _failover_allowed(lb)
    lb.flavor_id = flavor_id
    _replace_all(session, deps, lb)


def delete(session: Session, deps: Deps, amphora_id: str) -> None:
    """Removes a broken (ERROR) or spare (READY) amphora; a serving one is refused (409). The
    compute resource goes in the load balancer's next pass, which also builds a replacement if
    the load balancer is left without one; a spare's goes with housekeeping."""
    row = get(session, amphora_id)
    if row.load_balancer_id is None:
        row = _locked(session, amphora_id)
    if row.load_balancer_id is None:  # a spare
        if row.status != PENDING_DELETE and row.status not in DELETABLE:
            raise Precondition(
                f"Amphora {row.id} is {row.status}; only amphorae in ERROR or READY can be "
                "deleted.",
                field="id",
            )
        _spare_removed(row)
        return
    lb = lock_loadbalancer(session, row.load_balancer_id, Scope(all_projects=True), field="id")
    row = _locked(session, amphora_id)
    if row.status == PENDING_DELETE:
        return
    if row.status not in DELETABLE:
        raise Precondition(
            f"Amphora {row.id} is {row.status}; only amphorae in ERROR or READY can be deleted.",
            field="id",
        )
    row.status = move(row.status, PENDING_DELETE)
    session.flush()
    deps.queue.enqueue(session, lb.id)
