"""Reads a JSON request body inside its Octavia envelope and validates it with a model."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from google.protobuf.field_mask_pb2 import FieldMask
from pydantic import BaseModel, ValidationError

from services.api_gateway import input_guard
from services.api_gateway.faults import ApiFault, BadRequest, invalid_field

M = TypeVar("M", bound=BaseModel)


async def _envelope(request: Request, root: str, *, name_root: bool) -> Any:
    """The value under `root` of the JSON body `{root: ...}`, decoded by the input guard;
    `name_root`: the root is part of the field names its errors give."""
    raw = await request.body()
    try:
        data = input_guard.loads(raw or b"null")
    except input_guard.JsonInputError as err:
        raise err.fault(None if name_root else root) from None
    if not isinstance(data, dict) or root not in data:
        raise BadRequest(f'Missing argument: "{root}"')
    extra = sorted(k for k in data if k != root)
    if extra:
        raise BadRequest(f"Unknown argument: {extra[0]}")
    return data[root]


async def parse_body(request: Request, model: type[M], root: str) -> M:
    inner = await _envelope(request, root, name_root=False)
    if not isinstance(inner, dict):
        raise invalid_field(root, inner, "Wrong type. Expected an object.")
    try:
        return model.model_validate(inner)
    except ValidationError as err:
        raise _fault(err, inner) from None


def _fault(err: ValidationError, data: dict, prefix: str = "") -> BadRequest:
    first = err.errors()[0]
    loc = [prefix] if prefix else []
    loc += [str(p) for p in first["loc"] if not isinstance(p, int)]
    field = ".".join(loc) or "body"
    kind = first["type"]
    value: Any = first.get("input")
    if kind == "missing":
        return invalid_field(field, None, "Mandatory field missing.")
    if kind == "extra_forbidden":
        return invalid_field(field, value, "Unknown attribute.")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return invalid_field(field, value, "Wrong type. Expected an object.")
    cause = (first.get("ctx") or {}).get("error")
    if cause is not None:
        reason = str(cause)
        if isinstance(cause, FieldError):
            field = cause.field or field
            # A rule broken inside a nested object names the field from that object's root.
            nested = [str(p) for p in first["loc"] if not isinstance(p, int)]
            if cause.field and (nested or prefix):
                field = ".".join([*([prefix] if prefix else []), *nested, cause.field])
            value = cause.value
        return invalid_field(field, value, reason)
    return invalid_field(field, value, first["msg"])


class FieldError(ValueError):
    """A cross-field rule broken in a model validator, naming the field it is about."""

    def __init__(self, field: str, value: Any, reason: str):
        super().__init__(reason)
        self.field = field
        self.value = value


def require_set(model: BaseModel, field: str, value: Any) -> None:
    """A mandatory field given as null is missing, as in WSME."""
    if value is None:
        raise FieldError(field, None, "Mandatory field missing.")


def unsupported(model: BaseModel, defaults: dict[str, Any]) -> None:
    """Refuses Octavia options this deployment cannot honour yet (instead of dropping them)."""
    for field, default in defaults.items():
        value = getattr(model, field)
        if value is not None and value != default:
            raise ApiFault(501, f"Provider 'amphora' does not support a requested option: {field}")


# Fields with no "unset" state: null in an update leaves them as they are. Any other field
# sent as null is reset to its default (a member's weight and backup too: Octavia's
# _set_default_on_none puts them back to 1 and false, which `member unset --weight --backup`
# relies on).
_NULL_KEEPS = frozenset(["admin_state_up", "delay", "timeout", "max_retries", "lb_algorithm"])


def mask(model: BaseModel, paths: dict[str, str]) -> FieldMask:
    """An update mask naming the proto paths of the fields the caller sent."""
    sent = {
        f
        for f in model.model_fields_set
        if f in paths and not (f in _NULL_KEEPS and getattr(model, f) is None)
    }
    return FieldMask(paths=sorted({paths[f] for f in sent}))


async def parse_list_body(request: Request, model: type[M], root: str) -> list[M]:
    """A body `{root: [object...]}` (member batch update); each object validated by model."""
    items = await _envelope(request, root, name_root=True)
    if not isinstance(items, list):
        raise invalid_field(root, items, "Wrong type. Expected a list.")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid_field(root, item, "Wrong type. Expected an object.")
        try:
            out.append(model.model_validate(item))
        except ValidationError as err:
            raise _fault(err, item, prefix=root) from None
    return out


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` documenting a JSON body that the route reads itself with parse_body.

    The schema is inlined (no `$defs`): OpenAPI resolves `$ref`s against the whole document.
    """
    schema = model.model_json_schema()
    body = _inline(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}
