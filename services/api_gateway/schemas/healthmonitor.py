"""Health monitor request models and their translation to the contract."""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import shape
from services.api_gateway.schemas.body import mask, require_set
from services.api_gateway.schemas.common import (
    IdRef,
    MetaView,
    collection_model,
    fill_meta,
    owner_project,
    request_root,
    root_model,
)
from services.api_gateway.schemas.fields import (
    UUID,
    Bool,
    DomainName,
    ExpectedCodes,
    HttpVersion,
    Name,
    Option,
    ProjectId,
    Strict,
    Tags,
    UrlPath,
    integer,
)

DEFAULT_MAX_RETRIES_DOWN = 3
Retries = integer(1, 10)
Seconds = integer(0, 2147483647)


class _MonitorFields(Strict):
    name: Name | None = None
    admin_state_up: Bool | None = None
    delay: Seconds | None = None
    timeout: Seconds | None = None
    max_retries: Retries | None = None
    max_retries_down: Retries | None = None
    http_method: Option | None = None
    url_path: UrlPath | None = None
    expected_codes: ExpectedCodes | None = None
    http_version: HttpVersion | None = None
    domain_name: DomainName | None = None
    tags: Tags | None = None


class HealthMonitorSingleCreate(_MonitorFields):
    """A health monitor inside a pool of a single-call load balancer create (no pool_id)."""

    type: Option | None
    delay: Seconds | None
    timeout: Seconds | None
    max_retries: Retries | None
    project_id: ProjectId | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> HealthMonitorSingleCreate:
        for field in ("type", "delay", "timeout", "max_retries"):
            require_set(self, field, getattr(self, field))
        return self


class HealthMonitorCreate(HealthMonitorSingleCreate):
    pool_id: UUID | None

    @model_validator(mode="after")
    def _pool(self) -> HealthMonitorCreate:
        require_set(self, "pool_id", self.pool_id)
        return self


class HealthMonitorUpdate(_MonitorFields):
    pass


def _fill(hm: g.HealthMonitor, body: _MonitorFields) -> None:
    # An HTTP monitor's empty request fields get Octavia's defaults in the orchestrator.
    shape.fill(hm, body, {"max_retries_down": DEFAULT_MAX_RETRIES_DOWN}, skip=["http_version"])
    hm.http_version = "" if body.http_version is None else f"{body.http_version:.1f}"


def to_proto(
    body: HealthMonitorSingleCreate, pool_id: str = "", project_id: str = ""
) -> g.HealthMonitor:
    hm = g.HealthMonitor(pool_id=pool_id)
    fill_meta(hm.meta, body, project_id)
    _fill(hm, body)
    return hm


def create_request(
    body: HealthMonitorCreate, principal: Principal
) -> pb.CreateHealthMonitorRequest:
    hm = to_proto(body, body.pool_id or "", owner_project(principal, body))
    return pb.CreateHealthMonitorRequest(scope=principal.scope(), healthmonitor=hm)


def update_request(
    hm_id: str, body: HealthMonitorUpdate, principal: Principal
) -> pb.UpdateHealthMonitorRequest:
    hm = g.HealthMonitor()
    hm.meta.id = hm_id
    fill_meta(hm.meta, body)
    _fill(hm, body)
    return pb.UpdateHealthMonitorRequest(
        scope=principal.scope(), healthmonitor=hm, update_mask=mask(body, _UPDATE_PATHS)
    )


# -- documented shapes -------------------------------------------------------------------


class HealthMonitorView(MetaView):
    type: str
    delay: int
    timeout: int
    max_retries: int
    max_retries_down: int
    http_method: str | None
    url_path: str | None
    expected_codes: str | None
    http_version: float | None
    domain_name: str | None
    pools: list[IdRef]


_UPDATE_PATHS = shape.update_paths(HealthMonitorUpdate, g.HealthMonitor)
view = shape.view(
    HealthMonitorView,
    g.HealthMonitor,
    http_version=lambda hm: float(hm.http_version) if hm.http_version else None,
    pools=lambda hm: shape.ids([hm.pool_id]),
)

HealthMonitorCreateRoot = request_root("healthmonitor", HealthMonitorCreate)
HealthMonitorUpdateRoot = request_root("healthmonitor", HealthMonitorUpdate)
HealthMonitorRoot = root_model("healthmonitor", HealthMonitorView)
HealthMonitorList = collection_model("healthmonitors", HealthMonitorView)
