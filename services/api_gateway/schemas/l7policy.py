"""L7 policy request models, Octavia's action/redirect rules, and the policy view models."""

from __future__ import annotations

from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas import l7rule
from services.api_gateway.schemas.body import FieldError, mask, require_set
from services.api_gateway.schemas.common import (
    META_PATHS,
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

DEFAULT_REDIRECT_CODE = 302
# The field each redirecting action needs.
_TARGET = {
    "REDIRECT_TO_POOL": "redirect_pool_id",
    "REDIRECT_TO_URL": "redirect_url",
    "REDIRECT_PREFIX": "redirect_prefix",
}
_REDIRECT_FIELDS = ("redirect_pool_id", "redirect_url", "redirect_prefix", "redirect_http_code")


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


def resolve_action(values: dict[str, Any], *, create: bool) -> dict[str, Any] | None:
    """Octavia's sanitize_l7policy_api_args: the action and redirect fields as they will be.

    `values` holds the fields the caller sent (a redirect pool given by name in a single-call
    create counts as redirect_pool_id). Returns None when the caller touched none of them.
    """
    touched = {k: values.get(k) for k in ("action", *_REDIRECT_FIELDS) if k in values}
    if not touched and not create:
        return None
    targets = [f for f in ("redirect_pool_id", "redirect_url", "redirect_prefix") if values.get(f)]
    if len(targets) > 1:
        raise FieldError(
            targets[1],
            values[targets[1]],
            f"Cannot specify {targets[0]} and {targets[1]} at the same time.",
        )
    action = values.get("action")
    if action == "REJECT":
        targets = []
    elif action in _TARGET and _TARGET[action] not in targets:
        field = _TARGET[action]
        raise FieldError(field, values.get(field), f"{field} must not be None for action {action}.")
    elif action is None and targets:
        # As Octavia: the redirect field given decides the action.
        action = next(a for a, f in _TARGET.items() if f == targets[0])
    if action is None:
        if not create and touched.keys() == {"redirect_http_code"}:
            return {"redirect_http_code": values["redirect_http_code"]}
        raise FieldError("action", None, "Mandatory field missing.")
    out: dict[str, Any] = {"action": action, **dict.fromkeys(_REDIRECT_FIELDS)}
    for field in targets:
        out[field] = values[field]
    if action in ("REDIRECT_TO_URL", "REDIRECT_PREFIX"):
        out["redirect_http_code"] = values.get("redirect_http_code") or DEFAULT_REDIRECT_CODE
    return out


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
        resolve_action(_sent(self), create=True)
        return self


class L7PolicyUpdate(_PolicyFields):
    @model_validator(mode="after")
    def _consistent(self) -> L7PolicyUpdate:
        resolve_action(_sent(self), create=False)
        return self


def _sent(body: _PolicyFields) -> dict[str, Any]:
    return {k: getattr(body, k) for k in body.model_fields_set}


_UPDATE_PATHS = {**META_PATHS, "position": "position"}


def _fill_action(policy: g.L7Policy, resolved: dict[str, Any]) -> None:
    policy.action = resolved.get("action") or ""
    policy.redirect_pool_id = resolved.get("redirect_pool_id") or ""
    policy.redirect_url = resolved.get("redirect_url") or ""
    policy.redirect_prefix = resolved.get("redirect_prefix") or ""
    if resolved.get("redirect_http_code") is not None:
        policy.redirect_http_code = resolved["redirect_http_code"]


def to_proto(
    body: L7PolicyCreate | L7PolicySingleCreate,
    project_id: str = "",
    redirect_pool_ref: str = "",
) -> g.L7Policy:
    values = _sent(body)
    if redirect_pool_ref:
        values["redirect_pool_id"] = redirect_pool_ref
    policy = g.L7Policy(position=body.position or 0)
    fill_meta(policy.meta, body, project_id)
    _fill_action(policy, resolve_action(values, create=True) or {})
    for rule in body.rules or ():
        policy.rules.append(l7rule.to_proto(rule, project_id))
    return policy


def create_request(body: L7PolicyCreate, principal: Principal) -> pb.CreateL7PolicyRequest:
    policy = to_proto(body, owner_project(principal, body))
    policy.listener_id = body.listener_id or ""
    return pb.CreateL7PolicyRequest(scope=principal.scope(), l7policy=policy)


def update_request(
    policy_id: str, body: L7PolicyUpdate, principal: Principal
) -> pb.UpdateL7PolicyRequest:
    policy = g.L7Policy(position=body.position or 0)
    policy.meta.id = policy_id
    fill_meta(policy.meta, body)
    update_mask = mask(body, _UPDATE_PATHS)
    resolved = resolve_action(_sent(body), create=False)
    if resolved is not None:
        _fill_action(policy, resolved)
        update_mask.paths.extend(sorted(resolved))
    return pb.UpdateL7PolicyRequest(
        scope=principal.scope(), l7policy=policy, update_mask=update_mask
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


L7PolicyCreateRoot = request_root("l7policy", L7PolicyCreate)
L7PolicyUpdateRoot = request_root("l7policy", L7PolicyUpdate)
L7PolicyRoot = root_model("l7policy", L7PolicyView)
L7PolicyList = collection_model("l7policies", L7PolicyView)
