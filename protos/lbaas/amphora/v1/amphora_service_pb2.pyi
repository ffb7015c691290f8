import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from lbaas.common.v1 import runtime_pb2 as _runtime_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplyResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLY_RESULT_UNSPECIFIED: _ClassVar[ApplyResult]
    APPLY_RESULT_APPLIED: _ClassVar[ApplyResult]
    APPLY_RESULT_UNCHANGED: _ClassVar[ApplyResult]
    APPLY_RESULT_INVALID: _ClassVar[ApplyResult]
    APPLY_RESULT_ROLLED_BACK: _ClassVar[ApplyResult]
    APPLY_RESULT_BROKEN: _ClassVar[ApplyResult]
APPLY_RESULT_UNSPECIFIED: ApplyResult
APPLY_RESULT_APPLIED: ApplyResult
APPLY_RESULT_UNCHANGED: ApplyResult
APPLY_RESULT_INVALID: ApplyResult
APPLY_RESULT_ROLLED_BACK: ApplyResult
APPLY_RESULT_BROKEN: ApplyResult

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetInfoResponse(_message.Message):
    __slots__ = ("amphora_id", "api_version", "haproxy_version", "openssl_version", "nginx_version", "keepalived_version", "runtime_dir", "backend_type", "applied_config_hash", "capabilities", "applied_renderer_version")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    HAPROXY_VERSION_FIELD_NUMBER: _ClassVar[int]
    OPENSSL_VERSION_FIELD_NUMBER: _ClassVar[int]
    NGINX_VERSION_FIELD_NUMBER: _ClassVar[int]
    KEEPALIVED_VERSION_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_DIR_FIELD_NUMBER: _ClassVar[int]
    BACKEND_TYPE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    APPLIED_RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    api_version: str
    haproxy_version: str
    openssl_version: str
    nginx_version: str
    keepalived_version: str
    runtime_dir: str
    backend_type: str
    applied_config_hash: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    applied_renderer_version: str
    def __init__(self, amphora_id: _Optional[str] = ..., api_version: _Optional[str] = ..., haproxy_version: _Optional[str] = ..., openssl_version: _Optional[str] = ..., nginx_version: _Optional[str] = ..., keepalived_version: _Optional[str] = ..., runtime_dir: _Optional[str] = ..., backend_type: _Optional[str] = ..., applied_config_hash: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., applied_renderer_version: _Optional[str] = ...) -> None: ...

class ConfigFile(_message.Message):
    __slots__ = ("path", "content", "mode")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: bytes
    mode: int
    def __init__(self, path: _Optional[str] = ..., content: _Optional[bytes] = ..., mode: _Optional[int] = ...) -> None: ...

class ApplyConfigRequest(_message.Message):
    __slots__ = ("files", "config_hash", "renderer_version", "force", "runtime_plan")
    FILES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_PLAN_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[ConfigFile]
    config_hash: str
    renderer_version: str
    force: bool
    runtime_plan: _runtime_pb2.RuntimePlan
    def __init__(self, files: _Optional[_Iterable[_Union[ConfigFile, _Mapping]]] = ..., config_hash: _Optional[str] = ..., renderer_version: _Optional[str] = ..., force: _Optional[bool] = ..., runtime_plan: _Optional[_Union[_runtime_pb2.RuntimePlan, _Mapping]] = ...) -> None: ...

class ApplyConfigResponse(_message.Message):
    __slots__ = ("result", "applied_config_hash", "detail", "runtime", "runtime_fallback")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    result: ApplyResult
    applied_config_hash: str
    detail: str
    runtime: bool
    runtime_fallback: str
    def __init__(self, result: _Optional[_Union[ApplyResult, str]] = ..., applied_config_hash: _Optional[str] = ..., detail: _Optional[str] = ..., runtime: _Optional[bool] = ..., runtime_fallback: _Optional[str] = ...) -> None: ...

class GetAppliedConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAppliedConfigResponse(_message.Message):
    __slots__ = ("files", "config_hash", "renderer_version")
    FILES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[ConfigFile]
    config_hash: str
    renderer_version: str
    def __init__(self, files: _Optional[_Iterable[_Union[ConfigFile, _Mapping]]] = ..., config_hash: _Optional[str] = ..., renderer_version: _Optional[str] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListenerStats(_message.Message):
    __slots__ = ("listener_id", "active_connections", "total_connections", "bytes_in", "bytes_out", "request_errors")
    LISTENER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    BYTES_IN_FIELD_NUMBER: _ClassVar[int]
    BYTES_OUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ERRORS_FIELD_NUMBER: _ClassVar[int]
    listener_id: str
    active_connections: int
    total_connections: int
    bytes_in: int
    bytes_out: int
    request_errors: int
    def __init__(self, listener_id: _Optional[str] = ..., active_connections: _Optional[int] = ..., total_connections: _Optional[int] = ..., bytes_in: _Optional[int] = ..., bytes_out: _Optional[int] = ..., request_errors: _Optional[int] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("listeners",)
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    listeners: _containers.RepeatedCompositeFieldContainer[ListenerStats]
    def __init__(self, listeners: _Optional[_Iterable[_Union[ListenerStats, _Mapping]]] = ...) -> None: ...

class UpdateCertificateRequest(_message.Message):
    __slots__ = ("certificate_pem", "private_key_pem")
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: bytes
    private_key_pem: bytes
    def __init__(self, certificate_pem: _Optional[bytes] = ..., private_key_pem: _Optional[bytes] = ...) -> None: ...

class UpdateCertificateResponse(_message.Message):
    __slots__ = ("not_after",)
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    not_after: _timestamp_pb2.Timestamp
    def __init__(self, not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DrainRequest(_message.Message):
    __slots__ = ("addresses", "timeout_ms", "hold_ms")
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    HOLD_MS_FIELD_NUMBER: _ClassVar[int]
    addresses: _containers.RepeatedScalarFieldContainer[str]
    timeout_ms: int
    hold_ms: int
    def __init__(self, addresses: _Optional[_Iterable[str]] = ..., timeout_ms: _Optional[int] = ..., hold_ms: _Optional[int] = ...) -> None: ...

class DrainResponse(_message.Message):
    __slots__ = ("remaining",)
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    remaining: int
    def __init__(self, remaining: _Optional[int] = ...) -> None: ...

class GetDiagnosticsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProcessInfo(_message.Message):
    __slots__ = ("pid", "role", "name", "started_at", "uptime_seconds")
    PID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    pid: int
    role: str
    name: str
    started_at: _timestamp_pb2.Timestamp
    uptime_seconds: float
    def __init__(self, pid: _Optional[int] = ..., role: _Optional[str] = ..., name: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime_seconds: _Optional[float] = ...) -> None: ...

class ListeningSocket(_message.Message):
    __slots__ = ("protocol", "address", "port", "pids")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    PIDS_FIELD_NUMBER: _ClassVar[int]
    protocol: str
    address: str
    port: int
    pids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, protocol: _Optional[str] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., pids: _Optional[_Iterable[int]] = ...) -> None: ...

class ApplyRecord(_message.Message):
    __slots__ = ("at", "result", "config_hash", "applied_config_hash", "renderer_version", "force", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    result: ApplyResult
    config_hash: str
    applied_config_hash: str
    renderer_version: str
    force: bool
    detail: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., result: _Optional[_Union[ApplyResult, str]] = ..., config_hash: _Optional[str] = ..., applied_config_hash: _Optional[str] = ..., renderer_version: _Optional[str] = ..., force: _Optional[bool] = ..., detail: _Optional[str] = ...) -> None: ...

class ReloadRecord(_message.Message):
    __slots__ = ("at", "action", "ok", "error", "config_hash")
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    action: str
    ok: bool
    error: str
    config_hash: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., action: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., config_hash: _Optional[str] = ...) -> None: ...

class GetDiagnosticsResponse(_message.Message):
    __slots__ = ("info", "engine_running", "processes", "listening_sockets", "last_apply", "last_reload", "last_failed_reload", "collected_at")
    INFO_FIELD_NUMBER: _ClassVar[int]
    ENGINE_RUNNING_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    LISTENING_SOCKETS_FIELD_NUMBER: _ClassVar[int]
    LAST_APPLY_FIELD_NUMBER: _ClassVar[int]
    LAST_RELOAD_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILED_RELOAD_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_AT_FIELD_NUMBER: _ClassVar[int]
    info: GetInfoResponse
    engine_running: bool
    processes: _containers.RepeatedCompositeFieldContainer[ProcessInfo]
    listening_sockets: _containers.RepeatedCompositeFieldContainer[ListeningSocket]
    last_apply: ApplyRecord
    last_reload: ReloadRecord
    last_failed_reload: ReloadRecord
    collected_at: _timestamp_pb2.Timestamp
    def __init__(self, info: _Optional[_Union[GetInfoResponse, _Mapping]] = ..., engine_running: _Optional[bool] = ..., processes: _Optional[_Iterable[_Union[ProcessInfo, _Mapping]]] = ..., listening_sockets: _Optional[_Iterable[_Union[ListeningSocket, _Mapping]]] = ..., last_apply: _Optional[_Union[ApplyRecord, _Mapping]] = ..., last_reload: _Optional[_Union[ReloadRecord, _Mapping]] = ..., last_failed_reload: _Optional[_Union[ReloadRecord, _Mapping]] = ..., collected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetLogsRequest(_message.Message):
    __slots__ = ("lines",)
    LINES_FIELD_NUMBER: _ClassVar[int]
    lines: int
    def __init__(self, lines: _Optional[int] = ...) -> None: ...

class LogTail(_message.Message):
    __slots__ = ("source", "path", "lines", "truncated", "found")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    source: str
    path: str
    lines: _containers.RepeatedScalarFieldContainer[str]
    truncated: bool
    found: bool
    def __init__(self, source: _Optional[str] = ..., path: _Optional[str] = ..., lines: _Optional[_Iterable[str]] = ..., truncated: _Optional[bool] = ..., found: _Optional[bool] = ...) -> None: ...

class GetLogsResponse(_message.Message):
    __slots__ = ("logs",)
    LOGS_FIELD_NUMBER: _ClassVar[int]
    logs: _containers.RepeatedCompositeFieldContainer[LogTail]
    def __init__(self, logs: _Optional[_Iterable[_Union[LogTail, _Mapping]]] = ...) -> None: ...
