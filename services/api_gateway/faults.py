"""Octavia-style error bodies, and the one place errors become HTTP responses."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Precondition,
    QuotaExceeded,
    Unavailable,
    Unsupported,
)

log = logging.getLogger(__name__)

# Orchestrator error class -> HTTP status. Anything else is a 500.
_STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Precondition: 409,
    QuotaExceeded: 403,
    Unavailable: 503,
    Unsupported: 501,
}


class ApiFault(Exception):
    """An error raised by the gateway itself, with the HTTP status it becomes."""

    def __init__(self, status: int, faultstring: str):
        super().__init__(faultstring)
        self.status = status
        self.faultstring = faultstring


class BadRequest(ApiFault):
    def __init__(self, faultstring: str):
        super().__init__(400, faultstring)


# Fields holding key material or secrets: their values never appear in an error.
SECRET_FIELDS = frozenset(
    ("certificate", "private_key", "intermediates", "pkcs12", "passphrase", "crl")
)
# Pass as `value` to leave the value out of the message.
HIDDEN = object()
_MAX_SHOWN = 255


def invalid_field(field: str, value: object, reason: str) -> BadRequest:
    """WSME's wording, which Octavia clients show to users. The value is repeated only when
    it is a short scalar of a field that is not secret: a tenant's key material, or a large or
    nested value, is never sent back."""
    if not _shown(field, value):
        return BadRequest(f"Invalid input for field/attribute {field}. {reason}")
    return BadRequest(f"Invalid input for field/attribute {field}. Value: '{value}'. {reason}")


def _shown(field: str, value: object) -> bool:
    if value is HIDDEN or field.rsplit(".", 1)[-1] in SECRET_FIELDS:
        return False
    if isinstance(value, int):  # str() of a huge integer is slow (and refused past 4300 digits)
        return abs(value) < 2**64
    return (value is None or isinstance(value, str | float)) and len(str(value)) <= _MAX_SHOWN


class Fault(BaseModel):
    """The body of every Octavia error response (for OpenAPI `responses=`)."""

    faultcode: str
    faultstring: str
    debuginfo: str | None = None


def fault_body(status: int, faultstring: str) -> dict:
    return {
        "faultcode": "Client" if status < 500 else "Server",
        "faultstring": faultstring,
        "debuginfo": None,
    }


def neutron_body(status: int, message: str) -> dict:
    kind = {404: "NotFound", 401: "NotAuthorized", 400: "BadRequest"}.get(status, "NeutronError")
    return {"NeutronError": {"type": kind, "message": message, "detail": ""}}


def _is_network_path(request: Request) -> bool:
    path = request.url.path
    return any(
        path.startswith(f"/v2.0/{c}") or path.startswith(f"/v2/{c}") for c in NETWORK_COLLECTIONS
    )


NETWORK_COLLECTIONS = ("networks", "subnets", "ports")


def error_response(request: Request, status: int, message: str) -> JSONResponse:
    body = (
        neutron_body(status, message) if _is_network_path(request) else fault_body(status, message)
    )
    headers = {"WWW-Authenticate": 'Keystone uri="unset"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(err: DomainError) -> int:
    for cls in type(err).__mro__:
        if cls in _STATUS_BY_ERROR:
            return _STATUS_BY_ERROR[cls]
    return 500


async def handle_api_fault(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiFault)
    return error_response(request, exc.status, exc.faultstring)


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_for(exc)
    if status == 500:
        log.error("orchestrator error on %s: %s (%s)", request.url.path, exc, exc.operator_detail)
        return error_response(request, 500, "An unexpected error occurred; see the service logs.")
    message = exc.user_message
    if status == 400 and exc.field and exc.field not in message:
        # The orchestrator names the field apart from its message; tenants need both.
        message = f"Invalid input for field/attribute {exc.field}. {message}"
    return error_response(request, status, message)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = "The resource could not be found."
    elif exc.status_code == 405:
        message = "The method is not allowed for the requested URL."
    else:
        message = str(exc.detail)
    return error_response(request, exc.status_code, message)


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "An unexpected error occurred; see the service logs.")
