"""Quota request model (PUT /lbaas/quotas/{project_id}) and its translation to the contract.

Octavia accepts each limit under its current name and, for two of them, under a deprecated
spelling (loadbalancer, healthmonitor); both reach the same contract field.
"""

from __future__ import annotations

from typing import Annotated

from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import WithJsonSchema, model_validator

from services.api_gateway.schemas.body import FieldError
from services.api_gateway.schemas.fields import Strict, integer

# Octavia's bounds: -1 is unlimited, 0 forbids the resource.
MIN_QUOTA = -1
MAX_QUOTA = 2000000000

QuotaLimit = Annotated[
    integer(MIN_QUOTA, MAX_QUOTA),
    WithJsonSchema({"type": "integer", "minimum": MIN_QUOTA, "maximum": MAX_QUOTA}),
]

# Contract field -> the names a request may use for it (current first).
QUOTA_FIELDS: dict[str, tuple[str, ...]] = {
    "load_balancer": ("load_balancer", "loadbalancer"),
    "listener": ("listener",),
    "pool": ("pool",),
    "health_monitor": ("health_monitor", "healthmonitor"),
    "member": ("member",),
    "l7policy": ("l7policy",),
    "l7rule": ("l7rule",),
}


class QuotaUpdate(Strict):
    """Each limit sent sets it; sent as null, the project goes back to the default for it."""

    load_balancer: QuotaLimit | None = None
    loadbalancer: QuotaLimit | None = None
    listener: QuotaLimit | None = None
    pool: QuotaLimit | None = None
    health_monitor: QuotaLimit | None = None
    healthmonitor: QuotaLimit | None = None
    member: QuotaLimit | None = None
    l7policy: QuotaLimit | None = None
    l7rule: QuotaLimit | None = None

    @model_validator(mode="after")
    def _aliases_agree(self) -> QuotaUpdate:
        sent = self.model_fields_set
        for names in QUOTA_FIELDS.values():
            given = [n for n in names if n in sent]
            if len({getattr(self, n) for n in given}) > 1:
                alias = given[-1]
                raise FieldError(
                    alias, getattr(self, alias), f"Value conflicts with {given[0]} in the request."
                )
        return self


def update_request(project_id: str, body: QuotaUpdate) -> pb.UpdateQuotaRequest:
    quota = admin_pb2.Quota(project_id=project_id)
    paths = []
    for field, names in QUOTA_FIELDS.items():
        given = [n for n in names if n in body.model_fields_set]
        if not given:
            continue
        paths.append(field)
        value = getattr(body, given[0])
        if value is not None:
            setattr(quota, field, value)
    return pb.UpdateQuotaRequest(quota=quota, update_mask=FieldMask(paths=paths))
