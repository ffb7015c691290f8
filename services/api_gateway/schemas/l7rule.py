"""L7 rule request models and the rule view. Octavia's per-type rules on key and value are the
orchestrator's (domain/rules.l7rule_problem), on the rule as it is after a create or update."""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import shape
from services.api_gateway.schemas.body import mask, require_set
from services.api_gateway.schemas.common import (
    View,
    collection_model,
    fill_meta,
    owner_project,
    request_root,
    root_model,
)
from services.api_gateway.schemas.fields import (
    Bool,
    Option,
    ProjectId,
    Strict,
    Tags,
    text,
)


class _RuleFields(Strict):
    type: Option | None = None
    compare_type: Option | None = None
    key: text(255) | None = None
    value: text(255) | None = None
    invert: Bool | None = None
    admin_state_up: Bool | None = None
    tags: Tags | None = None


class L7RuleCreate(_RuleFields):
    project_id: ProjectId | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> L7RuleCreate:
        for field in ("type", "compare_type", "value"):
            require_set(self, field, getattr(self, field))
        return self


class L7RuleUpdate(_RuleFields):
    pass


def to_proto(body: _RuleFields, project_id: str = "") -> g.L7Rule:
    rule = g.L7Rule()
    fill_meta(rule.meta, body, project_id)
    shape.fill(rule, body)
    return rule


def create_request(
    policy_id: str, body: L7RuleCreate, principal: Principal
) -> pb.CreateL7RuleRequest:
    rule = to_proto(body, owner_project(principal, body))
    rule.l7policy_id = policy_id
    return pb.CreateL7RuleRequest(scope=principal.scope(), l7rule=rule)


def update_request(
    policy_id: str, rule_id: str, body: L7RuleUpdate, principal: Principal
) -> pb.UpdateL7RuleRequest:
    rule = to_proto(body)
    rule.l7policy_id = policy_id
    rule.meta.id = rule_id
    return pb.UpdateL7RuleRequest(
        scope=principal.scope(), l7rule=rule, update_mask=mask(body, _UPDATE_PATHS)
    )


# -- documented shapes -------------------------------------------------------------------


class L7RuleView(View):
    """Octavia's rule: the common fields without name and description."""

    id: str
    project_id: str
    tenant_id: str
    provisioning_status: str
    operating_status: str
    admin_state_up: bool
    created_at: str | None
    updated_at: str | None
    tags: list[str]
    type: str
    compare_type: str
    key: str | None
    value: str
    invert: bool


_UPDATE_PATHS = shape.update_paths(L7RuleUpdate, g.L7Rule)
view = shape.view(L7RuleView, g.L7Rule)

L7RuleCreateRoot = request_root("rule", L7RuleCreate)
L7RuleUpdateRoot = request_root("rule", L7RuleUpdate)
L7RuleRoot = root_model("rule", L7RuleView)
L7RuleList = collection_model("rules", L7RuleView)
