"""Listener use cases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import Conflict, InvalidInput
from services.orchestrator.adapters.db.models import ListenerRow, LoadBalancerRow, PoolRow
from services.orchestrator.domain import rules, status
from services.orchestrator.service_layer import certificates, l7, quotas
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

_TLS_COLUMNS = (
    "default_tls_container_ref",
    "sni_container_refs",
    "client_authentication",
    "client_ca_tls_container_ref",
    "client_crl_container_ref",
    "tls_versions",
    "tls_ciphers",
    "alpn_protocols",
    "hsts_max_age",
    "hsts_include_subdomains",
    "hsts_preload",
)


def check_listener(values: dict[str, Any], at: str = "") -> None:
    """Checks of a new listener's own values (no database needed); `at` prefixes field names
    (e.g. "listeners[0].") when the listener is nested in a load balancer create."""
    protocol, port = values["protocol"], values["protocol_port"]
    message = rules.not_one_of(protocol, rules.LISTENER_PROTOCOLS)
    if message is not None:
        raise InvalidInput(message, field=f"{at}protocol")
    if not rules.valid_port(port):
        raise InvalidInput(f"Invalid protocol_port {port}.", field=f"{at}protocol_port")
    _check_limits(values, at)
    check_tls(values, at)


def check_tls(values: dict[str, Any], at: str = "") -> None:
    """The protocol's rules over a listener's complete values: TLS, and the headers it inserts."""
    problems = (
        rules.listener_tls_problem(values),
        rules.insert_headers_problem(values.get("protocol", ""), values.get("insert_headers")),
    )
    for problem in problems:
        if problem is not None:
            raise InvalidInput(problem[1], field=f"{at}{problem[0]}")


def check_pool_protocol(protocol: str, pool_protocol: str, field: str) -> None:
    if protocol in rules.LISTENERS_WITHOUT_POOLS:
        raise InvalidInput(f"A {protocol} listener cannot have pools.", field=field)
    if not rules.pool_protocol_allowed(protocol, pool_protocol):
        raise InvalidInput(
            f"Listener protocol {protocol} and pool protocol {pool_protocol} are not compatible.",
            field=field,
        )


def check_allowed_cidrs(lb: LoadBalancerRow, values: dict[str, Any], at: str = "") -> None:
    if not values.get("allowed_cidrs"):
        return
    vips = [lb.vip_address, *(v.get("ip_address", "") for v in lb.additional_vips or ())]
    problem = rules.allowed_cidrs_problem(values["allowed_cidrs"], vips)
    if problem is not None:
        raise InvalidInput(problem, field=f"{at}allowed_cidrs")


def _check_default_pool(
    lb: LoadBalancerRow, protocol: str, pool_id: str | None, listener_id: str = ""
) -> None:
    if not pool_id:
        return
    pool = next((p for p in lb.pools if p.id == pool_id and alive(p)), None)
    if pool is None:
        raise InvalidInput(
            f"Pool {pool_id} not found on load balancer {lb.id}.", field="default_pool_id"
        )
    check_pool_protocol(protocol, pool.protocol, "default_pool_id")
    # The renderers give each listener's default pool its own backend settings (timeouts,
    # PROXY protocol): a pool is the default pool of one listener at most. Refused here, before
    # anything is written, rather than accepted and then failing in the renderer (ERROR).
    for other in filter(alive, lb.listeners):
        if other.id != listener_id and other.default_pool_id == pool_id:
            raise Conflict(
                f"Pool {pool_id} is already the default pool of listener {other.id}.",
                field="default_pool_id",
            )


def _check_limits(values: dict[str, Any], at: str = "") -> None:
    if values.get("connection_limit", -1) < -1:
        raise InvalidInput("connection_limit must be -1 or more.", field=f"{at}connection_limit")
    for name in ("timeout_client_data", "timeout_member_connect", "timeout_member_data"):
        if values.get(name, 0) < 0:
            raise InvalidInput(f"{name} must not be negative.", field=f"{at}{name}")


def create(session: Session, deps: Deps, scope: Scope, fields: dict[str, Any]) -> ListenerRow:
    lb = lock_loadbalancer(session, fields["load_balancer_id"], scope)
    ensure_mutable(lb)
    protocol, port = fields["protocol"], fields["protocol_port"]
    fields = rules.listener_defaults(fields, protocol)
    check_listener(fields)
    check_allowed_cidrs(lb, fields)
    certificates.check_listener_refs(session, lb.project_id, fields)
    for other in filter(alive, lb.listeners):
        if other.protocol_port == port and rules.transport(other.protocol) == rules.transport(
            protocol
        ):
            raise Conflict(
                f"Another listener on load balancer {lb.id} already uses port {port}.",
                field="protocol_port",
            )
    _check_default_pool(lb, protocol, fields["default_pool_id"], fields.get("id") or "")
    listener = ListenerRow(
        **{k: v for k, v in fields.items() if k != "id"},
        id=new_id(fields["id"]),
        project_id=lb.project_id,
        provisioning_status=status.PENDING_CREATE,
        operating_status=status.OFFLINE,
    )
    quotas.reserve(session, listener.project_id, "listener")
    session.add(listener)
    session.flush()
    session.refresh(lb)
    accept_change(session, deps, lb)
    return listener


def get(session: Session, scope: Scope, listener_id: str) -> ListenerRow:
    return get_scoped(session, ListenerRow, listener_id, scope, "Listener")


def list_(session: Session, scope: Scope, lb_id: str = "") -> list[ListenerRow]:
    query = select(ListenerRow).order_by(ListenerRow.created_at, ListenerRow.id)
    if not scope.all_projects:
        query = query.where(ListenerRow.project_id == scope.project_id)
    if lb_id:
        query = query.where(ListenerRow.load_balancer_id == lb_id)
    return list(session.scalars(query))


def update(
    session: Session, deps: Deps, scope: Scope, listener_id: str, changes: dict[str, Any]
) -> ListenerRow:
    listener = get(session, scope, listener_id)
    lb = lock_loadbalancer(session, listener.load_balancer_id, scope)
    if not changes:
        return listener
    ensure_mutable(lb, listener)
    changes = rules.listener_defaults(changes, listener.protocol, changes)
    _check_limits(changes)
    check_allowed_cidrs(lb, changes)
    if any(name in changes for name in (*_TLS_COLUMNS, "insert_headers")):
        current = {name: getattr(listener, name) for name in (*_TLS_COLUMNS, "insert_headers")}
        check_tls({**current, **changes, "protocol": listener.protocol})
        certificates.check_listener_refs(session, lb.project_id, changes)
    if "default_pool_id" in changes:
        _check_default_pool(lb, listener.protocol, changes["default_pool_id"], listener.id)
    apply_changes(listener, changes)
    mark_updated(listener)
    accept_change(session, deps, lb)
    return listener


def delete(session: Session, deps: Deps, scope: Scope, listener_id: str) -> None:
    listener = get(session, scope, listener_id)
    lb = lock_loadbalancer(session, listener.load_balancer_id, scope)
    if listener.provisioning_status == status.PENDING_DELETE:
        return
    ensure_mutable(lb)
    listener.provisioning_status = status.PENDING_DELETE
    l7.mark_listener_policies_deleted(listener)
    accept_change(session, deps, lb)


def pool_listeners(lb: LoadBalancerRow, pool: PoolRow) -> list[ListenerRow]:
    return [li for li in lb.listeners if li.default_pool_id == pool.id and alive(li)]
