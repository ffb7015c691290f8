"""What a resource module declares once (its request models and its view model) is mapped to and
from the contract's message by name; each module names only its exceptions.

- `fill` copies a request's fields into the message field of the same name.
- `update_paths` gives the update mask path of each field an update model takes.
- `view` builds the Octavia object a view model documents from the message.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel

from services.api_gateway import views
from services.api_gateway.schemas.common import META_PATHS

Getter = Callable[[Any], Any]

# The common fields, which the contract keeps in ResourceMeta (tenant_id: Octavia's deprecated
# alias of project_id, still in every answer), as expressions over `meta`, the message's.
META_VIEW: dict[str, str] = {
    "id": "meta.id",
    "name": "meta.name",
    "description": "meta.description",
    "project_id": "meta.project_id",
    "tenant_id": "meta.project_id",
    "provisioning_status": "provisioning(meta.provisioning_status)",
    "operating_status": "operating(meta.operating_status)",
    "admin_state_up": "meta.admin_state_up",
    "created_at": "timestamp(meta.created_at)",
    "updated_at": "timestamp(meta.updated_at)",
    "tags": "list(meta.tags)",
}


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _nullable(annotation: Any) -> bool:
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    return union and type(None) in typing.get_args(annotation)


def _expression(field: FieldDescriptor, nullable: bool) -> str:
    """The view's value of a message field, as an expression over `m`."""
    value = f"m.{field.name}"
    if _is_map(field):
        return f"dict({value})"
    if field.is_repeated:  # Octavia shows an unset list as null where its model allows null
        return f"(list({value}) or None)" if nullable else f"list({value})"
    if field.has_presence:
        return f"({value} if m.HasField({field.name!r}) else None)"
    return f"({value} or None)" if nullable else value  # an unset string is null


def view(
    model: type[BaseModel], message: type[Message], **special: Getter | str
) -> Callable[[Message], dict[str, Any]]:
    """The function that gives `model`'s attributes, in its order, from a `message`: common
    fields from meta, `special` ones by their getters (or expressions over the message `m`), every other one from the message field
    of the same name (an unknown name fails here, at import).

    The function is generated as one dict display, as dataclasses generate __init__: lists
    build a thousand views per request, and this is as fast as writing each view by hand."""
    fields = message.DESCRIPTOR.fields_by_name
    namespace: dict[str, Any] = {
        "provisioning": views.provisioning,
        "operating": views.operating,
        "timestamp": views.timestamp,
    }
    items = []
    for name, info in model.model_fields.items():
        if name in special:
            if isinstance(special[name], str):
                expression = special[name]
            else:
                namespace[f"_{name}"] = special[name]
                expression = f"_{name}(m)"
        elif name in META_VIEW:
            expression = META_VIEW[name]
        elif name in fields:
            expression = _expression(fields[name], _nullable(info.annotation))
        else:
            raise LookupError(f"{model.__name__}.{name}: no field {name} in {message.__name__}")
        items.append(f"{name!r}: {expression}")
    source = "def build(m):\n    meta = m.meta\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, f"<view of {model.__name__}>", "exec"), namespace)  # noqa: S102
    return namespace["build"]


def fill(
    msg: Message,
    body: BaseModel,
    defaults: Mapping[str, Any] | None = None,
    skip: Iterable[str] = (),
) -> None:
    """Copies the body's fields into the message fields of the same name; a field left out
    (None) takes its value from `defaults`, else the message's. Common fields (fill_meta),
    nested messages and names the message lacks are the caller's."""
    fields = msg.DESCRIPTOR.fields_by_name
    defaults = defaults or {}
    skipped = set(skip) | set(META_PATHS)
    for name in type(body).model_fields:
        field = fields.get(name)
        if field is None or name in skipped:
            continue
        value = getattr(body, name)
        if value is None:
            value = defaults.get(name)
        if value is None:
            continue
        if _is_map(field):
            getattr(msg, name).update(value)
        elif field.message_type is not None:
            continue
        elif field.is_repeated:
            getattr(msg, name).extend(value)
        else:
            setattr(msg, name, value)


def update_paths(
    model: type[BaseModel], message: type[Message], renames: Mapping[str, str] | None = None
) -> dict[str, str]:
    """request field -> update mask path, for every field an update model takes."""
    fields = message.DESCRIPTOR.fields_by_name
    renames = renames or {}
    out = {}
    for name in model.model_fields:
        if name in renames:
            out[name] = renames[name]
        elif name in META_PATHS:
            out[name] = META_PATHS[name]
        elif name in fields:
            out[name] = name
        else:
            raise LookupError(f"{model.__name__}.{name}: no field {name} in {message.__name__}")
    return out


# {"id": ...} of each child in a repeated field (the expression of a special).
IDS = "[{{'id': i}} for x in {} if (i := x.meta.id)]"


def ids(values: Iterable[str]) -> list[dict[str, str]]:
    return [{"id": i} for i in values if i]
