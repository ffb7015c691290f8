from lbaas.common.v1 import graph_pb2 as _graph_pb2
from lbaas.common.v1 import runtime_pb2 as _runtime_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LogProtocol(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG_PROTOCOL_UNSPECIFIED: _ClassVar[LogProtocol]
    LOG_PROTOCOL_UDP: _ClassVar[LogProtocol]
    LOG_PROTOCOL_TCP: _ClassVar[LogProtocol]
LOG_PROTOCOL_UNSPECIFIED: LogProtocol
LOG_PROTOCOL_UDP: LogProtocol
LOG_PROTOCOL_TCP: LogProtocol

class DescribeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DescribeResponse(_message.Message):
    __slots__ = ("backend_type", "renderer_version", "supported_features")
    BACKEND_TYPE_FIELD_NUMBER: _ClassVar[int]
    RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_FEATURES_FIELD_NUMBER: _ClassVar[int]
    backend_type: str
    renderer_version: str
    supported_features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, backend_type: _Optional[str] = ..., renderer_version: _Optional[str] = ..., supported_features: _Optional[_Iterable[str]] = ...) -> None: ...

class Target(_message.Message):
    __slots__ = ("amphora_id", "agent_api_version", "haproxy_version", "openssl_version", "nginx_version", "keepalived_version", "runtime_dir", "vip_address", "vrrp", "size", "log_offload")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_API_VERSION_FIELD_NUMBER: _ClassVar[int]
    HAPROXY_VERSION_FIELD_NUMBER: _ClassVar[int]
    OPENSSL_VERSION_FIELD_NUMBER: _ClassVar[int]
    NGINX_VERSION_FIELD_NUMBER: _ClassVar[int]
    KEEPALIVED_VERSION_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_DIR_FIELD_NUMBER: _ClassVar[int]
    VIP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VRRP_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    LOG_OFFLOAD_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    agent_api_version: str
    haproxy_version: str
    openssl_version: str
    nginx_version: str
    keepalived_version: str
    runtime_dir: str
    vip_address: str
    vrrp: Vrrp
    size: Size
    log_offload: LogOffload
    def __init__(self, amphora_id: _Optional[str] = ..., agent_api_version: _Optional[str] = ..., haproxy_version: _Optional[str] = ..., openssl_version: _Optional[str] = ..., nginx_version: _Optional[str] = ..., keepalived_version: _Optional[str] = ..., runtime_dir: _Optional[str] = ..., vip_address: _Optional[str] = ..., vrrp: _Optional[_Union[Vrrp, _Mapping]] = ..., size: _Optional[_Union[Size, _Mapping]] = ..., log_offload: _Optional[_Union[LogOffload, _Mapping]] = ...) -> None: ...

class LogOffload(_message.Message):
    __slots__ = ("tenant_targets", "admin_targets", "protocol", "disable_local_log_storage")
    TENANT_TARGETS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_TARGETS_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    DISABLE_LOCAL_LOG_STORAGE_FIELD_NUMBER: _ClassVar[int]
    tenant_targets: _containers.RepeatedCompositeFieldContainer[SyslogTarget]
    admin_targets: _containers.RepeatedCompositeFieldContainer[SyslogTarget]
    protocol: LogProtocol
    disable_local_log_storage: bool
    def __init__(self, tenant_targets: _Optional[_Iterable[_Union[SyslogTarget, _Mapping]]] = ..., admin_targets: _Optional[_Iterable[_Union[SyslogTarget, _Mapping]]] = ..., protocol: _Optional[_Union[LogProtocol, str]] = ..., disable_local_log_storage: _Optional[bool] = ...) -> None: ...

class SyslogTarget(_message.Message):
    __slots__ = ("address", "port")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    address: str
    port: int
    def __init__(self, address: _Optional[str] = ..., port: _Optional[int] = ...) -> None: ...

