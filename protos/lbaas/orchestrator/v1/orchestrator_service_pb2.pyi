import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from lbaas.common.v1 import graph_pb2 as _graph_pb2
from lbaas.common.v1 import status_pb2 as _status_pb2
from lbaas.orchestrator.v1 import admin_pb2 as _admin_pb2
from lbaas.orchestrator.v1 import management_pb2 as _management_pb2
from lbaas.amphora.v1 import amphora_service_pb2 as _amphora_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FailoverTrigger(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FAILOVER_TRIGGER_UNSPECIFIED: _ClassVar[FailoverTrigger]
    FAILOVER_TRIGGER_OPERATOR: _ClassVar[FailoverTrigger]
    FAILOVER_TRIGGER_HEARTBEAT_STALE: _ClassVar[FailoverTrigger]
FAILOVER_TRIGGER_UNSPECIFIED: FailoverTrigger
FAILOVER_TRIGGER_OPERATOR: FailoverTrigger
FAILOVER_TRIGGER_HEARTBEAT_STALE: FailoverTrigger

class Scope(_message.Message):
    __slots__ = ("project_id", "all_projects")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_PROJECTS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    all_projects: bool
    def __init__(self, project_id: _Optional[str] = ..., all_projects: _Optional[bool] = ...) -> None: ...

class CreateLoadBalancerRequest(_message.Message):
    __slots__ = ("scope", "loadbalancer")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    loadbalancer: _graph_pb2.LoadBalancer
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., loadbalancer: _Optional[_Union[_graph_pb2.LoadBalancer, _Mapping]] = ...) -> None: ...

class CreateLoadBalancerResponse(_message.Message):
    __slots__ = ("loadbalancer",)
    LOADBALANCER_FIELD_NUMBER: _ClassVar[int]
    loadbalancer: _graph_pb2.LoadBalancer
    def __init__(self, loadbalancer: _Optional[_Union[_graph_pb2.LoadBalancer, _Mapping]] = ...) -> None: ...

class GetLoadBalancerRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetLoadBalancerResponse(_message.Message):
    __slots__ = ("loadbalancer",)
    LOADBALANCER_FIELD_NUMBER: _ClassVar[int]
    loadbalancer: _graph_pb2.LoadBalancer
    def __init__(self, loadbalancer: _Optional[_Union[_graph_pb2.LoadBalancer, _Mapping]] = ...) -> None: ...

class ListLoadBalancersRequest(_message.Message):
    __slots__ = ("scope", "if_none_match")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    IF_NONE_MATCH_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    if_none_match: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., if_none_match: _Optional[str] = ...) -> None: ...

class ListLoadBalancersResponse(_message.Message):
    __slots__ = ("loadbalancers", "etag", "not_modified")
    LOADBALANCERS_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NOT_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    loadbalancers: _containers.RepeatedCompositeFieldContainer[_graph_pb2.LoadBalancer]
    etag: str
    not_modified: bool
    def __init__(self, loadbalancers: _Optional[_Iterable[_Union[_graph_pb2.LoadBalancer, _Mapping]]] = ..., etag: _Optional[str] = ..., not_modified: _Optional[bool] = ...) -> None: ...

