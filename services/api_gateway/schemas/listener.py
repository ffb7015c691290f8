"""Listener request models and their translation to the contract."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas.body import FieldError, mask, require_set, unsupported
from services.api_gateway.schemas.common import META_PATHS, fill_meta, owner_project
from services.api_gateway.schemas.fields import (
    UUID,
    Bool,
    Cidr,
    ContainerRef,
    Description,
    Name,
    PortNumber,
    ProjectId,
    Strict,
    Tags,
    TimeoutMs,
    enum,
    integer,
    list_of,
    text,
)

PROTOCOLS = ("HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS")
CLIENT_AUTH = ("NONE", "OPTIONAL", "MANDATORY")
# Octavia's defaults (milliseconds).
TIMEOUT_DEFAULTS = {
    "timeout_client_data": 50000,
    "timeout_member_connect": 5000,
    "timeout_member_data": 50000,
    "timeout_tcp_inspect": 0,
}
INSERT_HEADERS = (
    "X-Forwarded-For",
    "X-Forwarded-Port",
    "X-Forwarded-Proto",
    "X-SSL-Client-Verify",
    "X-SSL-Client-Has-Cert",
    "X-SSL-Client-DN",
    "X-SSL-Client-CN",
    "X-SSL-Issuer",
    "X-SSL-Client-SHA1",
    "X-SSL-Client-Not-Before",
    "X-SSL-Client-Not-After",
)


def _check_headers(headers: dict | None) -> None:
    if headers is None:
        return
    for key, value in headers.items():
        if key not in INSERT_HEADERS:
            raise FieldError("insert_headers", key, "Unsupported header: " + key)
        if not isinstance(value, str) or value.lower() not in ("true", "false"):
            raise FieldError("insert_headers", value, f"Value for {key} must be 'true' or 'false'.")


class _ListenerFields(Strict):
    name: Name | None = None
    description: Description | None = None
    admin_state_up: Bool | None = None
    connection_limit: integer(-1) | None = None
    default_tls_container_ref: ContainerRef | None = None
    sni_container_refs: list_of(ContainerRef) | None = None
    default_pool_id: UUID | None = None
    insert_headers: dict[str, Any] | None = None
    timeout_client_data: TimeoutMs | None = None
    timeout_member_connect: TimeoutMs | None = None
    timeout_member_data: TimeoutMs | None = None
    timeout_tcp_inspect: TimeoutMs | None = None
    tags: Tags | None = None
    client_ca_tls_container_ref: ContainerRef | None = None
    client_authentication: enum(*CLIENT_AUTH) | None = None
    client_crl_container_ref: ContainerRef | None = None
    allowed_cidrs: list_of(Cidr) | None = None
    tls_ciphers: text(2048) | None = None
    tls_versions: list_of(text(32)) | None = None
    alpn_protocols: list_of(text(32)) | None = None
    hsts_max_age: integer(0) | None = None
    hsts_include_subdomains: Bool | None = None
    hsts_preload: Bool | None = None

    @model_validator(mode="after")
    def _headers(self) -> _ListenerFields:
        _check_headers(self.insert_headers)
        return self


class ListenerCreate(_ListenerFields):
    protocol: enum(*PROTOCOLS) | None
    protocol_port: PortNumber | None
    loadbalancer_id: UUID | None
    project_id: ProjectId | None = None
    default_pool: dict[str, Any] | None = None
    l7policies: list[Any] | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> ListenerCreate:
        for field in ("protocol", "protocol_port", "loadbalancer_id"):
            require_set(self, field, getattr(self, field))
        return self


class ListenerUpdate(_ListenerFields):
    pass


_UNSUPPORTED = {
    "default_tls_container_ref": None,
    "sni_container_refs": [],
    "client_ca_tls_container_ref": None,
    "client_authentication": "NONE",
    "client_crl_container_ref": None,
    "tls_ciphers": None,
    "tls_versions": [],
    "alpn_protocols": [],
    "hsts_max_age": None,
    "hsts_include_subdomains": False,
    "hsts_preload": False,
}

_UPDATE_PATHS = {
    **META_PATHS,
    "connection_limit": "connection_limit",
    "default_pool_id": "default_pool_id",
    "insert_headers": "insert_headers",
    "allowed_cidrs": "allowed_cidrs",
    **{k: k for k in TIMEOUT_DEFAULTS},
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


def create_request(body: ListenerCreate, principal: Principal) -> pb.CreateListenerRequest:
    unsupported(body, {**_UNSUPPORTED, "default_pool": None, "l7policies": []})
    listener = g.Listener(
        loadbalancer_id=body.loadbalancer_id,
        protocol=body.protocol,
        protocol_port=body.protocol_port,
    )
    fill_meta(listener.meta, body, owner_project(principal, body))
    _fill(listener, body)
    return pb.CreateListenerRequest(scope=principal.scope(), listener=listener)


def update_request(
    listener_id: str, body: ListenerUpdate, principal: Principal
) -> pb.UpdateListenerRequest:
    unsupported(body, _UNSUPPORTED)
    listener = g.Listener()
    listener.meta.id = listener_id
    fill_meta(listener.meta, body)
    _fill(listener, body)
    return pb.UpdateListenerRequest(
        scope=principal.scope(), listener=listener, update_mask=mask(body, _UPDATE_PATHS)
    )
