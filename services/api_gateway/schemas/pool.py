"""Pool request models, their translation to the contract, and the pool view models."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import healthmonitor as hm_schema
from services.api_gateway.schemas import member as member_schema
from services.api_gateway.schemas import shape
from services.api_gateway.schemas.body import FieldError, mask, require_set
from services.api_gateway.schemas.common import (
    IdRef,
    MetaView,
    View,
    collection_model,
    fill_meta,
    owner_project,
    request_root,
    root_model,
)
from services.api_gateway.schemas.fields import (
    UUID,
    AlpnProtocols,
    Bool,
    ContainerRef,
    CookieName,
    Description,
    IPAddress,
    Name,
    Option,
    ProjectId,
    Strict,
    Tags,
    TlsCiphers,
    TlsVersions,
    integer,
)


class SessionPersistence(Strict):
    type: Option | None = None
    cookie_name: CookieName | None = None
    persistence_timeout: integer(0) | None = None
    persistence_granularity: IPAddress | None = None

    @model_validator(mode="after")
    def _type(self) -> SessionPersistence:
        require_set(self, "type", self.type)
        return self


class _PoolFields(Strict):
    name: Name | None = None
    description: Description | None = None
    admin_state_up: Bool | None = None
    session_persistence: SessionPersistence | None = None
    tags: Tags | None = None
    tls_enabled: Bool | None = None
    tls_container_ref: ContainerRef | None = None
    ca_tls_container_ref: ContainerRef | None = None
    crl_container_ref: ContainerRef | None = None
    tls_ciphers: TlsCiphers | None = None
    tls_versions: TlsVersions | None = None
    alpn_protocols: AlpnProtocols | None = None


class PoolSingleCreate(_PoolFields):
    """A pool of a single-call load balancer create. protocol and lb_algorithm are checked by
    the graph (a pool given only by name is a reference to one in the load balancer's pools)."""

    protocol: Option | None = None
    lb_algorithm: Option | None = None
    project_id: ProjectId | None = None
    healthmonitor: hm_schema.HealthMonitorSingleCreate | None = None
    members: list[member_schema.MemberCreate] | None = None


class PoolCreate(_PoolFields):
    protocol: Option | None
    lb_algorithm: Option | None
    listener_id: UUID | None = None
    loadbalancer_id: UUID | None = None
    project_id: ProjectId | None = None
    # Created with the pool, in the same transaction (Octavia's PoolPOST takes both).
    healthmonitor: hm_schema.HealthMonitorSingleCreate | None = None
    members: list[member_schema.MemberCreate] | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> PoolCreate:
        require_set(self, "protocol", self.protocol)
        require_set(self, "lb_algorithm", self.lb_algorithm)
        if not (self.listener_id or self.loadbalancer_id):
            raise FieldError(
                "loadbalancer_id",
                None,
                "Either a listener_id or loadbalancer_id must be specified.",
            )
        return self


class PoolUpdate(_PoolFields):
    lb_algorithm: Option | None = None


def _persistence(pool: g.Pool, sp: SessionPersistence | None) -> None:
    if sp is None:
        return
    pool.session_persistence.type = sp.type or ""
    pool.session_persistence.cookie_name = sp.cookie_name or ""
    if sp.persistence_timeout is not None:
        pool.session_persistence.persistence_timeout = sp.persistence_timeout
    pool.session_persistence.persistence_granularity = sp.persistence_granularity or ""


def to_proto(body: PoolSingleCreate | PoolCreate, project_id: str = "") -> g.Pool:
    pool = g.Pool()
    fill_meta(pool.meta, body, project_id)
    # A new TLS pool's empty TLS fields get Octavia's defaults in the orchestrator.
    shape.fill(pool, body)
    _persistence(pool, body.session_persistence)
    return pool


def create_request(body: PoolCreate, principal: Principal) -> pb.CreatePoolRequest:
    project_id = owner_project(principal, body)
    pool = to_proto(body, project_id)
    for m in body.members or ():
        pool.members.append(member_schema.to_proto(m, project_id=project_id))
    if body.healthmonitor is not None:
        pool.healthmonitor.CopyFrom(hm_schema.to_proto(body.healthmonitor, project_id=project_id))
    return pb.CreatePoolRequest(
        scope=principal.scope(), pool=pool, listener_id=body.listener_id or ""
    )


def update_request(pool_id: str, body: PoolUpdate, principal: Principal) -> pb.UpdatePoolRequest:
    pool = g.Pool()
    pool.meta.id = pool_id
    fill_meta(pool.meta, body)
    shape.fill(pool, body)
    _persistence(pool, body.session_persistence)
    return pb.UpdatePoolRequest(
        scope=principal.scope(), pool=pool, update_mask=mask(body, _UPDATE_PATHS)
    )


# -- documented shapes -------------------------------------------------------------------


class SessionPersistenceView(View):
    type: str
    cookie_name: str | None
    persistence_timeout: int | None
    persistence_granularity: str | None


class PoolView(MetaView):
    description: str
    protocol: str
    lb_algorithm: str
    session_persistence: SessionPersistenceView | None
    loadbalancers: list[IdRef]
    listeners: list[IdRef]
    members: list[IdRef]
    healthmonitor_id: str | None
    tls_enabled: bool
    tls_container_ref: str | None
    ca_tls_container_ref: str | None
    crl_container_ref: str | None
    tls_ciphers: str | None
    tls_versions: list[str] | None
    alpn_protocols: list[str] | None


class PoolFullView(PoolView):
    """A pool in a fully populated load balancer: members and monitor as whole objects."""

    members: list[member_schema.MemberView]  # type: ignore[assignment]
    healthmonitor: hm_schema.HealthMonitorView | None


_UPDATE_PATHS = shape.update_paths(PoolUpdate, g.Pool)


def _persistence_view(p: g.Pool) -> dict[str, Any] | None:
    sp = p.session_persistence
    if not sp.type:
        return None
    return {
        "type": sp.type,
        "cookie_name": sp.cookie_name or None,
        "persistence_timeout": sp.persistence_timeout
        if sp.HasField("persistence_timeout")
        else None,
        "persistence_granularity": sp.persistence_granularity or None,
    }


view = shape.view(
    PoolView,
    g.Pool,
    session_persistence=_persistence_view,
    loadbalancers=lambda p: shape.ids([p.loadbalancer_id]),
    listeners=lambda p: shape.ids(p.listener_ids),
    members=lambda p: shape.ids(m.meta.id for m in p.members),
    healthmonitor_id=lambda p: p.healthmonitor.meta.id or None,
)


def full_view(p: g.Pool) -> dict[str, Any]:
    """As in a fully populated load balancer: members and monitor as whole objects."""
    hm = p.healthmonitor
    return {
        **view(p),
        "members": [member_schema.view(m) for m in p.members],
        "healthmonitor": hm_schema.view(hm) if hm.meta.id else None,
    }


PoolCreateRoot = request_root("pool", PoolCreate)
PoolUpdateRoot = request_root("pool", PoolUpdate)
PoolRoot = root_model("pool", PoolView)
PoolList = collection_model("pools", PoolView)
