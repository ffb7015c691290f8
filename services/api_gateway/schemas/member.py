"""Member request models and their translation to the contract."""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas.body import mask, require_set, unsupported
from services.api_gateway.schemas.common import META_PATHS, fill_meta, owner_project
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


_UPDATE_PATHS = {
    **META_PATHS,
    "weight": "weight",
    "backup": "backup",
    "monitor_address": "monitor_address",
    "monitor_port": "monitor_port",
}


def _fill(member: g.Member, body: _MemberFields) -> None:
    member.weight = 1 if body.weight is None else body.weight
    member.backup = bool(body.backup)
    member.monitor_address = body.monitor_address or ""
    if body.monitor_port is not None:
        member.monitor_port = body.monitor_port


def create_request(
    pool_id: str, body: MemberCreate, principal: Principal
) -> pb.CreateMemberRequest:
    unsupported(body, {"request_sriov": False})
    member = g.Member(
        pool_id=pool_id,
        address=body.address,
        protocol_port=body.protocol_port,
        subnet_id=body.subnet_id or "",
    )
    fill_meta(member.meta, body, owner_project(principal, body))
    _fill(member, body)
    return pb.CreateMemberRequest(scope=principal.scope(), member=member)


def update_request(
    pool_id: str, member_id: str, body: MemberUpdate, principal: Principal
) -> pb.UpdateMemberRequest:
    member = g.Member(pool_id=pool_id)
    member.meta.id = member_id
    fill_meta(member.meta, body)
    _fill(member, body)
    return pb.UpdateMemberRequest(
        scope=principal.scope(), member=member, update_mask=mask(body, _UPDATE_PATHS)
    )
