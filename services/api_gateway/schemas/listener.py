"""Listener request models (TLS included), their translation to the contract, and the views."""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import l7policy as l7policy_schema
from services.api_gateway.schemas import pool as pool_schema
from services.api_gateway.schemas.body import mask, require_set, unsupported
from services.api_gateway.schemas.common import (
    META_PATHS,
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
# Listener attributes of TERMINATED_HTTPS listeners (which protocol may have them is the
# orchestrator's rule, domain/rules.listener_tls_problem), with their unset value.
TLS_ONLY = {
    "default_tls_container_ref": None,
    "sni_container_refs": [],
    "client_ca_tls_container_ref": None,
    "client_authentication": "NONE",
    "client_crl_container_ref": None,
    "tls_ciphers": None,
    "tls_versions": None,
    "alpn_protocols": None,
    "hsts_max_age": None,
    "hsts_include_subdomains": False,
    "hsts_preload": False,
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


_TLS_PATHS = {k: k for k in TLS_ONLY}
_UPDATE_PATHS = {
    **META_PATHS,
    "connection_limit": "connection_limit",
    "default_pool_id": "default_pool_id",
    "insert_headers": "insert_headers",
    "allowed_cidrs": "allowed_cidrs",
    **{k: k for k in TIMEOUT_DEFAULTS},
    **_TLS_PATHS,
}


def _fill(listener: g.Listener, body: _ListenerFields) -> None:
    limit = body.connection_limit
    listener.connection_limit = -1 if limit is None else limit
    listener.default_pool_id = body.default_pool_id or ""
    for field, default in TIMEOUT_DEFAULTS.items():
        value = getattr(body, field)
        setattr(listener, field, default if value is None else value)
    listener.insert_headers.update(body.insert_headers or {})
    listener.allowed_cidrs.extend(body.allowed_cidrs or [])
    listener.default_tls_container_ref = body.default_tls_container_ref or ""
    listener.sni_container_refs.extend(body.sni_container_refs or [])
    listener.client_authentication = body.client_authentication or "NONE"
    listener.client_ca_tls_container_ref = body.client_ca_tls_container_ref or ""
    listener.client_crl_container_ref = body.client_crl_container_ref or ""
    # Empty TLS settings get Octavia's defaults in the orchestrator (rules.listener_defaults).
    listener.tls_ciphers = body.tls_ciphers or ""
    listener.tls_versions.extend(body.tls_versions or ())
    listener.alpn_protocols.extend(body.alpn_protocols or ())
    if body.hsts_max_age is not None:
        listener.hsts_max_age = body.hsts_max_age
    listener.hsts_include_subdomains = bool(body.hsts_include_subdomains)
    listener.hsts_preload = bool(body.hsts_preload)


def to_proto(body: ListenerCreate | ListenerSingleCreate, project_id: str = "") -> g.Listener:
    listener = g.Listener(protocol=body.protocol, protocol_port=body.protocol_port)
    fill_meta(listener.meta, body, project_id)
    _fill(listener, body)
    return listener


def create_request(body: ListenerCreate, principal: Principal) -> pb.CreateListenerRequest:
    # Children of a standalone listener create have no contract: CreateListener carries no pool,
    # and its policies could only name pools that already exist (create them one by one).
    unsupported(body, {"default_pool": None, "l7policies": []})
    listener = to_proto(body, owner_project(principal, body))
    listener.loadbalancer_id = body.loadbalancer_id or ""
    return pb.CreateListenerRequest(scope=principal.scope(), listener=listener)


def update_request(
    listener_id: str, body: ListenerUpdate, principal: Principal
) -> pb.UpdateListenerRequest:
    listener = g.Listener()
    listener.meta.id = listener_id
    fill_meta(listener.meta, body)
    _fill(listener, body)
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


ListenerCreateRoot = request_root("listener", ListenerCreate)
ListenerUpdateRoot = request_root("listener", ListenerUpdate)
ListenerRoot = root_model("listener", ListenerView)
ListenerList = collection_model("listeners", ListenerView)
