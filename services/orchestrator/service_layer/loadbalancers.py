"""Load balancer use cases: create (with VIP allocation), read, update, delete (cascade)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput, Unsupported
from services.orchestrator.adapters.db.models import ListenerRow, LoadBalancerRow, PoolRow
from services.orchestrator.domain import rules, sizes, status
from services.orchestrator.service_layer import catalog, graph, l7, quotas
from services.orchestrator.service_layer.common import (
    Deps,
    Scope,
    accept_change,
    accept_created,
    alive,
    apply_changes,
    backend_check,
    ensure_mutable,
    get_scoped,
    lock_loadbalancer,
    mark_updated,
    new_id,
)


@dataclass(frozen=True)
class _Checked:
    """A create request checked before any write: what its rows are built from."""

    id: str
    owner: str
    plan: graph.Plan
    topology: str
    backend: str
    vnic_type: str


def _check_create(session: Session, scope: Scope, fields: dict[str, Any], deps: Deps) -> _Checked:
    check = backend_check(session)
    if check is not None:
        # The backend check of the transaction (the feature gate) answers first, as it does for
        # every change: with the backend the flavor gives (the default for no flavor or one that
        # does not exist, which is reported below). Its rows are read again below from the
        # session, not the database.
        check(session, catalog.flavor_backend(session, fields["flavor_id"]))
    vnic_type = fields.get("vip_vnic_type") or "normal"
    message = rules.not_one_of(vnic_type, rules.VNIC_TYPES)
    if message is not None:
        raise InvalidInput(message, field="vip_vnic_type")
    for index, extra in enumerate(fields.get("additional_vips") or ()):
        if not extra["subnet_id"]:
            raise InvalidInput(
                "An additional VIP needs a subnet_id.", field=f"additional_vips[{index}].subnet_id"
            )
    lb_id = new_id(fields["id"])
    owner = scope.owner_for_create(fields["project_id"])
    plan = graph.plan(fields.get("listeners") or [], fields.get("pools") or [])
    flavor_data = catalog.validate_loadbalancer(session, fields)
    # A flavor's loadbalancer_topology decides, as in Octavia; a topology the compute driver
    # cannot build (ACTIVE_STANDBY on `local`) is refused rather than silently built otherwise.
    topology = flavor_data.get("loadbalancer_topology") or fields.get("topology") or "SINGLE"
    field = "flavor_id" if flavor_data.get("loadbalancer_topology") else "topology"
    if topology not in rules.TOPOLOGIES:
        raise InvalidInput(f"Invalid topology {topology!r}.", field="topology")
    if topology not in deps.topologies:
        raise Unsupported.option(
            f"The {topology} topology is not available with the configured compute driver "
            f"(available: {', '.join(deps.topologies)}).",
            provider=fields["provider"] or "amphora",
            field=field,
        )
    # The size too: the catalog may have lost it since the flavor profile was made.
    sizes.check(dict(deps.sizes), catalog.compute_flavor(flavor_data), "flavor_id")
    # The backend is decided once: editing the flavor later never moves a running load balancer.
    backend = catalog.backend(flavor_data)
    if topology == "ACTIVE_STANDBY" and backend not in rules.ACTIVE_STANDBY_BACKENDS:
        raise Unsupported.option(
            f"The ACTIVE_STANDBY topology is not available with the {backend} backend.",
            provider=fields["provider"] or "amphora",
            field="flavor_id",
        )
    return _Checked(lb_id, owner, plan, topology, backend, vnic_type)


def _new_row(
    session: Session, deps: Deps, fields: dict[str, Any], checked: _Checked
) -> LoadBalancerRow:
    """The load balancer's row (not added to the session) with its VIP allocated."""
    vip = deps.network.allocate_vip(
        session,
        loadbalancer_id=checked.id,
        project_id=checked.owner,
        subnet_id=fields["vip_subnet_id"],
        network_id=fields["vip_network_id"],
        requested_address=fields["vip_address"],
    )
    return LoadBalancerRow(
        id=checked.id,
        project_id=checked.owner,
        name=fields["name"],
        description=fields["description"],
        admin_state_up=fields["admin_state_up"],
        tags=fields["tags"],
        # validate_loadbalancer checked it; "octavia" is the amphora provider's alias.
        provider=catalog.PROVIDERS_CANONICAL.get(fields["provider"] or "amphora", "amphora"),
        flavor_id=fields["flavor_id"],
        availability_zone=fields["availability_zone"],
        topology=checked.topology,
        backend=checked.backend,
        vip_address=vip.address,
        vip_port_id=vip.port_id,
        vip_subnet_id=vip.subnet_id,
        vip_network_id=vip.network_id,
        vip_qos_policy_id=fields["vip_qos_policy_id"],
        vip_vnic_type=checked.vnic_type,
        vip_sg_ids=fields.get("vip_sg_ids") or [],
        additional_vips=fields.get("additional_vips") or [],
        provisioning_status=status.PENDING_CREATE,
        operating_status=status.OFFLINE,
        desired_version=0,
        applied_version=0,
        reconcile_failures=0,
    )


def create(session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]) -> LoadBalancerRow:
    """A load balancer, optionally fully populated: fields["listeners"] / fields["pools"] hold
    nested specs (codec.decode.loadbalancer_fields). Everything is checked before any write;
    every object starts PENDING_CREATE and one reconcile builds them all."""
    if is_plain(fields):
        [lb] = create_plain_many(session, deps, [(scope, fields)])
        return lb
    checked = _check_create(session, scope, fields, deps)
    quotas.reserve_loadbalancer(session, checked.owner, checked.plan)
    lb = _new_row(session, deps, fields, checked)
    session.add(lb)
    session.flush()
    graph.write(session, lb, checked.plan)
    session.refresh(lb)
    accept_change(session, deps, lb, created=True)
    return lb


