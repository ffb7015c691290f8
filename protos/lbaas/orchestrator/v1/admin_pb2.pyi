from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Quota(_message.Message):
    __slots__ = ("project_id", "load_balancer", "listener", "pool", "health_monitor", "member", "l7policy", "l7rule")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LOAD_BALANCER_FIELD_NUMBER: _ClassVar[int]
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    HEALTH_MONITOR_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_FIELD_NUMBER: _ClassVar[int]
    L7RULE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    load_balancer: int
    listener: int
    pool: int
    health_monitor: int
    member: int
    l7policy: int
    l7rule: int
    def __init__(self, project_id: _Optional[str] = ..., load_balancer: _Optional[int] = ..., listener: _Optional[int] = ..., pool: _Optional[int] = ..., health_monitor: _Optional[int] = ..., member: _Optional[int] = ..., l7policy: _Optional[int] = ..., l7rule: _Optional[int] = ...) -> None: ...

class QuotaUsage(_message.Message):
    __slots__ = ("project_id", "load_balancer", "listener", "pool", "health_monitor", "member", "l7policy", "l7rule")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LOAD_BALANCER_FIELD_NUMBER: _ClassVar[int]
    LISTENER_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    HEALTH_MONITOR_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    L7POLICY_FIELD_NUMBER: _ClassVar[int]
    L7RULE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    load_balancer: int
    listener: int
    pool: int
    health_monitor: int
    member: int
    l7policy: int
    l7rule: int
    def __init__(self, project_id: _Optional[str] = ..., load_balancer: _Optional[int] = ..., listener: _Optional[int] = ..., pool: _Optional[int] = ..., health_monitor: _Optional[int] = ..., member: _Optional[int] = ..., l7policy: _Optional[int] = ..., l7rule: _Optional[int] = ...) -> None: ...

class FlavorProfile(_message.Message):
    __slots__ = ("id", "name", "provider_name", "flavor_data")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NAME_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_DATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    provider_name: str
    flavor_data: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., provider_name: _Optional[str] = ..., flavor_data: _Optional[str] = ...) -> None: ...

class Flavor(_message.Message):
    __slots__ = ("id", "name", "description", "enabled", "flavor_profile_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    FLAVOR_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    enabled: bool
    flavor_profile_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., enabled: _Optional[bool] = ..., flavor_profile_id: _Optional[str] = ...) -> None: ...

class AvailabilityZoneProfile(_message.Message):
    __slots__ = ("id", "name", "provider_name", "availability_zone_data")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NAME_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_DATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    provider_name: str
    availability_zone_data: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., provider_name: _Optional[str] = ..., availability_zone_data: _Optional[str] = ...) -> None: ...

class AvailabilityZone(_message.Message):
    __slots__ = ("name", "description", "enabled", "availability_zone_profile_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_ZONE_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    enabled: bool
    availability_zone_profile_id: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., enabled: _Optional[bool] = ..., availability_zone_profile_id: _Optional[str] = ...) -> None: ...

class Provider(_message.Message):
    __slots__ = ("name", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ProviderCapability(_message.Message):
    __slots__ = ("name", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...
