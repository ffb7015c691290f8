import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from lbaas.common.v1 import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResourceMeta(_message.Message):
    __slots__ = ("id", "project_id", "name", "description", "admin_state_up", "provisioning_status", "operating_status", "created_at", "updated_at", "tags")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_UP_FIELD_NUMBER: _ClassVar[int]
    PROVISIONING_STATUS_FIELD_NUMBER: _ClassVar[int]
    OPERATING_STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    name: str
    description: str
    admin_state_up: bool
    provisioning_status: _status_pb2.ProvisioningStatus
    operating_status: _status_pb2.OperatingStatus
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., admin_state_up: _Optional[bool] = ..., provisioning_status: _Optional[_Union[_status_pb2.ProvisioningStatus, str]] = ..., operating_status: _Optional[_Union[_status_pb2.OperatingStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class Vip(_message.Message):
    __slots__ = ("address", "port_id", "subnet_id", "network_id", "qos_policy_id")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    QOS_POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    address: str
    port_id: str
    subnet_id: str
    network_id: str
    qos_policy_id: str
    def __init__(self, address: _Optional[str] = ..., port_id: _Optional[str] = ..., subnet_id: _Optional[str] = ..., network_id: _Optional[str] = ..., qos_policy_id: _Optional[str] = ...) -> None: ...

class LoadBalancer(_message.Message):
    __slots__ = ("meta", "vip", "provider", "flavor_id", "availability_zone", "topology", "listeners", "pools", "desired_version", "vip_vnic_type", "additional_vips", "vip_sg_ids", "status_reason")
    META_FIELD_NUMBER: _ClassVar[int]
    VIP_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    DESIRED_VERSION_FIELD_NUMBER: _ClassVar[int]
    VIP_VNIC_TYPE_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_VIPS_FIELD_NUMBER: _ClassVar[int]
    VIP_SG_IDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    meta: ResourceMeta
    vip: Vip
    provider: str
    flavor_id: str
    availability_zone: str
    topology: str
    listeners: _containers.RepeatedCompositeFieldContainer[Listener]
    pools: _containers.RepeatedCompositeFieldContainer[Pool]
    desired_version: int
    vip_vnic_type: str
    additional_vips: _containers.RepeatedCompositeFieldContainer[AdditionalVip]
    vip_sg_ids: _containers.RepeatedScalarFieldContainer[str]
    status_reason: str
    def __init__(self, meta: _Optional[_Union[ResourceMeta, _Mapping]] = ..., vip: _Optional[_Union[Vip, _Mapping]] = ..., provider: _Optional[str] = ..., flavor_id: _Optional[str] = ..., availability_zone: _Optional[str] = ..., topology: _Optional[str] = ..., listeners: _Optional[_Iterable[_Union[Listener, _Mapping]]] = ..., pools: _Optional[_Iterable[_Union[Pool, _Mapping]]] = ..., desired_version: _Optional[int] = ..., vip_vnic_type: _Optional[str] = ..., additional_vips: _Optional[_Iterable[_Union[AdditionalVip, _Mapping]]] = ..., vip_sg_ids: _Optional[_Iterable[str]] = ..., status_reason: _Optional[str] = ...) -> None: ...

class AdditionalVip(_message.Message):
    __slots__ = ("subnet_id", "ip_address")
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    subnet_id: str
    ip_address: str
    def __init__(self, subnet_id: _Optional[str] = ..., ip_address: _Optional[str] = ...) -> None: ...

class Listener(_message.Message):
    __slots__ = ("meta", "loadbalancer_id", "protocol", "protocol_port", "connection_limit", "default_pool_id", "timeout_client_data", "timeout_member_connect", "timeout_member_data", "timeout_tcp_inspect", "insert_headers", "allowed_cidrs", "default_tls_container_ref", "sni_container_refs", "client_authentication", "client_ca_tls_container_ref", "client_crl_container_ref", "tls_versions", "tls_ciphers", "alpn_protocols", "hsts_max_age", "hsts_include_subdomains", "hsts_preload", "l7policies")
    class InsertHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    META_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_PORT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POOL_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_CLIENT_DATA_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MEMBER_CONNECT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MEMBER_DATA_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_TCP_INSPECT_FIELD_NUMBER: _ClassVar[int]
    INSERT_HEADERS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_CIDRS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TLS_CONTAINER_REF_FIELD_NUMBER: _ClassVar[int]
    SNI_CONTAINER_REFS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CA_TLS_CONTAINER_REF_FIELD_NUMBER: _ClassVar[int]
    CLIENT_CRL_CONTAINER_REF_FIELD_NUMBER: _ClassVar[int]
    TLS_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    TLS_CIPHERS_FIELD_NUMBER: _ClassVar[int]
    ALPN_PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    HSTS_MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    HSTS_INCLUDE_SUBDOMAINS_FIELD_NUMBER: _ClassVar[int]
    HSTS_PRELOAD_FIELD_NUMBER: _ClassVar[int]
    L7POLICIES_FIELD_NUMBER: _ClassVar[int]
    meta: ResourceMeta
    loadbalancer_id: str
    protocol: str
    protocol_port: int
    connection_limit: int
    default_pool_id: str
    timeout_client_data: int
    timeout_member_connect: int
    timeout_member_data: int
    timeout_tcp_inspect: int
    insert_headers: _containers.ScalarMap[str, str]
    allowed_cidrs: _containers.RepeatedScalarFieldContainer[str]
    default_tls_container_ref: str
    sni_container_refs: _containers.RepeatedScalarFieldContainer[str]
    client_authentication: str
    client_ca_tls_container_ref: str
    client_crl_container_ref: str
    tls_versions: _containers.RepeatedScalarFieldContainer[str]
    tls_ciphers: str
    alpn_protocols: _containers.RepeatedScalarFieldContainer[str]
    hsts_max_age: int
    hsts_include_subdomains: bool
    hsts_preload: bool
    l7policies: _containers.RepeatedCompositeFieldContainer[L7Policy]
    def __init__(self, meta: _Optional[_Union[ResourceMeta, _Mapping]] = ..., loadbalancer_id: _Optional[str] = ..., protocol: _Optional[str] = ..., protocol_port: _Optional[int] = ..., connection_limit: _Optional[int] = ..., default_pool_id: _Optional[str] = ..., timeout_client_data: _Optional[int] = ..., timeout_member_connect: _Optional[int] = ..., timeout_member_data: _Optional[int] = ..., timeout_tcp_inspect: _Optional[int] = ..., insert_headers: _Optional[_Mapping[str, str]] = ..., allowed_cidrs: _Optional[_Iterable[str]] = ..., default_tls_container_ref: _Optional[str] = ..., sni_container_refs: _Optional[_Iterable[str]] = ..., client_authentication: _Optional[str] = ..., client_ca_tls_container_ref: _Optional[str] = ..., client_crl_container_ref: _Optional[str] = ..., tls_versions: _Optional[_Iterable[str]] = ..., tls_ciphers: _Optional[str] = ..., alpn_protocols: _Optional[_Iterable[str]] = ..., hsts_max_age: _Optional[int] = ..., hsts_include_subdomains: _Optional[bool] = ..., hsts_preload: _Optional[bool] = ..., l7policies: _Optional[_Iterable[_Union[L7Policy, _Mapping]]] = ...) -> None: ...

class L7Policy(_message.Message):
    __slots__ = ("meta", "listener_id", "action", "position", "redirect_pool_id", "redirect_url", "redirect_prefix", "redirect_http_code", "rules")
    META_FIELD_NUMBER: _ClassVar[int]
    LISTENER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_POOL_ID_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_PREFIX_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_HTTP_CODE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    meta: ResourceMeta
    listener_id: str
    action: str
    position: int
    redirect_pool_id: str
    redirect_url: str
    redirect_prefix: str
    redirect_http_code: int
    rules: _containers.RepeatedCompositeFieldContainer[L7Rule]
    def __init__(self, meta: _Optional[_Union[ResourceMeta, _Mapping]] = ..., listener_id: _Optional[str] = ..., action: _Optional[str] = ..., position: _Optional[int] = ..., redirect_pool_id: _Optional[str] = ..., redirect_url: _Optional[str] = ..., redirect_prefix: _Optional[str] = ..., redirect_http_code: _Optional[int] = ..., rules: _Optional[_Iterable[_Union[L7Rule, _Mapping]]] = ...) -> None: ...

class L7Rule(_message.Message):
    __slots__ = ("meta", "l7policy_id", "type", "compare_type", "key", "value", "invert")
    META_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COMPARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    INVERT_FIELD_NUMBER: _ClassVar[int]
    meta: ResourceMeta
    l7policy_id: str
    type: str
    compare_type: str
    key: str
    value: str
    invert: bool
    def __init__(self, meta: _Optional[_Union[ResourceMeta, _Mapping]] = ..., l7policy_id: _Optional[str] = ..., type: _Optional[str] = ..., compare_type: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[str] = ..., invert: _Optional[bool] = ...) -> None: ...

class Pool(_message.Message):
    __slots__ = ("meta", "loadbalancer_id", "listener_ids", "protocol", "lb_algorithm", "members", "healthmonitor", "session_persistence", "tls_enabled", "tls_container_ref", "ca_tls_container_ref", "crl_container_ref", "tls_versions", "tls_ciphers", "alpn_protocols")
    META_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    LISTENER_IDS_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    LB_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    HEALTHMONITOR_FIELD_NUMBER: _ClassVar[int]
    SESSION_PERSISTENCE_FIELD_NUMBER: _ClassVar[int]
    TLS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    TLS_CONTAINER_REF_FIELD_NUMBER: _ClassVar[int]
    CA_TLS_CONTAINER_REF_FIELD_NUMBER: _ClassVar[int]
    CRL_CONTAINER_REF_FIELD_NUMBER: _ClassVar[int]
    TLS_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    TLS_CIPHERS_FIELD_NUMBER: _ClassVar[int]
    ALPN_PROTOCOLS_FIELD_NUMBER: _ClassVar[int]
    meta: ResourceMeta
    loadbalancer_id: str
    listener_ids: _containers.RepeatedScalarFieldContainer[str]
    protocol: str
    lb_algorithm: str
    members: _containers.RepeatedCompositeFieldContainer[Member]
    healthmonitor: HealthMonitor
    session_persistence: SessionPersistence
    tls_enabled: bool
    tls_container_ref: str
    ca_tls_container_ref: str
    crl_container_ref: str
    tls_versions: _containers.RepeatedScalarFieldContainer[str]
    tls_ciphers: str
    alpn_protocols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, meta: _Optional[_Union[ResourceMeta, _Mapping]] = ..., loadbalancer_id: _Optional[str] = ..., listener_ids: _Optional[_Iterable[str]] = ..., protocol: _Optional[str] = ..., lb_algorithm: _Optional[str] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., healthmonitor: _Optional[_Union[HealthMonitor, _Mapping]] = ..., session_persistence: _Optional[_Union[SessionPersistence, _Mapping]] = ..., tls_enabled: _Optional[bool] = ..., tls_container_ref: _Optional[str] = ..., ca_tls_container_ref: _Optional[str] = ..., crl_container_ref: _Optional[str] = ..., tls_versions: _Optional[_Iterable[str]] = ..., tls_ciphers: _Optional[str] = ..., alpn_protocols: _Optional[_Iterable[str]] = ...) -> None: ...

class SessionPersistence(_message.Message):
    __slots__ = ("type", "cookie_name", "persistence_timeout", "persistence_granularity")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    COOKIE_NAME_FIELD_NUMBER: _ClassVar[int]
    PERSISTENCE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    PERSISTENCE_GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    type: str
    cookie_name: str
    persistence_timeout: int
    persistence_granularity: str
    def __init__(self, type: _Optional[str] = ..., cookie_name: _Optional[str] = ..., persistence_timeout: _Optional[int] = ..., persistence_granularity: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("meta", "pool_id", "address", "protocol_port", "weight", "backup", "subnet_id", "monitor_address", "monitor_port", "vnic_type")
    META_FIELD_NUMBER: _ClassVar[int]
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_PORT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    BACKUP_FIELD_NUMBER: _ClassVar[int]
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    MONITOR_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MONITOR_PORT_FIELD_NUMBER: _ClassVar[int]
    VNIC_TYPE_FIELD_NUMBER: _ClassVar[int]
    meta: ResourceMeta
    pool_id: str
    address: str
    protocol_port: int
    weight: int
    backup: bool
    subnet_id: str
    monitor_address: str
    monitor_port: int
    vnic_type: str
    def __init__(self, meta: _Optional[_Union[ResourceMeta, _Mapping]] = ..., pool_id: _Optional[str] = ..., address: _Optional[str] = ..., protocol_port: _Optional[int] = ..., weight: _Optional[int] = ..., backup: _Optional[bool] = ..., subnet_id: _Optional[str] = ..., monitor_address: _Optional[str] = ..., monitor_port: _Optional[int] = ..., vnic_type: _Optional[str] = ...) -> None: ...

class HealthMonitor(_message.Message):
    __slots__ = ("meta", "pool_id", "type", "delay", "timeout", "max_retries", "max_retries_down", "http_method", "url_path", "expected_codes", "http_version", "domain_name")
    META_FIELD_NUMBER: _ClassVar[int]
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_DOWN_FIELD_NUMBER: _ClassVar[int]
    HTTP_METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_PATH_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CODES_FIELD_NUMBER: _ClassVar[int]
    HTTP_VERSION_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_NAME_FIELD_NUMBER: _ClassVar[int]
    meta: ResourceMeta
    pool_id: str
    type: str
    delay: int
    timeout: int
    max_retries: int
    max_retries_down: int
    http_method: str
    url_path: str
    expected_codes: str
    http_version: str
    domain_name: str
    def __init__(self, meta: _Optional[_Union[ResourceMeta, _Mapping]] = ..., pool_id: _Optional[str] = ..., type: _Optional[str] = ..., delay: _Optional[int] = ..., timeout: _Optional[int] = ..., max_retries: _Optional[int] = ..., max_retries_down: _Optional[int] = ..., http_method: _Optional[str] = ..., url_path: _Optional[str] = ..., expected_codes: _Optional[str] = ..., http_version: _Optional[str] = ..., domain_name: _Optional[str] = ...) -> None: ...
