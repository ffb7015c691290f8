"""Member request models, their translation to the contract, and the member view model."""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import BaseModel, model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import shape
from services.api_gateway.schemas.body import mask, require_set
from services.api_gateway.schemas.common import (
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
    IPAddress,
    Name,
    PortNumber,
    ProjectId,
    Strict,
    Tags,
    integer,
)

Weight = integer(0, 256)


class _MemberFields(Strict):
    name: Name | None = None
    admin_state_up: Bool | None = None
    weight: Weight | None = None
    backup: Bool | None = None
    monitor_address: IPAddress | None = None
    monitor_port: PortNumber | None = None
    tags: Tags | None = None


class MemberCreate(_MemberFields):
    address: IPAddress | None
    protocol_port: PortNumber | None
    subnet_id: UUID | None = None
    project_id: ProjectId | None = None
    request_sriov: Bool | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> MemberCreate:
        require_set(self, "address", self.address)
        require_set(self, "protocol_port", self.protocol_port)
        return self


class MemberUpdate(_MemberFields):
    pass


# Octavia's defaults (an update's null resets weight and backup too: _set_default_on_none).
_DEFAULTS = {"weight": 1}


def to_proto(body: MemberCreate, pool_id: str = "", project_id: str = "") -> g.Member:
    # Octavia's way to ask for an SR-IOV port: the member's vnic_type becomes "direct".
    member = g.Member(pool_id=pool_id, vnic_type="direct" if body.request_sriov else "normal")
    fill_meta(member.meta, body, project_id)
    shape.fill(member, body, _DEFAULTS)
    return member


def create_request(
    pool_id: str, body: MemberCreate, principal: Principal
) -> pb.CreateMemberRequest:
    member = to_proto(body, pool_id, owner_project(principal, body))
    return pb.CreateMemberRequest(scope=principal.scope(), member=member)


def batch_request(
    pool_id: str, bodies: list[MemberCreate], principal: Principal, additive_only: bool
) -> pb.BatchUpdateMembersRequest:
    members = [to_proto(b, pool_id, owner_project(principal, b)) for b in bodies]
    return pb.BatchUpdateMembersRequest(
        scope=principal.scope(), pool_id=pool_id, members=members, additive_only=additive_only
    )


def update_request(
    pool_id: str, member_id: str, body: MemberUpdate, principal: Principal
) -> pb.UpdateMemberRequest:
    member = g.Member(pool_id=pool_id)
    member.meta.id = member_id
    fill_meta(member.meta, body)
    shape.fill(member, body, _DEFAULTS)
    return pb.UpdateMemberRequest(
        scope=principal.scope(), member=member, update_mask=mask(body, _UPDATE_PATHS)
    )


# -- documented shapes -------------------------------------------------------------------


class MemberView(MetaView):
    address: str
    protocol_port: int
    weight: int
    backup: bool
    subnet_id: str | None
    monitor_address: str | None
    monitor_port: int | None
    vnic_type: str


_UPDATE_PATHS = shape.update_paths(MemberUpdate, g.Member)
view = shape.view(MemberView, g.Member, vnic_type=lambda m: m.vnic_type or "normal")

MemberCreateRoot = request_root("member", MemberCreate)
MemberUpdateRoot = request_root("member", MemberUpdate)
MemberRoot = root_model("member", MemberView)
MemberList = collection_model("members", MemberView)


class MembersBatchRoot(BaseModel):
    """PUT /pools/{pool_id}/members: the pool's members as they should be."""

    members: list[MemberCreate]
