"""AS3 object names derived from ids, and user text made safe for AS3 `remark` and `label`.

AS3 names become BIG-IP partition, folder and object names: they are built only from validated
ids with a fixed prefix (a name must start with a letter; ids may start with a digit). User
strings never become names; they go only into `remark`/`label`, stripped of the characters the
schema refuses there and cut to its 64-character limit.
"""

from __future__ import annotations

import hashlib
import re

from services.renderer.domain import filters

# Schema: Tenant names ^[A-Za-z][0-9A-Za-z_.-]*$; Application member names also must not end
# in '-'. BIG-IP partition names are kept to 64 characters.
_PROJECT_ID = re.compile(r"[0-9A-Za-z_-]{1,56}")
# Characters the schema's Remark and Label definitions refuse.
_NOT_REMARK = re.compile(r"[\x00-\x1f\x22\x5c\x7f]")
_NOT_LABEL = re.compile(r"[\x00-\x1f\x22#&*<>?\x5b-\x5d`\x7f]")
TEXT_MAX = 64


def tenant(project_id: str) -> str:
    """Tenant (BIG-IP partition) of a project: the id itself when it is a plain word, else a
    hash of it under another prefix, so the two forms never collide."""
    if _PROJECT_ID.fullmatch(project_id):
        return f"Project_{project_id}"
    return "ProjectH_" + hashlib.sha256(project_id.encode("utf-8")).hexdigest()[:32]


def of(kind: str, object_id: str, field: str) -> str:
    """`<kind>_<uuid>`: the uuid is checked, so the name matches AS3's name patterns."""
    return f"{kind}_{filters.uuid_id(object_id, field)}"


def remark(text: str) -> str:
    return _NOT_REMARK.sub("_", text)[:TEXT_MAX]


def label(text: str) -> str:
    return _NOT_LABEL.sub("_", text)[:TEXT_MAX]


def described(obj: dict, name: str, description: str) -> dict:
    """Adds the user's name as `label` and description as `remark` when they are set."""
    if name:
        obj["label"] = label(name)
    if description:
        obj["remark"] = remark(description)
    return obj
