"""L7 policy request models, Octavia's action/redirect rules, and the policy view models."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import l7rule, shape
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
    INT32_MAX,
    UUID,
    Bool,
    Description,
    Name,
    Option,
    ProjectId,
    Strict,
    Tags,
    Url,
    integer,
)


class _PolicyFields(Strict):
    name: Name | None = None
    description: Description | None = None
    admin_state_up: Bool | None = None
    action: Option | None = None
    position: integer(1, INT32_MAX) | None = None
    redirect_pool_id: UUID | None = None
    redirect_url: Url | None = None
    redirect_prefix: Url | None = None
    redirect_http_code: integer(0, 999) | None = None
    tags: Tags | None = None


class L7PolicySingleCreate(_PolicyFields):
    """A policy inside a listener of a single-call load balancer create: redirect_pool names a
    pool of that load balancer (or defines one), and the graph resolves it."""

    redirect_pool: dict[str, Any] | None = None
    rules: list[l7rule.L7RuleCreate] | None = None
    project_id: ProjectId | None = None


class L7PolicyCreate(_PolicyFields):
    listener_id: UUID | None
    project_id: ProjectId | None = None
    rules: list[l7rule.L7RuleCreate] | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> L7PolicyCreate:
        require_set(self, "listener_id", self.listener_id)
        return self


class L7PolicyUpdate(_PolicyFields):
    pass


def to_proto(
    body: L7PolicyCreate | L7PolicySingleCreate,
    project_id: str = "",
    redirect_pool_ref: str = "",
) -> g.L7Policy:
    """The policy as sent (the orchestrator resolves the action from the fields sent: Octavia's
    sanitize_l7policy_api_args, domain/rules.l7policy_action)."""
    policy = g.L7Policy()
    fill_meta(policy.meta, body, project_id)
    shape.fill(policy, body)
    if redirect_pool_ref:
        policy.redirect_pool_id = redirect_pool_ref
    for rule in body.rules or ():
        policy.rules.append(l7rule.to_proto(rule, project_id))
    return policy


def create_request(body: L7PolicyCreate, principal: Principal) -> pb.CreateL7PolicyRequest:
    policy = to_proto(body, owner_project(principal, body))
    return pb.CreateL7PolicyRequest(scope=principal.scope(), l7policy=policy)


def update_request(
    policy_id: str, body: L7PolicyUpdate, principal: Principal
) -> pb.UpdateL7PolicyRequest:
    policy = g.L7Policy()
    policy.meta.id = policy_id
    fill_meta(policy.meta, body)
    shape.fill(policy, body)
    return pb.UpdateL7PolicyRequest(
        scope=principal.scope(), l7policy=policy, update_mask=mask(body, _UPDATE_PATHS)
    )


# -- documented shapes -------------------------------------------------------------------


class L7PolicyView(MetaView):
    description: str
    listener_id: str
    action: str
    position: int
    redirect_pool_id: str | None
    redirect_url: str | None
    redirect_prefix: str | None
    redirect_http_code: int | None
    rules: list[IdRef]


class L7PolicyFullView(L7PolicyView):
    """A policy in a fully populated load balancer: its rules as whole objects."""

    rules: list[l7rule.L7RuleView]  # type: ignore[assignment]


_UPDATE_PATHS = shape.update_paths(L7PolicyUpdate, g.L7Policy)
view = shape.view(L7PolicyView, g.L7Policy, rules=lambda p: shape.ids(r.meta.id for r in p.rules))


def full_view(policy: g.L7Policy) -> dict[str, Any]:
    """As in a fully populated load balancer: the rules as whole objects."""
    return {**view(policy), "rules": [l7rule.view(r) for r in policy.rules]}


L7PolicyCreateRoot = request_root("l7policy", L7PolicyCreate)
L7PolicyUpdateRoot = request_root("l7policy", L7PolicyUpdate)
L7PolicyRoot = root_model("l7policy", L7PolicyView)
L7PolicyList = collection_model("l7policies", L7PolicyView)