class UpdateLoadBalancerRequest(_message.Message):
    __slots__ = ("scope", "loadbalancer", "update_mask")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    loadbalancer: _graph_pb2.LoadBalancer
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., loadbalancer: _Optional[_Union[_graph_pb2.LoadBalancer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateLoadBalancerResponse(_message.Message):
    __slots__ = ("loadbalancer",)
    LOADBALANCER_FIELD_NUMBER: _ClassVar[int]
    loadbalancer: _graph_pb2.LoadBalancer
    def __init__(self, loadbalancer: _Optional[_Union[_graph_pb2.LoadBalancer, _Mapping]] = ...) -> None: ...

class DeleteLoadBalancerRequest(_message.Message):
    __slots__ = ("scope", "id", "cascade")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    CASCADE_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    cascade: bool
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ..., cascade: _Optional[bool] = ...) -> None: ...

class DeleteLoadBalancerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetLoadBalancerStatusTreeRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetLoadBalancerStatusTreeResponse(_message.Message):
    __slots__ = ("tree",)
    TREE_FIELD_NUMBER: _ClassVar[int]
    tree: StatusTree
    def __init__(self, tree: _Optional[_Union[StatusTree, _Mapping]] = ...) -> None: ...

class StatusNode(_message.Message):
    __slots__ = ("id", "name", "provisioning_status", "operating_status", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVISIONING_STATUS_FIELD_NUMBER: _ClassVar[int]
    OPERATING_STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    provisioning_status: _status_pb2.ProvisioningStatus
    operating_status: _status_pb2.OperatingStatus
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., provisioning_status: _Optional[_Union[_status_pb2.ProvisioningStatus, str]] = ..., operating_status: _Optional[_Union[_status_pb2.OperatingStatus, str]] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StatusTree(_message.Message):
    __slots__ = ("loadbalancer", "listeners")
    LOADBALANCER_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    loadbalancer: StatusNode
    listeners: _containers.RepeatedCompositeFieldContainer[ListenerStatus]
    def __init__(self, loadbalancer: _Optional[_Union[StatusNode, _Mapping]] = ..., listeners: _Optional[_Iterable[_Union[ListenerStatus, _Mapping]]] = ...) -> None: ...

class ListenerStatus(_message.Message):
    __slots__ = ("listener", "pools")
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    POOLS_FIELD_NUMBER: _ClassVar[int]
    listener: StatusNode
    pools: _containers.RepeatedCompositeFieldContainer[PoolStatus]
    def __init__(self, listener: _Optional[_Union[StatusNode, _Mapping]] = ..., pools: _Optional[_Iterable[_Union[PoolStatus, _Mapping]]] = ...) -> None: ...

class PoolStatus(_message.Message):
    __slots__ = ("pool", "healthmonitor", "members")
    POOL_FIELD_NUMBER: _ClassVar[int]
    HEALTHMONITOR_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    pool: StatusNode
    healthmonitor: StatusNode
    members: _containers.RepeatedCompositeFieldContainer[StatusNode]
    def __init__(self, pool: _Optional[_Union[StatusNode, _Mapping]] = ..., healthmonitor: _Optional[_Union[StatusNode, _Mapping]] = ..., members: _Optional[_Iterable[_Union[StatusNode, _Mapping]]] = ...) -> None: ...

class CreateListenerRequest(_message.Message):
    __slots__ = ("scope", "listener")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    listener: _graph_pb2.Listener
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., listener: _Optional[_Union[_graph_pb2.Listener, _Mapping]] = ...) -> None: ...

class CreateListenerResponse(_message.Message):
    __slots__ = ("listener",)
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    listener: _graph_pb2.Listener
    def __init__(self, listener: _Optional[_Union[_graph_pb2.Listener, _Mapping]] = ...) -> None: ...

class GetListenerRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetListenerResponse(_message.Message):
    __slots__ = ("listener",)
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    listener: _graph_pb2.Listener
    def __init__(self, listener: _Optional[_Union[_graph_pb2.Listener, _Mapping]] = ...) -> None: ...

class ListListenersRequest(_message.Message):
    __slots__ = ("scope", "loadbalancer_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    loadbalancer_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., loadbalancer_id: _Optional[str] = ...) -> None: ...

class ListListenersResponse(_message.Message):
    __slots__ = ("listeners",)
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    listeners: _containers.RepeatedCompositeFieldContainer[_graph_pb2.Listener]
    def __init__(self, listeners: _Optional[_Iterable[_Union[_graph_pb2.Listener, _Mapping]]] = ...) -> None: ...

class UpdateListenerRequest(_message.Message):
    __slots__ = ("scope", "listener", "update_mask")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    listener: _graph_pb2.Listener
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., listener: _Optional[_Union[_graph_pb2.Listener, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateListenerResponse(_message.Message):
    __slots__ = ("listener",)
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    listener: _graph_pb2.Listener
    def __init__(self, listener: _Optional[_Union[_graph_pb2.Listener, _Mapping]] = ...) -> None: ...

class DeleteListenerRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteListenerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreatePoolRequest(_message.Message):
    __slots__ = ("scope", "pool", "listener_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    LISTENER_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    pool: _graph_pb2.Pool
    listener_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., pool: _Optional[_Union[_graph_pb2.Pool, _Mapping]] = ..., listener_id: _Optional[str] = ...) -> None: ...

class CreatePoolResponse(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: _graph_pb2.Pool
    def __init__(self, pool: _Optional[_Union[_graph_pb2.Pool, _Mapping]] = ...) -> None: ...

class GetPoolRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetPoolResponse(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: _graph_pb2.Pool
    def __init__(self, pool: _Optional[_Union[_graph_pb2.Pool, _Mapping]] = ...) -> None: ...

class ListPoolsRequest(_message.Message):
    __slots__ = ("scope", "loadbalancer_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    loadbalancer_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., loadbalancer_id: _Optional[str] = ...) -> None: ...

class ListPoolsResponse(_message.Message):
    __slots__ = ("pools",)
    POOLS_FIELD_NUMBER: _ClassVar[int]
    pools: _containers.RepeatedCompositeFieldContainer[_graph_pb2.Pool]
    def __init__(self, pools: _Optional[_Iterable[_Union[_graph_pb2.Pool, _Mapping]]] = ...) -> None: ...

class UpdatePoolRequest(_message.Message):
    __slots__ = ("scope", "pool", "update_mask")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    pool: _graph_pb2.Pool
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., pool: _Optional[_Union[_graph_pb2.Pool, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdatePoolResponse(_message.Message):
    __slots__ = ("pool",)
    POOL_FIELD_NUMBER: _ClassVar[int]
    pool: _graph_pb2.Pool
    def __init__(self, pool: _Optional[_Union[_graph_pb2.Pool, _Mapping]] = ...) -> None: ...

class DeletePoolRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class DeletePoolResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateMemberRequest(_message.Message):
    __slots__ = ("scope", "member")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    member: _graph_pb2.Member
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., member: _Optional[_Union[_graph_pb2.Member, _Mapping]] = ...) -> None: ...

class CreateMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _graph_pb2.Member
    def __init__(self, member: _Optional[_Union[_graph_pb2.Member, _Mapping]] = ...) -> None: ...

class GetMemberRequest(_message.Message):
    __slots__ = ("scope", "pool_id", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    pool_id: str
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., pool_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class GetMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _graph_pb2.Member
    def __init__(self, member: _Optional[_Union[_graph_pb2.Member, _Mapping]] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("scope", "pool_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    pool_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., pool_id: _Optional[str] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[_graph_pb2.Member]
    def __init__(self, members: _Optional[_Iterable[_Union[_graph_pb2.Member, _Mapping]]] = ...) -> None: ...

class UpdateMemberRequest(_message.Message):
    __slots__ = ("scope", "member", "update_mask")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    member: _graph_pb2.Member
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., member: _Optional[_Union[_graph_pb2.Member, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: _graph_pb2.Member
    def __init__(self, member: _Optional[_Union[_graph_pb2.Member, _Mapping]] = ...) -> None: ...

class DeleteMemberRequest(_message.Message):
    __slots__ = ("scope", "pool_id", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    pool_id: str
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., pool_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteMemberResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateHealthMonitorRequest(_message.Message):
    __slots__ = ("scope", "healthmonitor")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    HEALTHMONITOR_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    healthmonitor: _graph_pb2.HealthMonitor
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., healthmonitor: _Optional[_Union[_graph_pb2.HealthMonitor, _Mapping]] = ...) -> None: ...

class CreateHealthMonitorResponse(_message.Message):
    __slots__ = ("healthmonitor",)
    HEALTHMONITOR_FIELD_NUMBER: _ClassVar[int]
    healthmonitor: _graph_pb2.HealthMonitor
    def __init__(self, healthmonitor: _Optional[_Union[_graph_pb2.HealthMonitor, _Mapping]] = ...) -> None: ...

class GetHealthMonitorRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetHealthMonitorResponse(_message.Message):
    __slots__ = ("healthmonitor",)
    HEALTHMONITOR_FIELD_NUMBER: _ClassVar[int]
    healthmonitor: _graph_pb2.HealthMonitor
    def __init__(self, healthmonitor: _Optional[_Union[_graph_pb2.HealthMonitor, _Mapping]] = ...) -> None: ...

class ListHealthMonitorsRequest(_message.Message):
    __slots__ = ("scope",)
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ...) -> None: ...

class ListHealthMonitorsResponse(_message.Message):
    __slots__ = ("healthmonitors",)
    HEALTHMONITORS_FIELD_NUMBER: _ClassVar[int]
    healthmonitors: _containers.RepeatedCompositeFieldContainer[_graph_pb2.HealthMonitor]
    def __init__(self, healthmonitors: _Optional[_Iterable[_Union[_graph_pb2.HealthMonitor, _Mapping]]] = ...) -> None: ...

class UpdateHealthMonitorRequest(_message.Message):
    __slots__ = ("scope", "healthmonitor", "update_mask")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    HEALTHMONITOR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    healthmonitor: _graph_pb2.HealthMonitor
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., healthmonitor: _Optional[_Union[_graph_pb2.HealthMonitor, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateHealthMonitorResponse(_message.Message):
    __slots__ = ("healthmonitor",)
    HEALTHMONITOR_FIELD_NUMBER: _ClassVar[int]
    healthmonitor: _graph_pb2.HealthMonitor
    def __init__(self, healthmonitor: _Optional[_Union[_graph_pb2.HealthMonitor, _Mapping]] = ...) -> None: ...

class DeleteHealthMonitorRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteHealthMonitorResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Network(_message.Message):
    __slots__ = ("id", "name", "project_id", "subnet_ids", "admin_state_up", "status", "shared")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBNET_IDS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_UP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SHARED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    project_id: str
    subnet_ids: _containers.RepeatedScalarFieldContainer[str]
    admin_state_up: bool
    status: str
    shared: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., project_id: _Optional[str] = ..., subnet_ids: _Optional[_Iterable[str]] = ..., admin_state_up: _Optional[bool] = ..., status: _Optional[str] = ..., shared: _Optional[bool] = ...) -> None: ...

class Subnet(_message.Message):
    __slots__ = ("id", "name", "network_id", "project_id", "cidr", "ip_version", "gateway_ip")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CIDR_FIELD_NUMBER: _ClassVar[int]
    IP_VERSION_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_IP_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    network_id: str
    project_id: str
    cidr: str
    ip_version: int
    gateway_ip: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., network_id: _Optional[str] = ..., project_id: _Optional[str] = ..., cidr: _Optional[str] = ..., ip_version: _Optional[int] = ..., gateway_ip: _Optional[str] = ...) -> None: ...

class FixedIp(_message.Message):
    __slots__ = ("subnet_id", "ip_address")
    SUBNET_ID_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    subnet_id: str
    ip_address: str
    def __init__(self, subnet_id: _Optional[str] = ..., ip_address: _Optional[str] = ...) -> None: ...

class Port(_message.Message):
    __slots__ = ("id", "name", "network_id", "project_id", "fixed_ips", "device_owner", "device_id", "admin_state_up", "status")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FIXED_IPS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_OWNER_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_UP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    network_id: str
    project_id: str
    fixed_ips: _containers.RepeatedCompositeFieldContainer[FixedIp]
    device_owner: str
    device_id: str
    admin_state_up: bool
    status: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., network_id: _Optional[str] = ..., project_id: _Optional[str] = ..., fixed_ips: _Optional[_Iterable[_Union[FixedIp, _Mapping]]] = ..., device_owner: _Optional[str] = ..., device_id: _Optional[str] = ..., admin_state_up: _Optional[bool] = ..., status: _Optional[str] = ...) -> None: ...

class ListNetworksRequest(_message.Message):
    __slots__ = ("scope", "id", "name")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    name: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListNetworksResponse(_message.Message):
    __slots__ = ("networks",)
    NETWORKS_FIELD_NUMBER: _ClassVar[int]
    networks: _containers.RepeatedCompositeFieldContainer[Network]
    def __init__(self, networks: _Optional[_Iterable[_Union[Network, _Mapping]]] = ...) -> None: ...

class ListSubnetsRequest(_message.Message):
    __slots__ = ("scope", "id", "name", "network_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    name: str
    network_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., network_id: _Optional[str] = ...) -> None: ...

class ListSubnetsResponse(_message.Message):
    __slots__ = ("subnets",)
    SUBNETS_FIELD_NUMBER: _ClassVar[int]
    subnets: _containers.RepeatedCompositeFieldContainer[Subnet]
    def __init__(self, subnets: _Optional[_Iterable[_Union[Subnet, _Mapping]]] = ...) -> None: ...

class ListPortsRequest(_message.Message):
    __slots__ = ("scope", "id", "name", "network_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    name: str
    network_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ..., name: _Optional[str] = ..., network_id: _Optional[str] = ...) -> None: ...

class ListPortsResponse(_message.Message):
    __slots__ = ("ports",)
    PORTS_FIELD_NUMBER: _ClassVar[int]
    ports: _containers.RepeatedCompositeFieldContainer[Port]
    def __init__(self, ports: _Optional[_Iterable[_Union[Port, _Mapping]]] = ...) -> None: ...

class Amphora(_message.Message):
    __slots__ = ("id", "loadbalancer_id", "status", "agent_address", "compute_id", "vip_address", "role", "applied_config_hash", "backend_type", "created_at", "updated_at", "cert_expiration", "lb_network_ip", "status_reason", "applied_renderer_version", "compute_flavor", "ha_port_id", "vrrp_port_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    VIP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    BACKEND_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    CERT_EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    LB_NETWORK_IP_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    APPLIED_RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_FLAVOR_FIELD_NUMBER: _ClassVar[int]
    HA_PORT_ID_FIELD_NUMBER: _ClassVar[int]
    VRRP_PORT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    loadbalancer_id: str
    status: str
    agent_address: str
    compute_id: str
    vip_address: str
    role: str
    applied_config_hash: str
    backend_type: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    cert_expiration: _timestamp_pb2.Timestamp
    lb_network_ip: str
    status_reason: str
    applied_renderer_version: str
    compute_flavor: str
    ha_port_id: str
    vrrp_port_id: str
    def __init__(self, id: _Optional[str] = ..., loadbalancer_id: _Optional[str] = ..., status: _Optional[str] = ..., agent_address: _Optional[str] = ..., compute_id: _Optional[str] = ..., vip_address: _Optional[str] = ..., role: _Optional[str] = ..., applied_config_hash: _Optional[str] = ..., backend_type: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cert_expiration: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lb_network_ip: _Optional[str] = ..., status_reason: _Optional[str] = ..., applied_renderer_version: _Optional[str] = ..., compute_flavor: _Optional[str] = ..., ha_port_id: _Optional[str] = ..., vrrp_port_id: _Optional[str] = ...) -> None: ...

class GetAmphoraRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetAmphoraResponse(_message.Message):
    __slots__ = ("amphora",)
    AMPHORA_FIELD_NUMBER: _ClassVar[int]
    amphora: Amphora
    def __init__(self, amphora: _Optional[_Union[Amphora, _Mapping]] = ...) -> None: ...

class ListAmphoraeRequest(_message.Message):
    __slots__ = ("loadbalancer_id",)
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    loadbalancer_id: str
    def __init__(self, loadbalancer_id: _Optional[str] = ...) -> None: ...

class ListAmphoraeResponse(_message.Message):
    __slots__ = ("amphorae",)
    AMPHORAE_FIELD_NUMBER: _ClassVar[int]
    amphorae: _containers.RepeatedCompositeFieldContainer[Amphora]
    def __init__(self, amphorae: _Optional[_Iterable[_Union[Amphora, _Mapping]]] = ...) -> None: ...

class ObjectStatus(_message.Message):
    __slots__ = ("id", "operating_status")
    ID_FIELD_NUMBER: _ClassVar[int]
    OPERATING_STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    operating_status: _status_pb2.OperatingStatus
    def __init__(self, id: _Optional[str] = ..., operating_status: _Optional[_Union[_status_pb2.OperatingStatus, str]] = ...) -> None: ...

class SetOperatingStatusesRequest(_message.Message):
    __slots__ = ("loadbalancer_id", "amphora_id", "statuses")
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    loadbalancer_id: str
    amphora_id: str
    statuses: _containers.RepeatedCompositeFieldContainer[ObjectStatus]
    def __init__(self, loadbalancer_id: _Optional[str] = ..., amphora_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[ObjectStatus, _Mapping]]] = ...) -> None: ...

class SetOperatingStatusesResponse(_message.Message):
    __slots__ = ("changed",)
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    changed: int
    def __init__(self, changed: _Optional[int] = ...) -> None: ...

class BatchUpdateMembersRequest(_message.Message):
    __slots__ = ("scope", "pool_id", "members", "additive_only")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    POOL_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    ADDITIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    pool_id: str
    members: _containers.RepeatedCompositeFieldContainer[_graph_pb2.Member]
    additive_only: bool
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., pool_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[_graph_pb2.Member, _Mapping]]] = ..., additive_only: _Optional[bool] = ...) -> None: ...

class BatchUpdateMembersResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateL7PolicyRequest(_message.Message):
    __slots__ = ("scope", "l7policy")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    l7policy: _graph_pb2.L7Policy
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., l7policy: _Optional[_Union[_graph_pb2.L7Policy, _Mapping]] = ...) -> None: ...

class CreateL7PolicyResponse(_message.Message):
    __slots__ = ("l7policy",)
    L7POLICY_FIELD_NUMBER: _ClassVar[int]
    l7policy: _graph_pb2.L7Policy
    def __init__(self, l7policy: _Optional[_Union[_graph_pb2.L7Policy, _Mapping]] = ...) -> None: ...

class GetL7PolicyRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetL7PolicyResponse(_message.Message):
    __slots__ = ("l7policy",)
    L7POLICY_FIELD_NUMBER: _ClassVar[int]
    l7policy: _graph_pb2.L7Policy
    def __init__(self, l7policy: _Optional[_Union[_graph_pb2.L7Policy, _Mapping]] = ...) -> None: ...

class ListL7PoliciesRequest(_message.Message):
    __slots__ = ("scope", "listener_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LISTENER_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    listener_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., listener_id: _Optional[str] = ...) -> None: ...

class ListL7PoliciesResponse(_message.Message):
    __slots__ = ("l7policies",)
    L7POLICIES_FIELD_NUMBER: _ClassVar[int]
    l7policies: _containers.RepeatedCompositeFieldContainer[_graph_pb2.L7Policy]
    def __init__(self, l7policies: _Optional[_Iterable[_Union[_graph_pb2.L7Policy, _Mapping]]] = ...) -> None: ...

class UpdateL7PolicyRequest(_message.Message):
    __slots__ = ("scope", "l7policy", "update_mask")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    l7policy: _graph_pb2.L7Policy
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., l7policy: _Optional[_Union[_graph_pb2.L7Policy, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateL7PolicyResponse(_message.Message):
    __slots__ = ("l7policy",)
    L7POLICY_FIELD_NUMBER: _ClassVar[int]
    l7policy: _graph_pb2.L7Policy
    def __init__(self, l7policy: _Optional[_Union[_graph_pb2.L7Policy, _Mapping]] = ...) -> None: ...

class DeleteL7PolicyRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteL7PolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateL7RuleRequest(_message.Message):
    __slots__ = ("scope", "l7rule")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    L7RULE_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    l7rule: _graph_pb2.L7Rule
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., l7rule: _Optional[_Union[_graph_pb2.L7Rule, _Mapping]] = ...) -> None: ...

class CreateL7RuleResponse(_message.Message):
    __slots__ = ("l7rule",)
    L7RULE_FIELD_NUMBER: _ClassVar[int]
    l7rule: _graph_pb2.L7Rule
    def __init__(self, l7rule: _Optional[_Union[_graph_pb2.L7Rule, _Mapping]] = ...) -> None: ...

class GetL7RuleRequest(_message.Message):
    __slots__ = ("scope", "l7policy_id", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    l7policy_id: str
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., l7policy_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class GetL7RuleResponse(_message.Message):
    __slots__ = ("l7rule",)
    L7RULE_FIELD_NUMBER: _ClassVar[int]
    l7rule: _graph_pb2.L7Rule
    def __init__(self, l7rule: _Optional[_Union[_graph_pb2.L7Rule, _Mapping]] = ...) -> None: ...

class ListL7RulesRequest(_message.Message):
    __slots__ = ("scope", "l7policy_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    l7policy_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., l7policy_id: _Optional[str] = ...) -> None: ...

class ListL7RulesResponse(_message.Message):
    __slots__ = ("l7rules",)
    L7RULES_FIELD_NUMBER: _ClassVar[int]
    l7rules: _containers.RepeatedCompositeFieldContainer[_graph_pb2.L7Rule]
    def __init__(self, l7rules: _Optional[_Iterable[_Union[_graph_pb2.L7Rule, _Mapping]]] = ...) -> None: ...

class UpdateL7RuleRequest(_message.Message):
    __slots__ = ("scope", "l7rule", "update_mask")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    L7RULE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    l7rule: _graph_pb2.L7Rule
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., l7rule: _Optional[_Union[_graph_pb2.L7Rule, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateL7RuleResponse(_message.Message):
    __slots__ = ("l7rule",)
    L7RULE_FIELD_NUMBER: _ClassVar[int]
    l7rule: _graph_pb2.L7Rule
    def __init__(self, l7rule: _Optional[_Union[_graph_pb2.L7Rule, _Mapping]] = ...) -> None: ...

class DeleteL7RuleRequest(_message.Message):
    __slots__ = ("scope", "l7policy_id", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    l7policy_id: str
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., l7policy_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteL7RuleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FailoverLoadBalancerRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class FailoverLoadBalancerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResizeLoadBalancerRequest(_message.Message):
    __slots__ = ("scope", "id", "flavor_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    flavor_id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ..., flavor_id: _Optional[str] = ...) -> None: ...

class ResizeLoadBalancerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FailoverAmphoraRequest(_message.Message):
    __slots__ = ("id", "trigger")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    id: str
    trigger: FailoverTrigger
    def __init__(self, id: _Optional[str] = ..., trigger: _Optional[_Union[FailoverTrigger, str]] = ...) -> None: ...

class FailoverAmphoraResponse(_message.Message):
    __slots__ = ("claimed",)
    CLAIMED_FIELD_NUMBER: _ClassVar[int]
    claimed: bool
    def __init__(self, claimed: _Optional[bool] = ...) -> None: ...

class ConfigureAmphoraRequest(_message.Message):
    __slots__ = ("id", "drift")
    ID_FIELD_NUMBER: _ClassVar[int]
    DRIFT_FIELD_NUMBER: _ClassVar[int]
    id: str
    drift: bool
    def __init__(self, id: _Optional[str] = ..., drift: _Optional[bool] = ...) -> None: ...

class ConfigureAmphoraResponse(_message.Message):
    __slots__ = ("claimed",)
    CLAIMED_FIELD_NUMBER: _ClassVar[int]
    claimed: bool
    def __init__(self, claimed: _Optional[bool] = ...) -> None: ...

class DeleteAmphoraRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteAmphoraResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetQuotaRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetQuotaResponse(_message.Message):
    __slots__ = ("quota", "usage")
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    quota: _admin_pb2.Quota
    usage: _admin_pb2.QuotaUsage
    def __init__(self, quota: _Optional[_Union[_admin_pb2.Quota, _Mapping]] = ..., usage: _Optional[_Union[_admin_pb2.QuotaUsage, _Mapping]] = ...) -> None: ...

class ListQuotasRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ListQuotasResponse(_message.Message):
    __slots__ = ("quotas",)
    QUOTAS_FIELD_NUMBER: _ClassVar[int]
    quotas: _containers.RepeatedCompositeFieldContainer[_admin_pb2.Quota]
    def __init__(self, quotas: _Optional[_Iterable[_Union[_admin_pb2.Quota, _Mapping]]] = ...) -> None: ...

class UpdateQuotaRequest(_message.Message):
    __slots__ = ("quota", "update_mask")
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    quota: _admin_pb2.Quota
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, quota: _Optional[_Union[_admin_pb2.Quota, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateQuotaResponse(_message.Message):
    __slots__ = ("quota",)
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    quota: _admin_pb2.Quota
    def __init__(self, quota: _Optional[_Union[_admin_pb2.Quota, _Mapping]] = ...) -> None: ...

class ResetQuotaRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ResetQuotaResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetQuotaDefaultsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetQuotaDefaultsResponse(_message.Message):
    __slots__ = ("quota",)
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    quota: _admin_pb2.Quota
    def __init__(self, quota: _Optional[_Union[_admin_pb2.Quota, _Mapping]] = ...) -> None: ...

class CreateFlavorProfileRequest(_message.Message):
    __slots__ = ("flavorprofile",)
    FLAVORPROFILE_FIELD_NUMBER: _ClassVar[int]
    flavorprofile: _admin_pb2.FlavorProfile
    def __init__(self, flavorprofile: _Optional[_Union[_admin_pb2.FlavorProfile, _Mapping]] = ...) -> None: ...

class CreateFlavorProfileResponse(_message.Message):
    __slots__ = ("flavorprofile",)
    FLAVORPROFILE_FIELD_NUMBER: _ClassVar[int]
    flavorprofile: _admin_pb2.FlavorProfile
    def __init__(self, flavorprofile: _Optional[_Union[_admin_pb2.FlavorProfile, _Mapping]] = ...) -> None: ...

class GetFlavorProfileRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetFlavorProfileResponse(_message.Message):
    __slots__ = ("flavorprofile",)
    FLAVORPROFILE_FIELD_NUMBER: _ClassVar[int]
    flavorprofile: _admin_pb2.FlavorProfile
    def __init__(self, flavorprofile: _Optional[_Union[_admin_pb2.FlavorProfile, _Mapping]] = ...) -> None: ...

class ListFlavorProfilesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFlavorProfilesResponse(_message.Message):
    __slots__ = ("flavorprofiles",)
    FLAVORPROFILES_FIELD_NUMBER: _ClassVar[int]
    flavorprofiles: _containers.RepeatedCompositeFieldContainer[_admin_pb2.FlavorProfile]
    def __init__(self, flavorprofiles: _Optional[_Iterable[_Union[_admin_pb2.FlavorProfile, _Mapping]]] = ...) -> None: ...

class UpdateFlavorProfileRequest(_message.Message):
    __slots__ = ("flavorprofile", "update_mask")
    FLAVORPROFILE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    flavorprofile: _admin_pb2.FlavorProfile
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, flavorprofile: _Optional[_Union[_admin_pb2.FlavorProfile, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateFlavorProfileResponse(_message.Message):
    __slots__ = ("flavorprofile",)
    FLAVORPROFILE_FIELD_NUMBER: _ClassVar[int]
    flavorprofile: _admin_pb2.FlavorProfile
    def __init__(self, flavorprofile: _Optional[_Union[_admin_pb2.FlavorProfile, _Mapping]] = ...) -> None: ...

class DeleteFlavorProfileRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteFlavorProfileResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateFlavorRequest(_message.Message):
    __slots__ = ("flavor",)
    FLAVOR_FIELD_NUMBER: _ClassVar[int]
    flavor: _admin_pb2.Flavor
    def __init__(self, flavor: _Optional[_Union[_admin_pb2.Flavor, _Mapping]] = ...) -> None: ...

class CreateFlavorResponse(_message.Message):
    __slots__ = ("flavor",)
    FLAVOR_FIELD_NUMBER: _ClassVar[int]
    flavor: _admin_pb2.Flavor
    def __init__(self, flavor: _Optional[_Union[_admin_pb2.Flavor, _Mapping]] = ...) -> None: ...

class GetFlavorRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetFlavorResponse(_message.Message):
    __slots__ = ("flavor",)
    FLAVOR_FIELD_NUMBER: _ClassVar[int]
    flavor: _admin_pb2.Flavor
    def __init__(self, flavor: _Optional[_Union[_admin_pb2.Flavor, _Mapping]] = ...) -> None: ...

class ListFlavorsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFlavorsResponse(_message.Message):
    __slots__ = ("flavors",)
    FLAVORS_FIELD_NUMBER: _ClassVar[int]
    flavors: _containers.RepeatedCompositeFieldContainer[_admin_pb2.Flavor]
    def __init__(self, flavors: _Optional[_Iterable[_Union[_admin_pb2.Flavor, _Mapping]]] = ...) -> None: ...

class UpdateFlavorRequest(_message.Message):
    __slots__ = ("flavor", "update_mask")
    FLAVOR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    flavor: _admin_pb2.Flavor
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, flavor: _Optional[_Union[_admin_pb2.Flavor, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateFlavorResponse(_message.Message):
    __slots__ = ("flavor",)
    FLAVOR_FIELD_NUMBER: _ClassVar[int]
    flavor: _admin_pb2.Flavor
    def __init__(self, flavor: _Optional[_Union[_admin_pb2.Flavor, _Mapping]] = ...) -> None: ...

class DeleteFlavorRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteFlavorResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateAvailabilityZoneProfileRequest(_message.Message):
    __slots__ = ("availability_zone_profile",)
    AVAILABILITY_ZONE_PROFILE_FIELD_NUMBER: _ClassVar[int]
    availability_zone_profile: _admin_pb2.AvailabilityZoneProfile
    def __init__(self, availability_zone_profile: _Optional[_Union[_admin_pb2.AvailabilityZoneProfile, _Mapping]] = ...) -> None: ...

class CreateAvailabilityZoneProfileResponse(_message.Message):
    __slots__ = ("availability_zone_profile",)
    AVAILABILITY_ZONE_PROFILE_FIELD_NUMBER: _ClassVar[int]
    availability_zone_profile: _admin_pb2.AvailabilityZoneProfile
    def __init__(self, availability_zone_profile: _Optional[_Union[_admin_pb2.AvailabilityZoneProfile, _Mapping]] = ...) -> None: ...

class GetAvailabilityZoneProfileRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetAvailabilityZoneProfileResponse(_message.Message):
    __slots__ = ("availability_zone_profile",)
    AVAILABILITY_ZONE_PROFILE_FIELD_NUMBER: _ClassVar[int]
    availability_zone_profile: _admin_pb2.AvailabilityZoneProfile
    def __init__(self, availability_zone_profile: _Optional[_Union[_admin_pb2.AvailabilityZoneProfile, _Mapping]] = ...) -> None: ...

class ListAvailabilityZoneProfilesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAvailabilityZoneProfilesResponse(_message.Message):
    __slots__ = ("availability_zone_profiles",)
    AVAILABILITY_ZONE_PROFILES_FIELD_NUMBER: _ClassVar[int]
    availability_zone_profiles: _containers.RepeatedCompositeFieldContainer[_admin_pb2.AvailabilityZoneProfile]
    def __init__(self, availability_zone_profiles: _Optional[_Iterable[_Union[_admin_pb2.AvailabilityZoneProfile, _Mapping]]] = ...) -> None: ...

class UpdateAvailabilityZoneProfileRequest(_message.Message):
    __slots__ = ("availability_zone_profile", "update_mask")
    AVAILABILITY_ZONE_PROFILE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    availability_zone_profile: _admin_pb2.AvailabilityZoneProfile
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, availability_zone_profile: _Optional[_Union[_admin_pb2.AvailabilityZoneProfile, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateAvailabilityZoneProfileResponse(_message.Message):
    __slots__ = ("availability_zone_profile",)
    AVAILABILITY_ZONE_PROFILE_FIELD_NUMBER: _ClassVar[int]
    availability_zone_profile: _admin_pb2.AvailabilityZoneProfile
    def __init__(self, availability_zone_profile: _Optional[_Union[_admin_pb2.AvailabilityZoneProfile, _Mapping]] = ...) -> None: ...

class DeleteAvailabilityZoneProfileRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteAvailabilityZoneProfileResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateAvailabilityZoneRequest(_message.Message):
    __slots__ = ("availability_zone",)
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    availability_zone: _admin_pb2.AvailabilityZone
    def __init__(self, availability_zone: _Optional[_Union[_admin_pb2.AvailabilityZone, _Mapping]] = ...) -> None: ...

class CreateAvailabilityZoneResponse(_message.Message):
    __slots__ = ("availability_zone",)
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    availability_zone: _admin_pb2.AvailabilityZone
    def __init__(self, availability_zone: _Optional[_Union[_admin_pb2.AvailabilityZone, _Mapping]] = ...) -> None: ...

class GetAvailabilityZoneRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAvailabilityZoneResponse(_message.Message):
    __slots__ = ("availability_zone",)
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    availability_zone: _admin_pb2.AvailabilityZone
    def __init__(self, availability_zone: _Optional[_Union[_admin_pb2.AvailabilityZone, _Mapping]] = ...) -> None: ...

class ListAvailabilityZonesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAvailabilityZonesResponse(_message.Message):
    __slots__ = ("availability_zones",)
    AVAILABILITY_ZONES_FIELD_NUMBER: _ClassVar[int]
    availability_zones: _containers.RepeatedCompositeFieldContainer[_admin_pb2.AvailabilityZone]
    def __init__(self, availability_zones: _Optional[_Iterable[_Union[_admin_pb2.AvailabilityZone, _Mapping]]] = ...) -> None: ...

class UpdateAvailabilityZoneRequest(_message.Message):
    __slots__ = ("availability_zone", "update_mask")
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    availability_zone: _admin_pb2.AvailabilityZone
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, availability_zone: _Optional[_Union[_admin_pb2.AvailabilityZone, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateAvailabilityZoneResponse(_message.Message):
    __slots__ = ("availability_zone",)
    AVAILABILITY_ZONE_FIELD_NUMBER: _ClassVar[int]
    availability_zone: _admin_pb2.AvailabilityZone
    def __init__(self, availability_zone: _Optional[_Union[_admin_pb2.AvailabilityZone, _Mapping]] = ...) -> None: ...

class DeleteAvailabilityZoneRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteAvailabilityZoneResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListProvidersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("providers",)
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[_admin_pb2.Provider]
    def __init__(self, providers: _Optional[_Iterable[_Union[_admin_pb2.Provider, _Mapping]]] = ...) -> None: ...

class ListProviderCapabilitiesRequest(_message.Message):
    __slots__ = ("provider",)
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    provider: str
    def __init__(self, provider: _Optional[str] = ...) -> None: ...

class ListProviderCapabilitiesResponse(_message.Message):
    __slots__ = ("capabilities",)
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    capabilities: _containers.RepeatedCompositeFieldContainer[_admin_pb2.ProviderCapability]
    def __init__(self, capabilities: _Optional[_Iterable[_Union[_admin_pb2.ProviderCapability, _Mapping]]] = ...) -> None: ...

class Certificate(_message.Message):
    __slots__ = ("id", "project_id", "name", "ref", "type", "hostnames", "subject", "expires_at", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HOSTNAMES_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    name: str
    ref: str
    type: str
    hostnames: _containers.RepeatedScalarFieldContainer[str]
    subject: str
    expires_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., ref: _Optional[str] = ..., type: _Optional[str] = ..., hostnames: _Optional[_Iterable[str]] = ..., subject: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateCertificateRequest(_message.Message):
    __slots__ = ("scope", "name", "certificate_pem", "private_key_pem", "intermediates_pem", "pkcs12", "passphrase", "crl_pem", "type")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    INTERMEDIATES_PEM_FIELD_NUMBER: _ClassVar[int]
    PKCS12_FIELD_NUMBER: _ClassVar[int]
    PASSPHRASE_FIELD_NUMBER: _ClassVar[int]
    CRL_PEM_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    name: str
    certificate_pem: bytes
    private_key_pem: bytes
    intermediates_pem: bytes
    pkcs12: bytes
    passphrase: str
    crl_pem: bytes
    type: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., name: _Optional[str] = ..., certificate_pem: _Optional[bytes] = ..., private_key_pem: _Optional[bytes] = ..., intermediates_pem: _Optional[bytes] = ..., pkcs12: _Optional[bytes] = ..., passphrase: _Optional[str] = ..., crl_pem: _Optional[bytes] = ..., type: _Optional[str] = ...) -> None: ...

class CreateCertificateResponse(_message.Message):
    __slots__ = ("certificate",)
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    certificate: Certificate
    def __init__(self, certificate: _Optional[_Union[Certificate, _Mapping]] = ...) -> None: ...

class GetCertificateRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class GetCertificateResponse(_message.Message):
    __slots__ = ("certificate",)
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    certificate: Certificate
    def __init__(self, certificate: _Optional[_Union[Certificate, _Mapping]] = ...) -> None: ...

class ListCertificatesRequest(_message.Message):
    __slots__ = ("scope",)
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ...) -> None: ...

class ListCertificatesResponse(_message.Message):
    __slots__ = ("certificates",)
    CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    certificates: _containers.RepeatedCompositeFieldContainer[Certificate]
    def __init__(self, certificates: _Optional[_Iterable[_Union[Certificate, _Mapping]]] = ...) -> None: ...

class DeleteCertificateRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteCertificateResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RefreshConfigsRequest(_message.Message):
    __slots__ = ("loadbalancer_id", "force")
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    loadbalancer_id: str
    force: bool
    def __init__(self, loadbalancer_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class RefreshConfigsResponse(_message.Message):
    __slots__ = ("rendered", "pushed", "unchanged", "skipped", "failures", "stopped")
    RENDERED_FIELD_NUMBER: _ClassVar[int]
    PUSHED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    rendered: int
    pushed: int
    unchanged: int
    skipped: int
    failures: _containers.RepeatedCompositeFieldContainer[RefreshFailure]
    stopped: bool
    def __init__(self, rendered: _Optional[int] = ..., pushed: _Optional[int] = ..., unchanged: _Optional[int] = ..., skipped: _Optional[int] = ..., failures: _Optional[_Iterable[_Union[RefreshFailure, _Mapping]]] = ..., stopped: _Optional[bool] = ...) -> None: ...

class RefreshFailure(_message.Message):
    __slots__ = ("loadbalancer_id", "reason")
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    loadbalancer_id: str
    reason: str
    def __init__(self, loadbalancer_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PreviewLoadBalancerConfigRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class PreviewLoadBalancerConfigResponse(_message.Message):
    __slots__ = ("loadbalancer_id", "differs", "amphorae")
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    DIFFERS_FIELD_NUMBER: _ClassVar[int]
    AMPHORAE_FIELD_NUMBER: _ClassVar[int]
    loadbalancer_id: str
    differs: bool
    amphorae: _containers.RepeatedCompositeFieldContainer[_management_pb2.AmphoraConfigPreview]
    def __init__(self, loadbalancer_id: _Optional[str] = ..., differs: _Optional[bool] = ..., amphorae: _Optional[_Iterable[_Union[_management_pb2.AmphoraConfigPreview, _Mapping]]] = ...) -> None: ...

class ResyncLoadBalancerRequest(_message.Message):
    __slots__ = ("scope", "id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    scope: Scope
    id: str
    def __init__(self, scope: _Optional[_Union[Scope, _Mapping]] = ..., id: _Optional[str] = ...) -> None: ...

class ResyncLoadBalancerResponse(_message.Message):
    __slots__ = ("amphora_ids",)
    AMPHORA_IDS_FIELD_NUMBER: _ClassVar[int]
    amphora_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, amphora_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAmphoraDiagnosticsRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetAmphoraDiagnosticsResponse(_message.Message):
    __slots__ = ("amphora_id", "loadbalancer_id", "diagnostics")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    loadbalancer_id: str
    diagnostics: _amphora_service_pb2.GetDiagnosticsResponse
    def __init__(self, amphora_id: _Optional[str] = ..., loadbalancer_id: _Optional[str] = ..., diagnostics: _Optional[_Union[_amphora_service_pb2.GetDiagnosticsResponse, _Mapping]] = ...) -> None: ...

class GetAmphoraLogsRequest(_message.Message):
    __slots__ = ("id", "lines")
    ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    id: str
    lines: int
    def __init__(self, id: _Optional[str] = ..., lines: _Optional[int] = ...) -> None: ...

class GetAmphoraLogsResponse(_message.Message):
    __slots__ = ("amphora_id", "logs")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    logs: _containers.RepeatedCompositeFieldContainer[_amphora_service_pb2.LogTail]
    def __init__(self, amphora_id: _Optional[str] = ..., logs: _Optional[_Iterable[_Union[_amphora_service_pb2.LogTail, _Mapping]]] = ...) -> None: ...
