"""The AS3 schema declarations are checked against (a copy; see README.md beside it).

`validator()` needs the `jsonschema` package (a development dependency): the renderer itself
never validates at run time, its tests validate every declaration it renders.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).parent / "as3-schema-3.56.0.json"
# AS3's own "f5ip" format: an address, optional %route-domain, optional /prefix length.
_F5IP = re.compile(r"^(?P<addr>[^%/]+)(?:%\d{1,5})?(?:/\d{1,3})?$")


def _f5ip(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if value in ("", "any", "any6"):
        return True
    match = _F5IP.fullmatch(value)
    if match is None:
        return False
    try:
        ipaddress.ip_address(match["addr"])
    except ValueError:
        return False
    return True


@functools.cache
def validator(definition: str = "") -> Any:
    """A Draft-7 validator for the whole schema (or one of its definitions, for readable
    errors); AS3's own keywords (f5PostProcess, ...) are ignored, its "f5ip" format is checked,
    other custom formats are not."""
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    if definition:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("f5ip")(_f5ip)
    return jsonschema.Draft7Validator(schema, format_checker=checker)


def errors(document: dict) -> list[str]:
    """Schema violations in document, as "path: message" lines; empty when the whole schema
    accepts it. The root is a oneOf of request shapes, so details come from the ADC shape."""
    if validator().is_valid(document):
        return []
    found = sorted(validator("ADC").iter_errors(document), key=lambda e: list(e.absolute_path))
    lines = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in found]
    return lines or ["document is not a valid AS3 request"]
