from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Stats(_message.Message):
    __slots__ = ("active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections")
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ERRORS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    active_connections: int
    bytes_in: int
    bytes_out: int
    request_errors: int
    total_connections: int
    def __init__(self, active_connections: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., request_errors: _Optional[int] = ..., total_connections: _Optional[int] = ...) -> None: ...

class ListenerStatsEntry(_message.Message):
    __slots__ = ("listener_id", "amphora_id", "stats")
    LISTENER_ID_FIELD_NUMBER: _ClassVar[int]
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    listener_id: str
    amphora_id: str
    stats: Stats
    def __init__(self, listener_id: _Optional[str] = ..., amphora_id: _Optional[str] = ..., stats: _Optional[_Union[Stats, _Mapping]] = ...) -> None: ...