def is_plain(fields: dict[str, Any]) -> bool:
    """A create with nothing nested under the load balancer (create_plain_many can take it)."""
    return not fields.get("listeners") and not fields.get("pools")


def create_plain_many(
    session: Session, deps: Deps, requests: list[tuple[Scope, dict[str, Any]]]
) -> list[LoadBalancerRow]:
    """Several plain creates (is_plain) in one transaction, all or none, with one quota
    reservation per project, one INSERT for all the rows and one statement deferring all their
    jobs (create takes a single plain one this way too). Any error fails the whole call; the
    caller then runs each request through create on its own, which attributes errors (a quota
    that admits some of them, a conflicting address, a backend check that refuses one flavor's
    backend) to the request that causes them."""
    checked = [_check_create(session, scope, fields, deps) for scope, fields in requests]
    wanted = Counter(c.owner for c in checked)
    for owner, count in wanted.items():
        quotas.reserve_many(session, owner, {"load_balancer": count})
    rows = []
    for (_, fields), one in zip(requests, checked, strict=True):
        lb = _new_row(session, deps, fields, one)
        # Nothing under it: its collections are known to be empty (no lazy loads when it is
        # encoded), and its row is written, still outside the session, with the others.
        lb.listeners, lb.pools = [], []
        rows.append(lb)
    accept_created(session, deps, rows)
    return rows


def get(session: Session, scope: Scope, lb_id: str) -> LoadBalancerRow:
    return get_scoped(session, LoadBalancerRow, lb_id, scope, "Load Balancer")


def list_(session: Session, scope: Scope) -> list[LoadBalancerRow]:
    query = select(LoadBalancerRow).order_by(LoadBalancerRow.created_at, LoadBalancerRow.id)
    if not scope.all_projects:
        query = query.where(LoadBalancerRow.project_id == scope.project_id)
    return list(session.scalars(query))


# The columns a list shows (codec.encode.loadbalancer_summary): no ORM objects are built.
SUMMARY_COLUMNS = tuple(
    getattr(LoadBalancerRow, name)
    for name in (
        "id",
        "project_id",
        "name",
        "description",
        "admin_state_up",
        "provisioning_status",
        "operating_status",
        "created_at",
        "updated_at",
        "tags",
        "vip_address",
        "vip_port_id",
        "vip_subnet_id",
        "vip_network_id",
        "vip_qos_policy_id",
        "provider",
        "flavor_id",
        "availability_zone",
        "topology",
        "desired_version",
        "vip_vnic_type",
        "vip_sg_ids",
        "additional_vips",
        "status_reason",
    )
)


@dataclass(frozen=True)
class Summaries:
    """A list of load balancers: their rows (SUMMARY_COLUMNS, in list order) and the ids of
    their listeners and pools (by load balancer id, in creation order, as the show view)."""

    rows: list[Any]
    listener_ids: dict[str, list[str]]
    pool_ids: dict[str, list[str]]


def _child_ids(session: Session, model: Any, scope: Scope) -> dict[str, list[str]]:
    query = select(model.load_balancer_id, model.id).order_by(model.created_at)
    if not scope.all_projects:
        query = query.join(LoadBalancerRow, LoadBalancerRow.id == model.load_balancer_id).where(
            LoadBalancerRow.project_id == scope.project_id
        )
    out: dict[str, list[str]] = {}
    for lb_id, child_id in session.execute(query):
        out.setdefault(lb_id, []).append(child_id)
    return out


def list_summaries(session: Session, scope: Scope) -> Summaries:
    """What list_ gives, as plain rows in three queries (no per-row ORM work, no N+1)."""
    query = select(*SUMMARY_COLUMNS).order_by(LoadBalancerRow.created_at, LoadBalancerRow.id)
    if not scope.all_projects:
        query = query.where(LoadBalancerRow.project_id == scope.project_id)
    rows = list(session.execute(query))
    if not rows:
        return Summaries(rows, {}, {})
    return Summaries(
        rows, _child_ids(session, ListenerRow, scope), _child_ids(session, PoolRow, scope)
    )


def update(
    session: Session, deps: Deps, scope: Scope, lb_id: str, changes: dict[str, Any]
) -> LoadBalancerRow:
    lb = lock_loadbalancer(session, lb_id, scope, field="id")
    if not changes:
        return lb
    ensure_mutable(lb)
    apply_changes(lb, changes)
    mark_updated(lb)
    accept_change(session, deps, lb)
    return lb


def delete(session: Session, deps: Deps, scope: Scope, lb_id: str, cascade: bool) -> None:
    lb = lock_loadbalancer(session, lb_id, scope, field="id")
    if lb.provisioning_status == status.PENDING_DELETE:
        return  # already being deleted: deleting again is a no-op
    children = [*filter(alive, lb.listeners), *filter(alive, lb.pools)]
    if children and not cascade:
        # Octavia's ValidationException: a 400, not a conflict.
        raise InvalidInput(
            f"Validation failure: Cannot delete Load Balancer {lb.id} - it has children"
        )
    for listener in lb.listeners:
        listener.provisioning_status = status.PENDING_DELETE
        l7.mark_listener_policies_deleted(listener)
    for pool in lb.pools:
        pool.provisioning_status = status.PENDING_DELETE
        for member in pool.members:
            member.provisioning_status = status.PENDING_DELETE
        for hm in pool.health_monitors:
            hm.provisioning_status = status.PENDING_DELETE
    lb.provisioning_status = status.PENDING_DELETE
    accept_change(session, deps, lb)
