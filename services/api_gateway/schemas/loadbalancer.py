"""Load balancer request models and their translation to the contract."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas.body import FieldError, mask, unsupported
from services.api_gateway.schemas.common import META_PATHS, fill_meta, owner_project
from services.api_gateway.schemas.fields import (
    UUID,
    Bool,
    Description,
    IPAddress,
    Name,
    ProjectId,
    Strict,
    Tags,
    enum,
    list_of,
    text,
)

PROVIDERS = ("amphora", "octavia")


class LoadBalancerCreate(Strict):
    name: Name | None = None
    description: Description | None = None
    admin_state_up: Bool | None = True
    vip_address: IPAddress | None = None
    vip_port_id: UUID | None = None
    vip_subnet_id: UUID | None = None
    vip_network_id: UUID | None = None
    vip_qos_policy_id: UUID | None = None
    project_id: ProjectId | None = None
    tenant_id: ProjectId | None = None
    listeners: list[Any] | None = None
    pools: list[Any] | None = None
    provider: enum(*PROVIDERS) | None = None
    flavor_id: UUID | None = None
    availability_zone: text(255) | None = None
    tags: Tags | None = None
    additional_vips: list[Any] | None = None
    vip_sg_ids: list_of(UUID) | None = None

    @model_validator(mode="after")
    def _vip_required(self) -> LoadBalancerCreate:
        if not (self.vip_subnet_id or self.vip_network_id):
            raise FieldError(
                "vip_subnet_id", None, "VIP must contain one of: vip_subnet_id, vip_network_id."
            )
        return self


class LoadBalancerUpdate(Strict):
    name: Name | None = None
    description: Description | None = None
    admin_state_up: Bool | None = None
    vip_qos_policy_id: UUID | None = None
    tags: Tags | None = None


_UPDATE_PATHS = {**META_PATHS, "vip_qos_policy_id": "vip.qos_policy_id"}


def create_request(body: LoadBalancerCreate, principal: Principal) -> pb.CreateLoadBalancerRequest:
    unsupported(body, {"listeners": [], "pools": [], "additional_vips": [], "vip_sg_ids": []})
    lb = g.LoadBalancer(
        vip=g.Vip(
            address=body.vip_address or "",
            port_id=body.vip_port_id or "",
            subnet_id=body.vip_subnet_id or "",
            network_id=body.vip_network_id or "",
            qos_policy_id=body.vip_qos_policy_id or "",
        ),
        # "octavia" is Octavia's historical alias of the amphora provider.
        provider="amphora",
        flavor_id=body.flavor_id or "",
        availability_zone=body.availability_zone or "",
    )
    fill_meta(lb.meta, body, owner_project(principal, body))
    return pb.CreateLoadBalancerRequest(scope=principal.scope(), loadbalancer=lb)


def update_request(
    lb_id: str, body: LoadBalancerUpdate, principal: Principal
) -> pb.UpdateLoadBalancerRequest:
    lb = g.LoadBalancer()
    lb.meta.id = lb_id
    fill_meta(lb.meta, body)
    lb.vip.qos_policy_id = body.vip_qos_policy_id or ""
    return pb.UpdateLoadBalancerRequest(
        scope=principal.scope(), loadbalancer=lb, update_mask=mask(body, _UPDATE_PATHS)
    )
