"""Load balancer request models, the single-call (fully populated) create, and the views."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import ValidationError, model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.faults import invalid_field
from services.api_gateway.schemas import healthmonitor as hm_schema
from services.api_gateway.schemas import l7policy as l7policy_schema
from services.api_gateway.schemas import listener as listener_schema
from services.api_gateway.schemas import member as member_schema
from services.api_gateway.schemas import pool as pool_schema
from services.api_gateway.schemas import shape
from services.api_gateway.schemas.body import FieldError, mask
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
    Bool,
    Description,
    IPAddress,
    Name,
    Option,
    ProjectId,
    Strict,
    Tags,
    list_of,
    text,
)


class AdditionalVip(Strict):
    subnet_id: UUID | None
    ip_address: IPAddress | None = None

    @model_validator(mode="after")
    def _subnet(self) -> AdditionalVip:
        if not self.subnet_id:
            raise FieldError("subnet_id", None, "Mandatory field missing.")
        return self


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
    listeners: list[listener_schema.ListenerSingleCreate] | None = None
    pools: list[pool_schema.PoolSingleCreate] | None = None
    provider: Option | None = None
    flavor_id: UUID | None = None
    availability_zone: text(255) | None = None
    tags: Tags | None = None
    additional_vips: list[AdditionalVip] | None = None
    vip_sg_ids: list_of(UUID) | None = None

    @model_validator(mode="after")
    def _vip_required(self) -> LoadBalancerCreate:
        if not (self.vip_subnet_id or self.vip_network_id or self.vip_port_id):
            raise FieldError(
                "vip_subnet_id", None, "VIP must contain one of: vip_subnet_id, vip_network_id."
            )
        return self


class LoadBalancerUpdate(Strict):
    name: Name | None = None
    description: Description | None = None
    admin_state_up: Bool | None = None
    vip_qos_policy_id: UUID | None = None
    vip_sg_ids: list_of(UUID) | None = None
    tags: Tags | None = None


class LoadBalancerResize(Strict):
    """PUT .../resize (an extension): the flavor to move to."""

    flavor_id: UUID


# Request fields kept in the contract's Vip message.
_VIP = {
    "vip_address": "address",
    "vip_port_id": "port_id",
    "vip_subnet_id": "subnet_id",
    "vip_network_id": "network_id",
    "vip_qos_policy_id": "qos_policy_id",
}


def is_graph(body: LoadBalancerCreate) -> bool:
    """A fully populated create: Octavia then answers with the whole tree."""
    return bool(body.listeners or body.pools)


def create_request(body: LoadBalancerCreate, principal: Principal) -> pb.CreateLoadBalancerRequest:
    project = owner_project(principal, body)
    # The provider is checked by the orchestrator ("octavia": Octavia's alias of "amphora").
    lb = g.LoadBalancer(vip_vnic_type="normal")
    shape.fill(lb, body)
    _fill_vip(lb, body)
    for extra in body.additional_vips or ():
        lb.additional_vips.add(subnet_id=extra.subnet_id, ip_address=extra.ip_address or "")
    fill_meta(lb.meta, body, project)
    if is_graph(body):
        _Graph(lb, project).build(body)
    return pb.CreateLoadBalancerRequest(scope=principal.scope(), loadbalancer=lb)


class _Graph:
    """Maps a fully populated create onto the contract's graph.

    The new objects have no ids yet, so a listener's default pool and a policy's redirect pool
    reference a pool of `lb.pools` by NAME in default_pool_id / redirect_pool_id (the
    orchestrator resolves the names). A pool defined inline under a listener or a policy is
    moved to `lb.pools` and referenced the same way, so it needs a name; pool names must be
    unique within the request.
    """

    def __init__(self, lb: g.LoadBalancer, project: str):
        self.lb = lb
        self.project = project
        self.names: set[str] = set()
        self.refs: list[tuple[str, str]] = []

    def build(self, body: LoadBalancerCreate) -> None:
        for p in body.pools or ():
            self._add_pool(p, "pools")
        for li in body.listeners or ():
            self.lb.listeners.append(self._listener(li))
        for field, name in self.refs:
            if name not in self.names:
                raise invalid_field(
                    field, name, "No pool of this name in the load balancer's pools."
                )

    def _add_pool(self, p: pool_schema.PoolSingleCreate, where: str) -> str:
        for field in ("protocol", "lb_algorithm"):
            if getattr(p, field) is None:
                raise invalid_field(f"{where}.{field}", None, "Mandatory field missing.")
        name = p.name or ""
        if name in self.names:
            raise invalid_field(
                f"{where}.name", name, "Pool names must be unique in a single-call create."
            )
        if name:
            self.names.add(name)
        pool = pool_schema.to_proto(p, self.project)
        for m in p.members or ():
            pool.members.append(member_schema.to_proto(m, project_id=self.project))
        if p.healthmonitor is not None:
            pool.healthmonitor.CopyFrom(
                hm_schema.to_proto(p.healthmonitor, project_id=self.project)
            )
        self.lb.pools.append(pool)
        return name

    def _pool_ref(self, p: pool_schema.PoolSingleCreate, where: str) -> str:
        """The name a listener or policy uses for its pool: a reference, or an inline pool."""
        if p.model_fields_set <= {"name"}:
            if not p.name:
                raise invalid_field(f"{where}.name", None, "Mandatory field missing.")
            self.refs.append((f"{where}.name", p.name))
            return p.name
        if not p.name:
            raise invalid_field(
                f"{where}.name", None, "A pool defined in a single-call create needs a name."
            )
        return self._add_pool(p, where)

    def _listener(self, li: listener_schema.ListenerSingleCreate) -> g.Listener:
        listener = listener_schema.to_proto(li, self.project)
        if li.default_pool is not None:
            if li.default_pool_id:
                raise invalid_field(
                    "listeners.default_pool_id",
                    li.default_pool_id,
                    "Cannot specify default_pool_id and default_pool at the same time.",
                )
            listener.default_pool_id = self._pool_ref(li.default_pool, "listeners.default_pool")
        for policy in li.l7policies or ():
            listener.l7policies.append(self._policy(policy))
        return listener

    def _policy(self, policy: l7policy_schema.L7PolicySingleCreate) -> g.L7Policy:
        where = "listeners.l7policies"
        ref = ""
        if policy.redirect_pool is not None:
            try:
                pool = pool_schema.PoolSingleCreate.model_validate(policy.redirect_pool)
            except ValidationError as err:
                first = err.errors()[0]
                loc = ".".join(str(x) for x in first["loc"] if not isinstance(x, int))
                raise invalid_field(
                    f"{where}.redirect_pool.{loc}".rstrip("."), first.get("input"), first["msg"]
                ) from None
            ref = self._pool_ref(pool, f"{where}.redirect_pool")
        return l7policy_schema.to_proto(policy, self.project, redirect_pool_ref=ref)


def _fill_vip(lb: g.LoadBalancer, body: LoadBalancerCreate | LoadBalancerUpdate) -> None:
    for name, vip_field in _VIP.items():
        setattr(lb.vip, vip_field, getattr(body, name, None) or "")


def update_request(
    lb_id: str, body: LoadBalancerUpdate, principal: Principal
) -> pb.UpdateLoadBalancerRequest:
    lb = g.LoadBalancer()
    lb.meta.id = lb_id
    fill_meta(lb.meta, body)
    shape.fill(lb, body)
    _fill_vip(lb, body)
    return pb.UpdateLoadBalancerRequest(
        scope=principal.scope(), loadbalancer=lb, update_mask=mask(body, _UPDATE_PATHS)
    )


# -- documented shapes -------------------------------------------------------------------


class AdditionalVipView(View):
    subnet_id: str
    ip_address: str | None


class LoadBalancerView(MetaView):
    description: str
    tenant_id: str
    vip_address: str | None
    vip_port_id: str | None
    vip_subnet_id: str | None
    vip_network_id: str | None
    vip_qos_policy_id: str | None
    vip_vnic_type: str
    vip_sg_ids: list[str] | None
    additional_vips: list[AdditionalVipView]
    listeners: list[IdRef]
    pools: list[IdRef]
    provider: str
    flavor_id: str | None
    availability_zone: str | None


class LoadBalancerFullView(LoadBalancerView):
    """The answer to a fully populated create: listeners and pools as whole objects."""

    listeners: list[listener_schema.ListenerFullView]  # type: ignore[assignment]
    pools: list[pool_schema.PoolFullView]  # type: ignore[assignment]


class LoadBalancerCreatedRoot(View):
    """201 of a create: the whole tree when listeners or pools were given, else ids."""

    loadbalancer: LoadBalancerFullView | LoadBalancerView


_UPDATE_PATHS = shape.update_paths(
    LoadBalancerUpdate, g.LoadBalancer, {k: f"vip.{v}" for k, v in _VIP.items()}
)


view = shape.view(
    LoadBalancerView,
    g.LoadBalancer,
    **{name: f"(m.vip.{field} or None)" for name, field in _VIP.items()},
    vip_vnic_type="(m.vip_vnic_type or 'normal')",
    vip_sg_ids="list(m.vip_sg_ids)",
    additional_vips="[{'subnet_id': v.subnet_id, 'ip_address': v.ip_address or None}"
    " for v in m.additional_vips]",
    listeners=shape.IDS.format("m.listeners"),
    pools=shape.IDS.format("m.pools"),
    provider="(m.provider or 'amphora')",
)


def full_view(lb: g.LoadBalancer) -> dict[str, Any]:
    """Octavia's answer to a fully populated create: every child as a whole object."""
    return {
        **view(lb),
        "listeners": [listener_schema.full_view(x) for x in lb.listeners],
        "pools": [pool_schema.full_view(x) for x in lb.pools],
    }


LoadBalancerCreateRoot = request_root("loadbalancer", LoadBalancerCreate)
LoadBalancerUpdateRoot = request_root("loadbalancer", LoadBalancerUpdate)
LoadBalancerResizeRoot = request_root("loadbalancer", LoadBalancerResize)
LoadBalancerRoot = root_model("loadbalancer", LoadBalancerView)
LoadBalancerList = collection_model("loadbalancers", LoadBalancerView)
