from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ProvisioningStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVISIONING_STATUS_UNSPECIFIED: _ClassVar[ProvisioningStatus]
    PROVISIONING_STATUS_ACTIVE: _ClassVar[ProvisioningStatus]
    PROVISIONING_STATUS_PENDING_CREATE: _ClassVar[ProvisioningStatus]
    PROVISIONING_STATUS_PENDING_UPDATE: _ClassVar[ProvisioningStatus]
    PROVISIONING_STATUS_PENDING_DELETE: _ClassVar[ProvisioningStatus]
    PROVISIONING_STATUS_DELETED: _ClassVar[ProvisioningStatus]
    PROVISIONING_STATUS_ERROR: _ClassVar[ProvisioningStatus]

class OperatingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATING_STATUS_UNSPECIFIED: _ClassVar[OperatingStatus]
    OPERATING_STATUS_ONLINE: _ClassVar[OperatingStatus]
    OPERATING_STATUS_OFFLINE: _ClassVar[OperatingStatus]
    OPERATING_STATUS_DEGRADED: _ClassVar[OperatingStatus]
    OPERATING_STATUS_ERROR: _ClassVar[OperatingStatus]
    OPERATING_STATUS_DRAINING: _ClassVar[OperatingStatus]
    OPERATING_STATUS_NO_MONITOR: _ClassVar[OperatingStatus]
PROVISIONING_STATUS_UNSPECIFIED: ProvisioningStatus
PROVISIONING_STATUS_ACTIVE: ProvisioningStatus
PROVISIONING_STATUS_PENDING_CREATE: ProvisioningStatus
PROVISIONING_STATUS_PENDING_UPDATE: ProvisioningStatus
PROVISIONING_STATUS_PENDING_DELETE: ProvisioningStatus
PROVISIONING_STATUS_DELETED: ProvisioningStatus
PROVISIONING_STATUS_ERROR: ProvisioningStatus
OPERATING_STATUS_UNSPECIFIED: OperatingStatus
OPERATING_STATUS_ONLINE: OperatingStatus
OPERATING_STATUS_OFFLINE: OperatingStatus
OPERATING_STATUS_DEGRADED: OperatingStatus
OPERATING_STATUS_ERROR: OperatingStatus
OPERATING_STATUS_DRAINING: OperatingStatus
OPERATING_STATUS_NO_MONITOR: OperatingStatus
