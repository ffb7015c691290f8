import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from lbaas.health.v1 import stats_pb2 as _stats_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AmphoraHealth(_message.Message):
    __slots__ = ("amphora_id", "last_seen", "last_sequence", "applied_config_hash", "stale")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    last_seen: _timestamp_pb2.Timestamp
    last_sequence: int
    applied_config_hash: str
    stale: bool
    def __init__(self, amphora_id: _Optional[str] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sequence: _Optional[int] = ..., applied_config_hash: _Optional[str] = ..., stale: _Optional[bool] = ...) -> None: ...

class GetAmphoraHealthRequest(_message.Message):
    __slots__ = ("amphora_id",)
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    def __init__(self, amphora_id: _Optional[str] = ...) -> None: ...

class GetAmphoraHealthResponse(_message.Message):
    __slots__ = ("health",)
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    health: AmphoraHealth
    def __init__(self, health: _Optional[_Union[AmphoraHealth, _Mapping]] = ...) -> None: ...

class ListAmphoraHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAmphoraHealthResponse(_message.Message):
    __slots__ = ("amphorae",)
    AMPHORAE_FIELD_NUMBER: _ClassVar[int]
    amphorae: _containers.RepeatedCompositeFieldContainer[AmphoraHealth]
    def __init__(self, amphorae: _Optional[_Iterable[_Union[AmphoraHealth, _Mapping]]] = ...) -> None: ...

class GetListenerStatsRequest(_message.Message):
    __slots__ = ("listener_ids",)
    LISTENER_IDS_FIELD_NUMBER: _ClassVar[int]
    listener_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, listener_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetListenerStatsResponse(_message.Message):
    __slots__ = ("listeners",)
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    listeners: _containers.RepeatedCompositeFieldContainer[_stats_pb2.ListenerStatsEntry]
    def __init__(self, listeners: _Optional[_Iterable[_Union[_stats_pb2.ListenerStatsEntry, _Mapping]]] = ...) -> None: ...

class GetAmphoraStatsRequest(_message.Message):
    __slots__ = ("amphora_id",)
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    def __init__(self, amphora_id: _Optional[str] = ...) -> None: ...

class GetAmphoraStatsResponse(_message.Message):
    __slots__ = ("listeners",)
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    listeners: _containers.RepeatedCompositeFieldContainer[_stats_pb2.ListenerStatsEntry]
    def __init__(self, listeners: _Optional[_Iterable[_Union[_stats_pb2.ListenerStatsEntry, _Mapping]]] = ...) -> None: ...
