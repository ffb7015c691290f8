import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
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
    __slots__ = ("files", "config_hash", "renderer_version", "force")
    FILES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[ConfigFile]
    config_hash: str
    renderer_version: str
    force: bool
    def __init__(self, files: _Optional[_Iterable[_Union[ConfigFile, _Mapping]]] = ..., config_hash: _Optional[str] = ..., renderer_version: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class ApplyConfigResponse(_message.Message):
    __slots__ = ("result", "applied_config_hash", "detail")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    result: ApplyResult
    applied_config_hash: str
    detail: str
    def __init__(self, result: _Optional[_Union[ApplyResult, str]] = ..., applied_config_hash: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

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
