from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RuntimePlan(_message.Message):
    __slots__ = ("from_config_hash", "commands", "expected")
    FROM_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    from_config_hash: str
    commands: _containers.RepeatedScalarFieldContainer[str]
    expected: _containers.RepeatedCompositeFieldContainer[ServerState]
    def __init__(self, from_config_hash: _Optional[str] = ..., commands: _Optional[_Iterable[str]] = ..., expected: _Optional[_Iterable[_Union[ServerState, _Mapping]]] = ...) -> None: ...

class ServerState(_message.Message):
    __slots__ = ("backend", "server", "present", "address", "port", "weight", "maintenance")
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    SERVER_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MAINTENANCE_FIELD_NUMBER: _ClassVar[int]
    backend: str
    server: str
    present: bool
    address: str
    port: int
    weight: int
    maintenance: bool
    def __init__(self, backend: _Optional[str] = ..., server: _Optional[str] = ..., present: _Optional[bool] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., weight: _Optional[int] = ..., maintenance: _Optional[bool] = ...) -> None: ...
