"""SQLAlchemy tables of the load-balancer model (Octavia's columns and status names)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    insert,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Resource:
    """Columns every tenant resource carries (Octavia's base model)."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    provisioning_status: Mapped[str] = mapped_column(String(16))
    operating_status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), onupdate=_now)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)


class LoadBalancerRow(_Resource, Base):
    __tablename__ = "load_balancer"

    provider: Mapped[str] = mapped_column(String(64), default="amphora")
    flavor_id: Mapped[str] = mapped_column(String(36), default="")
    availability_zone: Mapped[str] = mapped_column(String(255), default="")
    topology: Mapped[str] = mapped_column(String(16), default="SINGLE")
    vip_address: Mapped[str] = mapped_column(String(64), default="")
    vip_port_id: Mapped[str] = mapped_column(String(36), default="")
    vip_subnet_id: Mapped[str] = mapped_column(String(36), default="")
    vip_network_id: Mapped[str] = mapped_column(String(36), default="")
    vip_qos_policy_id: Mapped[str] = mapped_column(String(36), default="")
    # Every accepted change increments desired_version; a successful reconcile of version V
    # records applied_version = V. They differ exactly while a change is in flight.
    desired_version: Mapped[int] = mapped_column(BigInteger, default=1)
    applied_version: Mapped[int] = mapped_column(BigInteger, default=0)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Consecutive reconcile passes that failed with a transient error (reset on success/change).
    reconcile_failures: Mapped[int] = mapped_column(Integer, default=0)
    vip_vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    vip_sg_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # [{"subnet_id": ..., "ip_address": ...}] in the order given.
    additional_vips: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    # The engine its amphorae run ("haproxy", "nginx"): the flavor's "backend" at create time,
    # kept so a later flavor edit never moves a running load balancer (migration 0007).
    backend: Mapped[str] = mapped_column(String(16), default="haproxy", server_default="haproxy")

    listeners: Mapped[list[ListenerRow]] = relationship(
        back_populates="loadbalancer", order_by="ListenerRow.created_at", passive_deletes=True
    )
    pools: Mapped[list[PoolRow]] = relationship(
        back_populates="loadbalancer", order_by="PoolRow.created_at", passive_deletes=True
    )


class ListenerRow(_Resource, Base):
    __tablename__ = "listener"

    load_balancer_id: Mapped[str] = mapped_column(
        ForeignKey("load_balancer.id", ondelete="CASCADE"), index=True
    )
    protocol: Mapped[str] = mapped_column(String(32))
    protocol_port: Mapped[int] = mapped_column(Integer)
    connection_limit: Mapped[int] = mapped_column(Integer, default=-1)
    default_pool_id: Mapped[str | None] = mapped_column(
        ForeignKey("pool.id", ondelete="SET NULL", use_alter=True, name="fk_listener_default_pool")
    )
    timeout_client_data: Mapped[int] = mapped_column(Integer, default=50000)
    timeout_member_connect: Mapped[int] = mapped_column(Integer, default=5000)
    timeout_member_data: Mapped[int] = mapped_column(Integer, default=50000)
    timeout_tcp_inspect: Mapped[int] = mapped_column(Integer, default=0)
    insert_headers: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    allowed_cidrs: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    default_tls_container_ref: Mapped[str] = mapped_column(String(255), default="")
    sni_container_refs: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    client_authentication: Mapped[str] = mapped_column(String(10), default="NONE")
    client_ca_tls_container_ref: Mapped[str] = mapped_column(String(255), default="")
    client_crl_container_ref: Mapped[str] = mapped_column(String(255), default="")
    tls_versions: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    tls_ciphers: Mapped[str] = mapped_column(String(2048), default="")
    alpn_protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    hsts_max_age: Mapped[int | None] = mapped_column(Integer)
    hsts_include_subdomains: Mapped[bool] = mapped_column(Boolean, default=False)
    hsts_preload: Mapped[bool] = mapped_column(Boolean, default=False)

    loadbalancer: Mapped[LoadBalancerRow] = relationship(back_populates="listeners")
    l7policies: Mapped[list[L7PolicyRow]] = relationship(
        back_populates="listener",
        order_by="[L7PolicyRow.position, L7PolicyRow.created_at]",
        passive_deletes=True,
    )


