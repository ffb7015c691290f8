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
    __slots__ = ("amphora_id", "last_seen", "last_sequence", "applied_config_hash", "stale", "boot_id", "applied_renderer_version")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    APPLIED_RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    last_seen: _timestamp_pb2.Timestamp
    last_sequence: int
    applied_config_hash: str
    stale: bool
    boot_id: str
    applied_renderer_version: str
    def __init__(self, amphora_id: _Optional[str] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sequence: _Optional[int] = ..., applied_config_hash: _Optional[str] = ..., stale: _Optional[bool] = ..., boot_id: _Optional[str] = ..., applied_renderer_version: _Optional[str] = ...) -> None: ...

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

class GetFailoverStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FailoverStatus(_message.Message):
    __slots__ = ("breaker_open", "stale_amphorae", "amphorae", "threshold_count", "threshold_percent", "breaker_opened_at", "hold_off_until", "reason", "stale_after_seconds", "failovers_requested", "failovers_claimed")
    BREAKER_OPEN_FIELD_NUMBER: _ClassVar[int]
    STALE_AMPHORAE_FIELD_NUMBER: _ClassVar[int]
    AMPHORAE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_COUNT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_PERCENT_FIELD_NUMBER: _ClassVar[int]
    BREAKER_OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    HOLD_OFF_UNTIL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STALE_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FAILOVERS_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    FAILOVERS_CLAIMED_FIELD_NUMBER: _ClassVar[int]
    breaker_open: bool
    stale_amphorae: int
    amphorae: int
    threshold_count: int
    threshold_percent: float
    breaker_opened_at: _timestamp_pb2.Timestamp
    hold_off_until: _timestamp_pb2.Timestamp
    reason: str
    stale_after_seconds: float
    failovers_requested: int
    failovers_claimed: int
    def __init__(self, breaker_open: _Optional[bool] = ..., stale_amphorae: _Optional[int] = ..., amphorae: _Optional[int] = ..., threshold_count: _Optional[int] = ..., threshold_percent: _Optional[float] = ..., breaker_opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hold_off_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., stale_after_seconds: _Optional[float] = ..., failovers_requested: _Optional[int] = ..., failovers_claimed: _Optional[int] = ...) -> None: ...

class GetFailoverStatusResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: FailoverStatus
    def __init__(self, status: _Optional[_Union[FailoverStatus, _Mapping]] = ...) -> None: ...
