"""What a backend renderer is: the one interface the handlers call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2


@dataclass(frozen=True)
class RenderedFile:
    path: str
    content: bytes
    mode: int


@dataclass(frozen=True)
class Rendering:
    files: tuple[RenderedFile, ...]
    renderer_version: str
    config_hash: str


@dataclass(frozen=True)
class Description:
    backend_type: str
    renderer_version: str
    supported_features: tuple[str, ...]


class Renderer(Protocol):
    def describe(self) -> Description: ...

    def render(
        self,
        loadbalancer: graph_pb2.LoadBalancer,
        target: renderer_service_pb2.Target,
        materials: Sequence[renderer_service_pb2.TlsMaterial] = (),
    ) -> Rendering: ...
