"""The gateway's one guard against malformed input: where request bytes become values.

`InputGuard`, an ASGI middleware, answers before any route runs:
  - a body over the size limit: 413, from Content-Length or counted as it streams in, so an
    unbounded body is never held in memory;
  - a body on a write whose Content-Type is not JSON: 415 "Unknown mimetype", as WSME answers;
  - a path segment that is not clean text (bad percent-encoding, invalid UTF-8, control
    characters, longer than any id or name): 404, as Octavia answers an unknown id;
  - a query string that is not clean text, repeats a single-valued parameter, or gives a
    paging, sorting or boolean parameter a value it cannot have: 400 naming the parameter.
`refuse_stray_body`, a route dependency, refuses a body sent to a write that takes none.
`loads` turns a JSON document into values, or a `JsonInputError` naming the field: invalid
JSON or UTF-8, NaN/Infinity, nesting deeper than MAX_DEPTH, a lone UTF-16 surrogate in any
string or key, an integer outside the signed 64-bit range. Every request body and every JSON
document carried in a string field goes through it (schemas/body.py, schemas/flavor.py).
Per-field ranges stay with the field types (schemas/fields.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

from fastapi import Request

from services.api_gateway import faults, query
from services.api_gateway.faults import ApiFault, BadRequest
from services.api_gateway.schemas.fields import as_bool

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Every certificate bundle the orchestrator accepts fits: three PEM parts of 512 KiB each
# (certificate, key, intermediates), JSON-escaped, come to about 1.6 MiB.
DEFAULT_MAX_BODY = 2 * 1024 * 1024
# Octavia's deepest body (a fully populated load balancer) is about ten levels.
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# No id, name or project id is longer (Octavia's columns are at most 255 characters).
MAX_PATH_SEGMENT = 255
WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
# What WSME reads as JSON (wsme.rest.json.accept_content_types). No Content-Type is read as
# JSON too: curl and older clients send bodies without one.
JSON_MEDIA_TYPES = frozenset(("application/json", "text/javascript", "application/javascript"))
# Parameters that mean one value; a repeat is ambiguous, so it is refused.
SINGLE_VALUED = frozenset(
    ("limit", "marker", "page_reverse", "sort", "sort_key", "sort_dir", "cascade", "force")
)
BOOLEAN_PARAMS = frozenset(("page_reverse", "cascade", "force"))
NOT_JSON = "The request body is not valid JSON."
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_URL_CHARS = re.compile(rb"[\x21-\x7e]*")
_BODY_HEADERS = frozenset((b"content-length", b"content-type", b"transfer-encoding"))


# ------------------------------------------------------------------------------- JSON


class JsonInputError(ValueError):
    """A JSON document refused; `path` holds the object keys down to the offending value."""

    def __init__(self, reason: str, path: tuple[str, ...] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.path = path

    def fault(self, envelope: str | None = None) -> BadRequest:
        """The Octavia 400; a leading `envelope` key is left out of the field's name."""
        if self.path is None:
            return BadRequest(self.reason)
        path = self.path[1:] if envelope and self.path[:1] == (envelope,) else self.path
        return faults.invalid_field(
            ".".join(path) or envelope or "body", faults.HIDDEN, self.reason
        )


class _Oversized:
    """An integer literal too long to be a 64-bit integer (int() of it would be slow)."""


_OVERSIZED = _Oversized()


def _parse_int(text: str) -> int | _Oversized:
    return int(text) if len(text) <= 20 else _OVERSIZED


def _no_constant(name: str) -> Any:
    raise JsonInputError(NOT_JSON)


def _is_text(s: str) -> bool:
    """False for a string holding a lone surrogate (unpaired \\ud800-\\udfff escape)."""
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads(raw: bytes | str) -> Any:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonInputError(NOT_JSON) from None
    try:
        data = json.loads(raw, parse_int=_parse_int, parse_constant=_no_constant)
    except RecursionError:
        raise JsonInputError(
            f"The request body is nested more than {MAX_DEPTH} levels deep."
        ) from None
    except JsonInputError:
        raise
    except ValueError:
        raise JsonInputError(NOT_JSON) from None
    _check(data)
    return data


def _check(data: Any) -> None:
    """One iterative walk: depth, strings and keys, integer range (list positions unnamed)."""
    stack: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise JsonInputError(f"Value is nested more than {MAX_DEPTH} levels deep.", path)
            if isinstance(value, list):
                stack.extend((v, path, depth + 1) for v in value)
                continue
            for key, v in value.items():
                if not _is_text(key):
                    raise JsonInputError("An attribute name holds a lone UTF-16 surrogate.", path)
                stack.append((v, (*path, key), depth + 1))
        elif isinstance(value, str):
            if not _is_text(value):
                raise JsonInputError("Value holds a lone UTF-16 surrogate.", path)
        elif value is _OVERSIZED or (
            isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX
        ):
            raise JsonInputError(f"Value must be between {INT64_MIN} and {INT64_MAX}.", path)


