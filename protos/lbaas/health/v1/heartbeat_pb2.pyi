import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Heartbeat(_message.Message):
    __slots__ = ("amphora_id", "sequence", "sent_at", "applied_config_hash", "listeners", "pools", "boot_id", "applied_renderer_version", "leaving", "counters_generation")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    APPLIED_RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    LEAVING_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_GENERATION_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    sequence: int
    sent_at: _timestamp_pb2.Timestamp
    applied_config_hash: str
    listeners: _containers.RepeatedCompositeFieldContainer[ListenerReport]
    pools: _containers.RepeatedCompositeFieldContainer[PoolReport]
    boot_id: str
    applied_renderer_version: str
    leaving: bool
    counters_generation: int
    def __init__(self, amphora_id: _Optional[str] = ..., sequence: _Optional[int] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., applied_config_hash: _Optional[str] = ..., listeners: _Optional[_Iterable[_Union[ListenerReport, _Mapping]]] = ..., pools: _Optional[_Iterable[_Union[PoolReport, _Mapping]]] = ..., boot_id: _Optional[str] = ..., applied_renderer_version: _Optional[str] = ..., leaving: _Optional[bool] = ..., counters_generation: _Optional[int] = ...) -> None: ...

class ListenerReport(_message.Message):
    __slots__ = ("listener_id", "status", "active_connections", "total_connections", "bytes_in", "bytes_out", "request_errors")
    LISTENER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ERRORS_FIELD_NUMBER: _ClassVar[int]
    listener_id: str
    status: str
    active_connections: int
    total_connections: int
    bytes_in: int
    bytes_out: int
    request_errors: int
    def __init__(self, listener_id: _Optional[str] = ..., status: _Optional[str] = ..., active_connections: _Optional[int] = ..., total_connections: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., request_errors: _Optional[int] = ...) -> None: ...

class PoolReport(_message.Message):
    __slots__ = ("pool_id", "status", "members")
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    pool_id: str
    status: str
    members: _containers.RepeatedCompositeFieldContainer[MemberReport]
    def __init__(self, pool_id: _Optional[str] = ..., status: _Optional[str] = ..., members: _Optional[_Iterable[_Union[MemberReport, _Mapping]]] = ...) -> None: ...

class MemberReport(_message.Message):
    __slots__ = ("member_id", "status")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    status: str
    def __init__(self, member_id: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class HeartbeatEnvelope(_message.Message):
    __slots__ = ("version", "key_id", "payload", "hmac_sha256")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    HMAC_SHA256_FIELD_NUMBER: _ClassVar[int]
    version: int
    key_id: str
    payload: bytes
    hmac_sha256: bytes
    def __init__(self, version: _Optional[int] = ..., key_id: _Optional[str] = ..., payload: _Optional[bytes] = ..., hmac_sha256: _Optional[bytes] = ...) -> None: ...
