"""Field types with Octavia's ranges and enumerations, and strict shapes for values that reach
rendered configs. Each validator raises ValueError with the WSME-style reason text; each type
also carries the JSON schema the OpenAPI document shows for it."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, PlainValidator, WithJsonSchema

MAX_TIMEOUT_MS = 31536000
INT32_MAX = 2147483647
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL_PATH = re.compile(r"/(?:[A-Za-z0-9\-._~!$&()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")
_EXPECTED_CODES = re.compile(r"\d{3}(?:,\d{3})*|\d{3}-\d{3}")
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*\.?")
_COOKIE = re.compile(r"[A-Za-z0-9_.\-]+")
# RFC 7230 token: header (and cookie) names.
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
# Header and cookie values as Octavia's HTTP_*_VALUE_REGEX, minus the characters a config line
# would need quoting for (double and single quotes, backslash); no spaces, no control characters.
HEADER_VALUE = re.compile(r"[A-Za-z0-9!#$%&()*+,\-./:;<=>?@\[\]^_`{|}~]+")
COOKIE_VALUE = re.compile(r"[A-Za-z0-9!#$%&()*+\-./:<=>?@\[\]^_`{|}~]+")
# A certificate/secret reference (a Barbican href or an opaque id): printable, no spaces/quotes.
_CONTAINER_REF = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")
# OpenSSL cipher list: names separated by ':' ',' or ' '-free, with !, +, -, @STRENGTH etc.
_OPTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,63}")
_CIPHERS = re.compile(r"[A-Za-z0-9_\-+!:@=.,]+")
_NO_CONFIG_BREAKERS = re.compile(r"[\s\"'\x00-\x1f\x7f]")
# Octavia (WSME) converts JSON strings to its integer and boolean attributes, and clients rely
# on it: python-octaviaclient sends e.g. `--connection-limit 50` as "50". Only integer-valued
# strings are integers here ("50", "-1"; not "5.0", " 5", "+5"); booleans take WSME's unambiguous
# words (wsme.rest.json ENUM_TRUE / ENUM_FALSE) and the integers 0 and 1.
_INT_STRING = re.compile(r"-?[0-9]{1,19}")
_TRUE_WORDS = frozenset(("true", "t", "yes", "y", "on", "1"))
_FALSE_WORDS = frozenset(("false", "f", "no", "n", "off", "0"))


class Strict(BaseModel):
    """Base of every request model: unknown attributes are errors."""

    model_config = ConfigDict(extra="forbid")


def _typed(fn: Callable[[Any], Any], schema: dict[str, Any]) -> tuple[Any, ...]:
    return (PlainValidator(fn), WithJsonSchema(schema))


def as_int(v: Any) -> int | None:
    """v as an integer if it is one (a JSON integer or an integer-valued string), else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and _INT_STRING.fullmatch(v):
        return int(v)
    return None


