"""Pool request models and their translation to the contract."""

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
    ContainerRef,
    CookieName,
    Description,
    IPAddress,
    Name,
    ProjectId,
    Strict,
    Tags,
    enum,
    integer,
    list_of,
    text,
)

PROTOCOLS = ("HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP")
ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
SP_TYPES = ("SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE")


class SessionPersistence(Strict):
    type: enum(*SP_TYPES) | None = None
    cookie_name: CookieName | None = None
    persistence_timeout: integer(0) | None = None
    persistence_granularity: IPAddress | None = None

    @model_validator(mode="after")
    def _cookie(self) -> SessionPersistence:
        require_set(self, "session_persistence.type", self.type)
        if self.type == "APP_COOKIE" and not self.cookie_name:
            raise FieldError(
                "session_persistence.cookie_name", None, "A cookie name is required for APP_COOKIE."
            )
        if self.type != "APP_COOKIE" and self.cookie_name:
            raise FieldError(
                "session_persistence.cookie_name",
                self.cookie_name,
                f"Cookie names are not supported for {self.type} persistence.",
            )
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
    tls_ciphers: text(2048) | None = None
    tls_versions: list_of(text(32)) | None = None
    alpn_protocols: list_of(text(32)) | None = None


class PoolCreate(_PoolFields):
    protocol: enum(*PROTOCOLS) | None
    lb_algorithm: enum(*ALGORITHMS) | None
    listener_id: UUID | None = None
    loadbalancer_id: UUID | None = None
    project_id: ProjectId | None = None
    healthmonitor: dict[str, Any] | None = None
    members: list[Any] | None = None

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
    lb_algorithm: enum(*ALGORITHMS) | None = None


_UNSUPPORTED = {
    "tls_enabled": False,
    "tls_container_ref": None,
    "ca_tls_container_ref": None,
    "crl_container_ref": None,
    "tls_ciphers": None,
    "tls_versions": [],
    "alpn_protocols": [],
}
_UPDATE_PATHS = {
    **META_PATHS,
    "lb_algorithm": "lb_algorithm",
    "session_persistence": "session_persistence",
}


def _persistence(pool: g.Pool, sp: SessionPersistence | None) -> None:
    if sp is None:
        return
    pool.session_persistence.type = sp.type or ""
    pool.session_persistence.cookie_name = sp.cookie_name or ""
    if sp.persistence_timeout is not None:
        pool.session_persistence.persistence_timeout = sp.persistence_timeout
    pool.session_persistence.persistence_granularity = sp.persistence_granularity or ""


def create_request(body: PoolCreate, principal: Principal) -> pb.CreatePoolRequest:
    unsupported(body, {**_UNSUPPORTED, "healthmonitor": None, "members": []})
    pool = g.Pool(
        loadbalancer_id=body.loadbalancer_id or "",
        protocol=body.protocol,
        lb_algorithm=body.lb_algorithm,
    )
    fill_meta(pool.meta, body, owner_project(principal, body))
    _persistence(pool, body.session_persistence)
    return pb.CreatePoolRequest(
        scope=principal.scope(), pool=pool, listener_id=body.listener_id or ""
    )


def update_request(pool_id: str, body: PoolUpdate, principal: Principal) -> pb.UpdatePoolRequest:
    unsupported(body, _UNSUPPORTED)
    pool = g.Pool(lb_algorithm=body.lb_algorithm or "")
    pool.meta.id = pool_id
    fill_meta(pool.meta, body)
    _persistence(pool, body.session_persistence)
    return pb.UpdatePoolRequest(
        scope=principal.scope(), pool=pool, update_mask=mask(body, _UPDATE_PATHS)
    )
