"""Listener request models (TLS included), their translation to the contract, and the views."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import l7policy as l7policy_schema
from services.api_gateway.schemas import pool as pool_schema
from services.api_gateway.schemas import shape
from services.api_gateway.schemas.body import mask, require_set, unsupported
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
    INT32_MAX,
    UUID,
    AlpnProtocols,
    Bool,
    Cidr,
    ContainerRef,
    Description,
    Name,
    Option,
    PortNumber,
    ProjectId,
    Strict,
    StringMap,
    Tags,
    TimeoutMs,
    TlsCiphers,
    TlsVersions,
    integer,
    list_of,
)

# Octavia's defaults (milliseconds).
TIMEOUT_DEFAULTS = {
    "timeout_client_data": 50000,
    "timeout_member_connect": 5000,
    "timeout_member_data": 50000,
    "timeout_tcp_inspect": 0,
}


class _ListenerFields(Strict):
    name: Name | None = None
    description: Description | None = None
    admin_state_up: Bool | None = None
    connection_limit: integer(-1, INT32_MAX) | None = None
    default_tls_container_ref: ContainerRef | None = None
    sni_container_refs: list_of(ContainerRef) | None = None
    default_pool_id: UUID | None = None
    insert_headers: StringMap | None = None
    timeout_client_data: TimeoutMs | None = None
    timeout_member_connect: TimeoutMs | None = None
    timeout_member_data: TimeoutMs | None = None
    timeout_tcp_inspect: TimeoutMs | None = None
    tags: Tags | None = None
    client_ca_tls_container_ref: ContainerRef | None = None
    client_authentication: Option | None = None
    client_crl_container_ref: ContainerRef | None = None
    allowed_cidrs: list_of(Cidr) | None = None
    tls_ciphers: TlsCiphers | None = None
    tls_versions: TlsVersions | None = None
    alpn_protocols: AlpnProtocols | None = None
    hsts_max_age: integer(0, INT32_MAX) | None = None
    hsts_include_subdomains: Bool | None = None
    hsts_preload: Bool | None = None


class ListenerSingleCreate(_ListenerFields):
    """A listener of a single-call load balancer create: default_pool names a pool of the
    load balancer ({"name": ...}) or defines one; the graph resolves both."""

    protocol: Option | None
    protocol_port: PortNumber | None
    project_id: ProjectId | None = None
    default_pool: pool_schema.PoolSingleCreate | None = None
    l7policies: list[l7policy_schema.L7PolicySingleCreate] | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> ListenerSingleCreate:
        for field in ("protocol", "protocol_port"):
            require_set(self, field, getattr(self, field))
        return self


class ListenerCreate(_ListenerFields):
    protocol: Option | None
    protocol_port: PortNumber | None
    loadbalancer_id: UUID | None
    project_id: ProjectId | None = None
    # Validated as in a single-call create (a malformed one is a 400), then refused with 501.
    default_pool: pool_schema.PoolSingleCreate | None = None
    l7policies: list[l7policy_schema.L7PolicySingleCreate] | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> ListenerCreate:
        for field in ("protocol", "protocol_port", "loadbalancer_id"):
            require_set(self, field, getattr(self, field))
        return self


class ListenerUpdate(_ListenerFields):
    pass


# Octavia's defaults; a null in an update resets to them too. (A TLS listener's empty TLS
# settings get theirs in the orchestrator, rules.listener_defaults.)
_DEFAULTS = {"connection_limit": -1, "client_authentication": "NONE", **TIMEOUT_DEFAULTS}


def to_proto(body: ListenerCreate | ListenerSingleCreate, project_id: str = "") -> g.Listener:
    listener = g.Listener()
    fill_meta(listener.meta, body, project_id)
    shape.fill(listener, body, _DEFAULTS)
    return listener


def create_request(body: ListenerCreate, principal: Principal) -> pb.CreateListenerRequest:
    # Children of a standalone listener create have no contract: CreateListener carries no pool,
    # and its policies could only name pools that already exist (create them one by one).
    unsupported(body, {"default_pool": None, "l7policies": []})
    listener = to_proto(body, owner_project(principal, body))
    return pb.CreateListenerRequest(scope=principal.scope(), listener=listener)


def update_request(
    listener_id: str, body: ListenerUpdate, principal: Principal
) -> pb.UpdateListenerRequest:
    listener = g.Listener()
    listener.meta.id = listener_id
    fill_meta(listener.meta, body)
    shape.fill(listener, body, _DEFAULTS)
    return pb.UpdateListenerRequest(
        scope=principal.scope(), listener=listener, update_mask=mask(body, _UPDATE_PATHS)
    )


# -- documented shapes -------------------------------------------------------------------


class ListenerView(MetaView):
    description: str
    protocol: str
    protocol_port: int
    connection_limit: int
    default_tls_container_ref: str | None
    sni_container_refs: list[str]
    default_pool_id: str | None
    l7policies: list[IdRef]
    insert_headers: dict[str, str]
    loadbalancers: list[IdRef]
    timeout_client_data: int
    timeout_member_connect: int
    timeout_member_data: int
    timeout_tcp_inspect: int
    client_ca_tls_container_ref: str | None
    client_authentication: str
    client_crl_container_ref: str | None
    allowed_cidrs: list[str] | None
    tls_ciphers: str | None
    tls_versions: list[str] | None
    alpn_protocols: list[str] | None
    hsts_max_age: int | None
    hsts_include_subdomains: bool
    hsts_preload: bool


class ListenerFullView(ListenerView):
    """A listener in a fully populated load balancer: its policies as whole objects."""

    l7policies: list[l7policy_schema.L7PolicyFullView]  # type: ignore[assignment]


class StatsView(View):
    active_connections: int
    bytes_in: int
    bytes_out: int
    request_errors: int
    total_connections: int


class StatsRoot(View):
    stats: StatsView


_UPDATE_PATHS = shape.update_paths(ListenerUpdate, g.Listener)
view = shape.view(
    ListenerView,
    g.Listener,
    l7policies=lambda li: shape.ids(p.meta.id for p in li.l7policies),
    loadbalancers=lambda li: shape.ids([li.loadbalancer_id]),
    client_authentication=lambda li: li.client_authentication or "NONE",
)


def full_view(li: g.Listener) -> dict[str, Any]:
    """As in a fully populated load balancer: the policies as whole objects."""
    return {**view(li), "l7policies": [l7policy_schema.full_view(p) for p in li.l7policies]}


ListenerCreateRoot = request_root("listener", ListenerCreate)
ListenerUpdateRoot = request_root("listener", ListenerUpdate)
ListenerRoot = root_model("listener", ListenerView)
ListenerList = collection_model("listeners", ListenerView)