class Size(_message.Message):
    __slots__ = ("threads", "max_connections")
    THREADS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    threads: int
    max_connections: int
    def __init__(self, threads: _Optional[int] = ..., max_connections: _Optional[int] = ...) -> None: ...

class Vrrp(_message.Message):
    __slots__ = ("role", "priority", "interface", "own_address", "peer_amphora_id", "peer_address", "router_id", "advert_interval_ms", "vip_prefix_length", "peers_port")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    OWN_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PEER_AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    PEER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ID_FIELD_NUMBER: _ClassVar[int]
    ADVERT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    VIP_PREFIX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    PEERS_PORT_FIELD_NUMBER: _ClassVar[int]
    role: str
    priority: int
    interface: str
    own_address: str
    peer_amphora_id: str
    peer_address: str
    router_id: int
    advert_interval_ms: int
    vip_prefix_length: int
    peers_port: int
    def __init__(self, role: _Optional[str] = ..., priority: _Optional[int] = ..., interface: _Optional[str] = ..., own_address: _Optional[str] = ..., peer_amphora_id: _Optional[str] = ..., peer_address: _Optional[str] = ..., router_id: _Optional[int] = ..., advert_interval_ms: _Optional[int] = ..., vip_prefix_length: _Optional[int] = ..., peers_port: _Optional[int] = ...) -> None: ...

class RenderRequest(_message.Message):
    __slots__ = ("loadbalancer", "target", "tls_materials", "applied_files")
    LOADBALANCER_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TLS_MATERIALS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FILES_FIELD_NUMBER: _ClassVar[int]
    loadbalancer: _graph_pb2.LoadBalancer
    target: Target
    tls_materials: _containers.RepeatedCompositeFieldContainer[TlsMaterial]
    applied_files: _containers.RepeatedCompositeFieldContainer[RenderedFile]
    def __init__(self, loadbalancer: _Optional[_Union[_graph_pb2.LoadBalancer, _Mapping]] = ..., target: _Optional[_Union[Target, _Mapping]] = ..., tls_materials: _Optional[_Iterable[_Union[TlsMaterial, _Mapping]]] = ..., applied_files: _Optional[_Iterable[_Union[RenderedFile, _Mapping]]] = ...) -> None: ...

class TlsMaterial(_message.Message):
    __slots__ = ("ref", "certificate_pem", "private_key_pem", "intermediates_pem", "crl_pem")
    REF_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    INTERMEDIATES_PEM_FIELD_NUMBER: _ClassVar[int]
    CRL_PEM_FIELD_NUMBER: _ClassVar[int]
    ref: str
    certificate_pem: bytes
    private_key_pem: bytes
    intermediates_pem: bytes
    crl_pem: bytes
    def __init__(self, ref: _Optional[str] = ..., certificate_pem: _Optional[bytes] = ..., private_key_pem: _Optional[bytes] = ..., intermediates_pem: _Optional[bytes] = ..., crl_pem: _Optional[bytes] = ...) -> None: ...

class RenderedFile(_message.Message):
    __slots__ = ("path", "content", "mode")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: bytes
    mode: int
    def __init__(self, path: _Optional[str] = ..., content: _Optional[bytes] = ..., mode: _Optional[int] = ...) -> None: ...

class RenderResponse(_message.Message):
    __slots__ = ("files", "renderer_version", "config_hash", "runtime_plan")
    FILES_FIELD_NUMBER: _ClassVar[int]
    RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_PLAN_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[RenderedFile]
    renderer_version: str
    config_hash: str
    runtime_plan: _runtime_pb2.RuntimePlan
    def __init__(self, files: _Optional[_Iterable[_Union[RenderedFile, _Mapping]]] = ..., renderer_version: _Optional[str] = ..., config_hash: _Optional[str] = ..., runtime_plan: _Optional[_Union[_runtime_pb2.RuntimePlan, _Mapping]] = ...) -> None: ...