async def refuse_stray_body(request: Request) -> None:
    """Route dependency: a write that takes no body (a delete, a failover) refuses one, as WSME
    does, instead of acting and ignoring it; an empty body, `{}` and `null` are no body. Which
    routes take a body: those documenting one (`openapi_extra` requestBody)."""
    route = request.scope.get("route")
    if request.method not in WRITE_METHODS or "requestBody" in (
        getattr(route, "openapi_extra", None) or {}
    ):
        return
    raw = await request.body()
    if not raw.strip():
        return
    try:
        data = loads(raw)
    except JsonInputError as err:
        raise err.fault() from None
    if isinstance(data, dict) and data:
        raise BadRequest(f"Unknown argument: {sorted(data)[0]}")
    if data not in (None, {}):
        raise BadRequest("This request takes no body.")


# ------------------------------------------------------------------------ path and query


def _clean_path(scope: Scope) -> bool:
    """Every segment valid percent-encoded UTF-8, without control characters, not overlong."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if _BAD_ESCAPE.search(raw):
        return False
    for segment in raw.split(b"/"):
        try:
            text = unquote_to_bytes(segment).decode("utf-8")
        except UnicodeDecodeError:
            return False
        if len(text) > MAX_PATH_SEGMENT or _CONTROL.search(text):
            return False
    return True


def _query_refusal(raw: bytes) -> ApiFault | None:
    """What a route's own query parsing would trip over, refused before any route runs."""
    if not raw:
        return None
    if not _URL_CHARS.fullmatch(raw) or _BAD_ESCAPE.search(raw):
        return BadRequest("The query string is not valid percent-encoded text.")
    params: dict[str, str] = {}
    for part in raw.decode("ascii").split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        try:
            key = unquote_plus(raw_key, errors="strict")
        except UnicodeDecodeError:
            return BadRequest("The query string is not valid percent-encoded UTF-8.")
        if _CONTROL.search(key) or len(key) > MAX_PATH_SEGMENT:
            return BadRequest("The query string has a parameter name that is not valid.")
        try:
            value = unquote_plus(raw_value, errors="strict")
        except UnicodeDecodeError:
            return faults.invalid_field(key, faults.HIDDEN, "Value is not valid UTF-8.")
        if _CONTROL.search(value):
            return faults.invalid_field(
                key, faults.HIDDEN, "Value must not contain control characters."
            )
        if key in SINGLE_VALUED and key in params:
            return faults.invalid_field(key, faults.HIDDEN, "It may be given only once.")
        if key in BOOLEAN_PARAMS and value.strip() and as_bool(value.strip().lower()) is None:
            return faults.invalid_field(key, value, "Wrong type. Expected a boolean.")
        params[key] = value
    try:
        query.parse_limit(params.get("limit"))
        query.parse_sort(params)
    except BadRequest as fault:
        return fault
    return None


def _body_refusal(scope: Scope, max_body: int) -> ApiFault | None:
    """From the headers: a declared length over the limit, a write's body that is not JSON."""
    headers = {k.lower(): v for k, v in scope.get("headers", ()) if k.lower() in _BODY_HEADERS}
    length = headers.get(b"content-length")
    if length is not None:
        if not length.isdigit():
            return BadRequest("The Content-Length header is not valid.")
        if int(length) > max_body:
            return BodyTooLarge(max_body)
    has_body = b"transfer-encoding" in headers or (length is not None and int(length) > 0)
    kind = headers.get(b"content-type")
    if has_body and kind is not None and scope["method"] in WRITE_METHODS:
        media = kind.decode("latin-1").split(";", 1)[0].strip().lower()
        if media not in JSON_MEDIA_TYPES:
            return ApiFault(415, f"Unknown mimetype: {media[:100]}")
    return None


class BodyTooLarge(ApiFault):
    """Also raised from `receive` once a streamed body passes the limit: the app's ApiFault
    handler answers it when a route was reading the body."""

    def __init__(self, max_body: int):
        super().__init__(413, f"Request is too large: a body may have at most {max_body} bytes.")


class InputGuard:
    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_BODY):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = (
            _query_refusal(scope.get("query_string", b"")) or _body_refusal(scope, self.max_body)
            if _clean_path(scope)
            else ApiFault(404, "The resource could not be found.")
        )
        if refusal is not None:
            await _answer(scope, receive, send, refusal)
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge as fault:  # read outside a route (no handler answered it)
            if started:
                raise
            await _answer(scope, receive, send, fault)


async def _answer(scope: Scope, receive: Receive, send: Send, fault: ApiFault) -> None:
    response = faults.error_response(Request(scope), fault.status, fault.faultstring)
    await response(scope, receive, send)
