from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorDetail(_message.Message):
    __slots__ = ("faultcode", "user_message", "operator_detail", "field")
    FAULTCODE_FIELD_NUMBER: _ClassVar[int]
    USER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_DETAIL_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    faultcode: str
    user_message: str
    operator_detail: str
    field: str
    def __init__(self, faultcode: _Optional[str] = ..., user_message: _Optional[str] = ..., operator_detail: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...
