from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AmphoraCertificate(_message.Message):
    __slots__ = ("cert_pem", "key_pem", "ca_pem")
    CERT_PEM_FIELD_NUMBER: _ClassVar[int]
    KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_PEM_FIELD_NUMBER: _ClassVar[int]
    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes
    def __init__(self, cert_pem: _Optional[bytes] = ..., key_pem: _Optional[bytes] = ..., ca_pem: _Optional[bytes] = ...) -> None: ...

class AgentHeartbeat(_message.Message):
    __slots__ = ("targets", "interval", "key_file")
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    KEY_FILE_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedScalarFieldContainer[str]
    interval: float
    key_file: bytes
    def __init__(self, targets: _Optional[_Iterable[str]] = ..., interval: _Optional[float] = ..., key_file: _Optional[bytes] = ...) -> None: ...

class CreateAmphoraRequest(_message.Message):
    __slots__ = ("amphora_id", "loadbalancer_id", "backend_type", "vip_address", "certificate", "agent_port", "address", "heartbeat")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    LOADBALANCER_ID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_TYPE_FIELD_NUMBER: _ClassVar[int]
    VIP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    AGENT_PORT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    loadbalancer_id: str
    backend_type: str
    vip_address: str
    certificate: AmphoraCertificate
    agent_port: int
    address: str
    heartbeat: AgentHeartbeat
    def __init__(self, amphora_id: _Optional[str] = ..., loadbalancer_id: _Optional[str] = ..., backend_type: _Optional[str] = ..., vip_address: _Optional[str] = ..., certificate: _Optional[_Union[AmphoraCertificate, _Mapping]] = ..., agent_port: _Optional[int] = ..., address: _Optional[str] = ..., heartbeat: _Optional[_Union[AgentHeartbeat, _Mapping]] = ...) -> None: ...

class ComputeInstance(_message.Message):
    __slots__ = ("compute_id", "agent_address", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    compute_id: str
    agent_address: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, compute_id: _Optional[str] = ..., agent_address: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateAmphoraResponse(_message.Message):
    __slots__ = ("instance",)
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    instance: ComputeInstance
    def __init__(self, instance: _Optional[_Union[ComputeInstance, _Mapping]] = ...) -> None: ...

class IsAliveRequest(_message.Message):
    __slots__ = ("compute_id",)
    COMPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    compute_id: str
    def __init__(self, compute_id: _Optional[str] = ...) -> None: ...

class IsAliveResponse(_message.Message):
    __slots__ = ("alive",)
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    alive: bool
    def __init__(self, alive: _Optional[bool] = ...) -> None: ...

class DeleteAmphoraRequest(_message.Message):
    __slots__ = ("amphora_id", "compute_id")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    compute_id: str
    def __init__(self, amphora_id: _Optional[str] = ..., compute_id: _Optional[str] = ...) -> None: ...

class DeleteAmphoraResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TakeVipRequest(_message.Message):
    __slots__ = ("amphora_id", "vip_address", "prefix_length", "previous")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    VIP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    vip_address: str
    prefix_length: int
    previous: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, amphora_id: _Optional[str] = ..., vip_address: _Optional[str] = ..., prefix_length: _Optional[int] = ..., previous: _Optional[_Iterable[str]] = ...) -> None: ...

class TakeVipResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAmphoraeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HostedAmphora(_message.Message):
    __slots__ = ("amphora_id", "heartbeat_key_sha256")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_KEY_SHA256_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    heartbeat_key_sha256: bytes
    def __init__(self, amphora_id: _Optional[str] = ..., heartbeat_key_sha256: _Optional[bytes] = ...) -> None: ...

class ListAmphoraeResponse(_message.Message):
    __slots__ = ("amphorae",)
    AMPHORAE_FIELD_NUMBER: _ClassVar[int]
    amphorae: _containers.RepeatedCompositeFieldContainer[HostedAmphora]
    def __init__(self, amphorae: _Optional[_Iterable[_Union[HostedAmphora, _Mapping]]] = ...) -> None: ...

class HeartbeatKeyFile(_message.Message):
    __slots__ = ("amphora_id", "key_file")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FILE_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    key_file: bytes
    def __init__(self, amphora_id: _Optional[str] = ..., key_file: _Optional[bytes] = ...) -> None: ...

class UpdateHeartbeatKeysRequest(_message.Message):
    __slots__ = ("key_files",)
    KEY_FILES_FIELD_NUMBER: _ClassVar[int]
    key_files: _containers.RepeatedCompositeFieldContainer[HeartbeatKeyFile]
    def __init__(self, key_files: _Optional[_Iterable[_Union[HeartbeatKeyFile, _Mapping]]] = ...) -> None: ...

class UpdateHeartbeatKeysResponse(_message.Message):
    __slots__ = ("rewritten",)
    REWRITTEN_FIELD_NUMBER: _ClassVar[int]
    rewritten: int
    def __init__(self, rewritten: _Optional[int] = ...) -> None: ...