def as_bool(v: Any) -> bool | None:
    """v as a boolean the way WSME reads one, else None."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        if v in _TRUE_WORDS:
            return True
        if v in _FALSE_WORDS:
            return False
    return None


def integer(lo: int | None = None, hi: int = INT32_MAX, *, also: Iterable[int] = ()) -> Any:
    """An integer in [lo, hi]. Every integer attribute is a 32-bit column in Octavia and an
    int32 in the contracts, so hi is at most INT32_MAX unless a field says otherwise."""
    extra = frozenset(also)

    def check(raw: Any) -> int:
        v = as_int(raw)
        if v is None:
            raise ValueError("Wrong type. Expected an integer.")
        if v in extra:
            return v
        if lo is not None and hi is not None and not lo <= v <= hi:
            raise ValueError(f"Value must be between {lo} and {hi}.")
        if lo is not None and v < lo:
            raise ValueError(f"Value should be greater or equal to {lo}.")
        if hi is not None and v > hi:
            raise ValueError(f"Value should be lower or equal to {hi}.")
        return v

    schema: dict[str, Any] = {"type": "integer"}
    if lo is not None:
        schema["minimum"] = min([lo, *extra])
    if hi is not None:
        schema["maximum"] = hi
    return Annotated[int, *_typed(check, schema)]


def text(max_length: int = 255, *, pattern: re.Pattern[str] | None = None, what: str = "") -> Any:
    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError("Wrong type. Expected a string.")
        if len(v) > max_length:
            raise ValueError(f"Value should have a maximum character requirement of {max_length}.")
        if pattern is not None and not pattern.fullmatch(v):
            raise ValueError(f"Value is not a valid {what}.")
        if pattern is None and _CONTROL.search(v):
            raise ValueError("Value must not contain control characters.")
        return v

    schema: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if pattern is not None:
        schema["pattern"] = f"^(?:{pattern.pattern})$"
    return Annotated[str, *_typed(check, schema)]


def _bool(raw: Any) -> bool:
    v = as_bool(raw)
    if v is None:
        raise ValueError("Wrong type. Expected a boolean.")
    return v


def _uuid(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("Value should be UUID format")
    try:
        return str(uuid.UUID(v))
    except ValueError:
        raise ValueError("Value should be UUID format") from None


def _ip(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("Value should be IPv4 or IPv6 format")
    try:
        address = ipaddress.ip_address(v)
    except ValueError:
        raise ValueError("Value should be IPv4 or IPv6 format") from None
    # Python reads "fe80::1%eth0" as an address with a zone; no config can use one (the
    # renderers refuse it), so it was accepted and then put the load balancer in ERROR.
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise ValueError("Value should be IPv4 or IPv6 format, without a zone (%)")
    return str(address)


def _cidr(v: Any) -> str:
    if not isinstance(v, str) or "/" not in v:
        raise ValueError("Value should be IPv4 or IPv6 CIDR format")
    try:
        return str(ipaddress.ip_network(v, strict=False))
    except ValueError:
        raise ValueError("Value should be IPv4 or IPv6 CIDR format") from None


def _http_version(v: Any) -> float:
    # Compared as is: float() of a huge integer raises.
    if isinstance(v, bool) or not isinstance(v, int | float) or v not in (1.0, 1.1):
        raise ValueError("Value should be one of: 1.0, 1.1")
    return float(v)


def _url(v: Any) -> str:
    """An absolute http(s) URL that can sit in a config line as is (Octavia's URLType)."""
    if not isinstance(v, str):
        raise ValueError("Wrong type. Expected a string.")
    if len(v) > 255:
        raise ValueError("Value should have a maximum character requirement of 255.")
    if _NO_CONFIG_BREAKERS.search(v) or "\\" in v:
        raise ValueError("Value is not a valid URL: no spaces, quotes or control characters.")
    try:
        parts = urlsplit(v)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError("Value is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Value is not a valid URL: an http or https URL with a host is required.")
    return v


def _regex(v: Any) -> str:
    """A regular expression for an L7 rule: compiles, and has nothing that ends a config token."""
    if not isinstance(v, str):
        raise ValueError("Wrong type. Expected a string.")
    if len(v) > 255:
        raise ValueError("Value should have a maximum character requirement of 255.")
    if _NO_CONFIG_BREAKERS.search(v):
        raise ValueError(
            "Value is not a valid regex: no spaces, quotes or control characters "
            "(write a space as \\x20)."
        )
    try:
        re.compile(v)
    except re.error as err:
        raise ValueError(f"Value is not a valid regex: {err}") from None
    return v


def list_of(item: Any, *, max_items: int = 1000) -> Any:
    """A JSON array of item; each element is validated by item's own validator."""
    from pydantic import TypeAdapter  # local: one adapter per list type, built once

    schema = {"type": "array", "items": TypeAdapter(item).json_schema(), "maxItems": max_items}
    return Annotated[
        list[item], PlainValidator(_list_check(item, max_items)), WithJsonSchema(schema)
    ]


def _list_check(item: Any, max_items: int) -> Callable[[Any], list]:
    from pydantic import TypeAdapter  # local: one adapter per list type, built once

    adapter = TypeAdapter(item)

    def check(v: Any) -> list:
        if not isinstance(v, list):
            raise ValueError("Wrong type. Expected a list.")
        if len(v) > max_items:
            raise ValueError(f"Value should have at most {max_items} items.")
        out = []
        for element in v:
            try:
                out.append(adapter.validate_python(element))
            except Exception as err:  # pydantic ValidationError: keep its first reason
                errors = getattr(err, "errors", lambda: [])()
                reason = errors[0].get("ctx", {}).get("error") if errors else None
                raise ValueError(str(reason or err)) from None
        return out

    return check


def _string_map(v: Any) -> dict[str, str]:
    """A JSON object of short strings (insert_headers: which keys and values mean something is
    the orchestrator's rule)."""
    if not isinstance(v, dict):
        raise ValueError("Wrong type. Expected an object.")
    for key, value in v.items():
        if not isinstance(value, str):
            raise ValueError(f"Wrong type. Expected a string for {key[:64]}.")
        if len(key) > 255 or len(value) > 255 or _CONTROL.search(key) or _CONTROL.search(value):
            raise ValueError("Keys and values must be at most 255 characters, no control ones.")
    return dict(v)


_UUID_SCHEMA = {"type": "string", "format": "uuid"}
Bool = Annotated[bool, *_typed(_bool, {"type": "boolean"})]
StringMap = Annotated[
    dict[str, str],
    *_typed(
        _string_map,
        {"type": "object", "additionalProperties": {"type": "string", "maxLength": 255}},
    ),
]
UUID = Annotated[str, *_typed(_uuid, _UUID_SCHEMA)]
IPAddress = Annotated[
    str, *_typed(_ip, {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
]
Cidr = Annotated[str, *_typed(_cidr, {"type": "string", "description": "IPv4 or IPv6 CIDR"})]
HttpVersion = Annotated[float, *_typed(_http_version, {"type": "number", "enum": [1.0, 1.1]})]
Url = Annotated[str, *_typed(_url, {"type": "string", "format": "uri", "maxLength": 255})]
Regex = Annotated[str, *_typed(_regex, {"type": "string", "maxLength": 255})]
Name = text(255)
Description = text(255)
ProjectId = text(36)
Tags = list_of(text(255))
PortNumber = integer(1, 65535)
TimeoutMs = integer(0, MAX_TIMEOUT_MS)
UrlPath = text(2048, pattern=_URL_PATH, what="URL path")
ExpectedCodes = text(64, pattern=_EXPECTED_CODES, what="HTTP status code list or range")
DomainName = text(255, pattern=_DOMAIN, what="domain name")
CookieName = text(255, pattern=_COOKIE, what="cookie name")
ContainerRef = text(255, pattern=_CONTAINER_REF, what="container reference")
TlsCiphers = text(2048, pattern=_CIPHERS, what="OpenSSL cipher string")
# A value of one of Octavia's option lists (protocols, algorithms, types, TLS versions, ...): the
# gateway checks only its shape; the lists, and the 400 naming the field for a value outside
# them, are the orchestrator's (services/orchestrator/domain/rules.py), so they live once.
Option = text(64, pattern=_OPTION, what="option")
TlsVersions = list_of(Option, max_items=16)
AlpnProtocols = list_of(Option, max_items=16)
