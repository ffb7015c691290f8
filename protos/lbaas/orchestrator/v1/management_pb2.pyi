from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PreviewFile(_message.Message):
    __slots__ = ("path", "mode", "content", "redacted", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REDACTED_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    mode: int
    content: str
    redacted: bool
    sha256: str
    def __init__(self, path: _Optional[str] = ..., mode: _Optional[int] = ..., content: _Optional[str] = ..., redacted: _Optional[bool] = ..., sha256: _Optional[str] = ...) -> None: ...

class AmphoraConfigPreview(_message.Message):
    __slots__ = ("amphora_id", "role", "config_hash", "renderer_version", "files", "applied_config_hash", "applied_renderer_version", "differs", "diff")
    AMPHORA_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    APPLIED_CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    APPLIED_RENDERER_VERSION_FIELD_NUMBER: _ClassVar[int]
    DIFFERS_FIELD_NUMBER: _ClassVar[int]
    DIFF_FIELD_NUMBER: _ClassVar[int]
    amphora_id: str
    role: str
    config_hash: str
    renderer_version: str
    files: _containers.RepeatedCompositeFieldContainer[PreviewFile]
    applied_config_hash: str
    applied_renderer_version: str
    differs: bool
    diff: str
    def __init__(self, amphora_id: _Optional[str] = ..., role: _Optional[str] = ..., config_hash: _Optional[str] = ..., renderer_version: _Optional[str] = ..., files: _Optional[_Iterable[_Union[PreviewFile, _Mapping]]] = ..., applied_config_hash: _Optional[str] = ..., applied_renderer_version: _Optional[str] = ..., differs: _Optional[bool] = ..., diff: _Optional[str] = ...) -> None: ...
