"""L7 rule request models, Octavia's per-type rules on key and value, and the rule view."""

from __future__ import annotations

import re
from typing import Any

from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import model_validator

from services.api_gateway.auth import Principal
from services.api_gateway.schemas.body import FieldError, mask, require_set
from services.api_gateway.schemas.common import (
    META_PATHS,
    View,
    collection_model,
    fill_meta,
    owner_project,
    request_root,
    root_model,
)
from services.api_gateway.schemas.fields import (
    COOKIE_VALUE,
    HEADER_NAME,
    HEADER_VALUE,
    Bool,
    Option,
    ProjectId,
    Strict,
    Tags,
    text,
)
from services.api_gateway.schemas.fields import _regex as check_regex

_KEYED = ("HEADER", "COOKIE", "SSL_DN_FIELD")
_NO_KEY = ("SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT")
_DN_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


class _RuleFields(Strict):
    type: Option | None = None
    compare_type: Option | None = None
    key: text(255) | None = None
    value: text(255) | None = None
    invert: Bool | None = None
    admin_state_up: Bool | None = None
    tags: Tags | None = None


def check_rule(type_: str, compare: str, key: str | None, value: str | None) -> None:
    """Octavia's validate.l7rule_data, with values held to shapes a config line can carry."""
    if not value:
        raise FieldError("value", value, "L7 rule type requires a value.")
    if type_ in _KEYED and not key:
        raise FieldError("key", key, f"L7 rule type {type_} requires a key.")
    if type_ in _NO_KEY and key:
        raise FieldError("key", key, f'L7rule type {type_} does not use the "key" field.')
    if key and type_ == "SSL_DN_FIELD" and not _DN_FIELD.fullmatch(key):
        raise FieldError("key", key, "Invalid L7rule distinguished name field.")
    if key and type_ != "SSL_DN_FIELD" and not HEADER_NAME.fullmatch(key):
        raise FieldError("key", key, "Value is not a valid header or cookie name.")
    if type_ == "FILE_TYPE" and compare not in ("REGEX", "EQUAL_TO"):
        raise FieldError("compare_type", compare, "invalid comparison type for rule type")
    if type_ in _NO_KEY:
        if compare != "EQUAL_TO":
            raise FieldError(
                "compare_type",
                compare,
                f"L7rule type {type_} only supports the EQUAL_TO compare type.",
            )
        if type_ == "SSL_CONN_HAS_CERT" and value.lower() != "true":
            raise FieldError("value", value, f"L7rule value {value} is not a boolean True string.")
        if type_ == "SSL_VERIFY_RESULT" and not value.isdigit():
            raise FieldError(
                "value", value, f"L7rule type {type_} needs a int value, which is >= 0"
            )
        return
    if compare == "REGEX":
        try:
            check_regex(value)
        except ValueError as err:
            raise FieldError("value", value, str(err)) from None
        return
    shape = COOKIE_VALUE if type_ == "COOKIE" else HEADER_VALUE
    if not shape.fullmatch(value):
        raise FieldError(
            "value", value, "Value has characters that are not allowed in this comparison value."
        )


class L7RuleCreate(_RuleFields):
    project_id: ProjectId | None = None

    @model_validator(mode="after")
    def _mandatory(self) -> L7RuleCreate:
        for field in ("type", "compare_type", "value"):
            require_set(self, field, getattr(self, field))
        check_rule(self.type or "", self.compare_type or "", self.key, self.value)
        return self


class L7RuleUpdate(_RuleFields):
    pass


_UPDATE_PATHS = {
    **{k: v for k, v in META_PATHS.items() if k not in ("name", "description")},
    **{k: k for k in ("type", "compare_type", "key", "value", "invert")},
}


def check_update(current: dict[str, Any], body: L7RuleUpdate) -> None:
    """The rule as it would be after the update must still be a valid rule."""
    merged = {k: current.get(k) for k in ("type", "compare_type", "key", "value")}
    for field in merged:
        if field in body.model_fields_set:
            merged[field] = getattr(body, field)
    for field in ("type", "compare_type", "value"):
        require_set(body, field, merged[field])
    check_rule(merged["type"], merged["compare_type"], merged["key"], merged["value"])


def to_proto(body: _RuleFields, project_id: str = "") -> g.L7Rule:
    rule = g.L7Rule(
        type=body.type or "",
        compare_type=body.compare_type or "",
        key=body.key or "",
        value=body.value or "",
        invert=bool(body.invert),
    )
    fill_meta(rule.meta, body, project_id)
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


L7RuleCreateRoot = request_root("rule", L7RuleCreate)
L7RuleUpdateRoot = request_root("rule", L7RuleUpdate)
L7RuleRoot = root_model("rule", L7RuleView)
L7RuleList = collection_model("rules", L7RuleView)