class PoolRow(_Resource, Base):
    __tablename__ = "pool"

    load_balancer_id: Mapped[str] = mapped_column(
        ForeignKey("load_balancer.id", ondelete="CASCADE"), index=True
    )
    protocol: Mapped[str] = mapped_column(String(32))
    lb_algorithm: Mapped[str] = mapped_column(String(32))
    # {"type", "cookie_name", "persistence_timeout", "persistence_granularity"} or None.
    session_persistence: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    tls_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    tls_container_ref: Mapped[str] = mapped_column(String(255), default="")
    ca_tls_container_ref: Mapped[str] = mapped_column(String(255), default="")
    crl_container_ref: Mapped[str] = mapped_column(String(255), default="")
    tls_versions: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    tls_ciphers: Mapped[str] = mapped_column(String(2048), default="")
    alpn_protocols: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)

    loadbalancer: Mapped[LoadBalancerRow] = relationship(back_populates="pools")
    members: Mapped[list[MemberRow]] = relationship(
        back_populates="pool", order_by="MemberRow.created_at", passive_deletes=True
    )
    health_monitors: Mapped[list[HealthMonitorRow]] = relationship(
        back_populates="pool", passive_deletes=True
    )


class MemberRow(_Resource, Base):
    __tablename__ = "member"

    pool_id: Mapped[str] = mapped_column(ForeignKey("pool.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(64))
    protocol_port: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    backup: Mapped[bool] = mapped_column(Boolean, default=False)
    subnet_id: Mapped[str] = mapped_column(String(36), default="")
    monitor_address: Mapped[str] = mapped_column(String(64), default="")
    monitor_port: Mapped[int | None] = mapped_column(Integer)
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal")

    pool: Mapped[PoolRow] = relationship(back_populates="members")


class HealthMonitorRow(_Resource, Base):
    __tablename__ = "health_monitor"

    pool_id: Mapped[str] = mapped_column(ForeignKey("pool.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    delay: Mapped[int] = mapped_column(Integer)
    timeout: Mapped[int] = mapped_column(Integer)
    max_retries: Mapped[int] = mapped_column(Integer)
    max_retries_down: Mapped[int] = mapped_column(Integer, default=3)
    http_method: Mapped[str] = mapped_column(String(16), default="")
    url_path: Mapped[str] = mapped_column(String(2048), default="")
    expected_codes: Mapped[str] = mapped_column(String(64), default="")
    http_version: Mapped[str] = mapped_column(String(8), default="")
    domain_name: Mapped[str] = mapped_column(String(255), default="")

    pool: Mapped[PoolRow] = relationship(back_populates="health_monitors")


class L7PolicyRow(_Resource, Base):
    __tablename__ = "l7policy"

    listener_id: Mapped[str] = mapped_column(
        ForeignKey("listener.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(36))
    # 1-based and contiguous among the listener's policies that are not being deleted.
    position: Mapped[int] = mapped_column(Integer)
    redirect_pool_id: Mapped[str | None] = mapped_column(
        ForeignKey("pool.id", ondelete="SET NULL", name="fk_l7policy_redirect_pool"), index=True
    )
    redirect_url: Mapped[str] = mapped_column(String(2048), default="")
    redirect_prefix: Mapped[str] = mapped_column(String(2048), default="")
    redirect_http_code: Mapped[int | None] = mapped_column(Integer)

    listener: Mapped[ListenerRow] = relationship(back_populates="l7policies")
    rules: Mapped[list[L7RuleRow]] = relationship(
        back_populates="policy",
        order_by="[L7RuleRow.created_at, L7RuleRow.id]",
        passive_deletes=True,
    )


class L7RuleRow(_Resource, Base):
    __tablename__ = "l7rule"

    l7policy_id: Mapped[str] = mapped_column(
        ForeignKey("l7policy.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(36))
    compare_type: Mapped[str] = mapped_column(String(36))
    key: Mapped[str] = mapped_column(String(255), default="")
    value: Mapped[str] = mapped_column(String(255))
    invert: Mapped[bool] = mapped_column(Boolean, default=False)

    policy: Mapped[L7PolicyRow] = relationship(back_populates="rules")


def every_object(lb: LoadBalancerRow) -> list[Any]:
    """Every row of a load balancer's graph, children first and the load balancer last: the
    order rows can be deleted in (rules, policies, members, monitors, pools, listeners, LB)."""
    out: list[Any] = []
    for listener in lb.listeners:
        for policy in listener.l7policies:
            out.extend(policy.rules)
        out.extend(listener.l7policies)
    for pool in lb.pools:
        out.extend(pool.members)
        out.extend(pool.health_monitors)
    out.extend(lb.pools)
    out.extend(lb.listeners)
    out.append(lb)
    return out


class AmphoraRow(Base):
    __tablename__ = "amphora"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # None for a spare: a ready amphora (status READY) that serves no load balancer yet
    # (migration 0009).
    load_balancer_id: Mapped[str | None] = mapped_column(
        ForeignKey("load_balancer.id", ondelete="CASCADE"), index=True, nullable=True
    )
    # Octavia's amphora statuses (domain/amphora_lifecycle.py).
    status: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16), default="STANDALONE")
    backend_type: Mapped[str] = mapped_column(String(16), default="haproxy")
    compute_id: Mapped[str] = mapped_column(String(255), default="")
    agent_address: Mapped[str] = mapped_column(String(255), default="")
    # Kept so a recreated amphora listens where it did before.
    agent_port: Mapped[int | None] = mapped_column(Integer)
    vip_address: Mapped[str] = mapped_column(String(64), default="")
    applied_config_hash: Mapped[str] = mapped_column(String(64), default="")
    # The renderer version that produced the applied config (a minor update rolls amphorae
    # whose version differs from the renderer's; migration 0007).
    applied_renderer_version: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), onupdate=_now)
    # Migration 0004 (operator views and failover).
    cert_expiration: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    lb_network_ip: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Set by FailoverAmphora / FailoverLoadBalancer: the next reconcile builds a replacement,
    # pushes the config to it, and only then deletes this one.
    failover_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # Set by ConfigureAmphora: the next reconcile pushes even when nothing else changed.
    configure_requested: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="false"
    )
    # Migration 0010 (resize). The compute size it was built with ("" for the default), and, for
    # a planned replacement (resize, an operator's failover), that it is drained before it goes.
    compute_flavor: Mapped[str] = mapped_column(String(255), default="", server_default="")
    drain_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class VipPortRow(Base):
    """A port of the network driver: the VIP of one load balancer."""

    __tablename__ = "vip_port"
    __table_args__ = (UniqueConstraint("network_id", "ip_address", name="uq_vip_port_address"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str] = mapped_column(String(255), default="")
    network_id: Mapped[str] = mapped_column(String(36))
    subnet_id: Mapped[str] = mapped_column(String(36))
    ip_address: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(255), default="")
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=_now, server_default=func.now()
    )


def insert_new(session: Any, rows: list[Any]) -> None:
    """Writes new rows of one table with one INSERT, without adding them to the session: the
    ORM's unit of work (a flush) is about a quarter of the Python work of a plain load balancer
    create. A column left unset takes its Python default, which is set on the row too, so the
    row reads as the database holds it; one with no default is NULL. The rows stay transient:
    later changes to them in this transaction are not written."""
    table = type(rows[0]).__table__
    values = []
    for row in rows:
        if row.__table__ is not table:
            raise TypeError("insert_new writes rows of one table at a time")
        values.append(_column_values(table, row))
    # A list of parameter sets: one executemany, pipelined by psycopg (adapters/db/engine.py).
    session.execute(_insert_of(table), values if len(values) > 1 else values[0])


def _column_values(table: Any, row: Any) -> dict[str, Any]:
    given = row.__dict__
    values: dict[str, Any] = {}
    for column in table.columns:
        key = column.key
        if key in given:
            values[key] = given[key]
            continue
        default = column.default
        value = None
        if default is not None:
            if not (default.is_callable or default.is_scalar):
                raise TypeError(
                    f"{table.name}.{key}: a SQL-side default is not known before the INSERT"
                )
            value = default.arg(None) if default.is_callable else default.arg
        setattr(row, key, value)
        values[key] = value
    return values


_INSERT_OF: dict[Any, Any] = {}


def _insert_of(table: Any) -> Any:
    """One INSERT statement object per table, so SQLAlchemy's compiled cache key is built once."""
    statement = _INSERT_OF.get(table)
    if statement is None:
        statement = _INSERT_OF[table] = insert(table)
    return statement
