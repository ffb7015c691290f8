"""Domain errors and their one mapping to gRPC statuses (and back, for clients)."""

from __future__ import annotations

import grpc
from lbaas.common.v1 import error_pb2

ERROR_METADATA_KEY = "lbaas-error-bin"


class DomainError(Exception):
    """An error with a user-facing message and an optional operator-facing detail."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    faultcode = "Server"

    def __init__(self, user_message: str, *, field: str = "", operator_detail: str = ""):
        super().__init__(user_message)
        self.user_message = user_message
        self.field = field
        self.operator_detail = operator_detail

    def to_detail(self) -> error_pb2.ErrorDetail:
        return error_pb2.ErrorDetail(
            faultcode=self.faultcode,
            user_message=self.user_message,
            operator_detail=self.operator_detail,
            field=self.field,
        )


class InvalidInput(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    faultcode = "Client"


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND
    faultcode = "Client"


class Conflict(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS
    faultcode = "Client"


class Precondition(DomainError):
    """The object is in a state that forbids the call, or the target cannot do a feature."""

    code = grpc.StatusCode.FAILED_PRECONDITION
    faultcode = "Client"


class Forbidden(DomainError):
    """The object exists but belongs to a project the caller may not act on: Octavia answers 403
    before anything else (no data of the object is returned)."""

    code = grpc.StatusCode.PERMISSION_DENIED
    faultcode = "Client"


class Unsupported(DomainError):
    """An option or action the provider cannot do: Octavia answers 501 (its provider driver's
    UnsupportedOptionError / NotImplementedError), and clients (tempest's skip_if_not_implemented)
    tell it from a malformed request."""

    code = grpc.StatusCode.UNIMPLEMENTED
    faultcode = "Server"

    @classmethod
    def option(cls, detail: str, *, provider: str = "amphora", field: str = "") -> Unsupported:
        return cls(
            f"Provider '{provider}' does not support a requested option: {detail}", field=field
        )

    @classmethod
    def action(cls, detail: str, *, provider: str = "amphora", field: str = "") -> Unsupported:
        return cls(
            f"Provider '{provider}' does not support a requested action: {detail}", field=field
        )


# Octavia's text for every policy refusal.
POLICY_FORBIDDEN = "Policy does not allow this request to be performed."


class QuotaExceeded(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    faultcode = "Client"


class Unavailable(DomainError):
    code = grpc.StatusCode.UNAVAILABLE
    faultcode = "Server"


_BY_CODE: dict[grpc.StatusCode, type[DomainError]] = {
    cls.code: cls
    for cls in (
        InvalidInput,
        NotFound,
        Conflict,
        Forbidden,
        Precondition,
        QuotaExceeded,
        Unavailable,
        Unsupported,
    )
}
_BY_CODE[grpc.StatusCode.ABORTED] = Conflict
_BY_CODE[grpc.StatusCode.DEADLINE_EXCEEDED] = Unavailable


async def abort_with(context: grpc.aio.ServicerContext, error: DomainError) -> None:
    """Ends the call with the error's status and its ErrorDetail as trailing metadata."""
    context.set_trailing_metadata(((ERROR_METADATA_KEY, error.to_detail().SerializeToString()),))
    await context.abort(error.code, error.user_message)


def from_rpc_error(err: grpc.RpcError) -> DomainError:
    """Rebuilds the domain error a server raised, from a failed client call.

    A failure that carries no ErrorDetail did not come from a handler (the peer is down, the
    deadline passed, the transport failed): its text is for operators only, so the user-facing
    message stays generic.
    """
    detail = error_pb2.ErrorDetail()
    trailing = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == ERROR_METADATA_KEY:
            detail.ParseFromString(value)
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    cls = _BY_CODE.get(code, DomainError)
    if cls in (Forbidden, Unsupported) and not detail.user_message:
        # Not a handler's answer: the mTLS caller policy's refusal, or a method the peer does
        # not have (a release behind) - neither is the tenant's 403 or 501.
        cls = DomainError
    transport_text = (err.details() if hasattr(err, "details") else "") or str(code)
    if detail.user_message:
        return cls(detail.user_message, field=detail.field, operator_detail=detail.operator_detail)
    if cls is Unavailable:
        message = "The service is temporarily unavailable; retry later."
    elif cls is DomainError:
        message = "Internal error."
    else:
        message = transport_text
    return cls(message, operator_detail=transport_text)
