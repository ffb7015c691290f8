"""What a backend renderer is: the one interface the handlers call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from lbaas.common.v1 import graph_pb2, runtime_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.domain.hashing import config_hash


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

    @classmethod
    def of(cls, files: Sequence[RenderedFile], renderer_version: str) -> Rendering:
        """The rendering of these files, with the config hash the agent recomputes."""
        return cls(
            files=tuple(files),
            renderer_version=renderer_version,
            config_hash=config_hash((f.path, f.content) for f in files),
        )


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


@runtime_checkable
class RuntimePlanner(Protocol):
    """A renderer that can answer a runtime plan ("runtime.member_changes"); one that is not
    never answers one (a reload applies every change)."""

    def runtime_plan(
        self,
        rendering: Rendering,
        applied_files: Sequence[RenderedFile],
        target: renderer_service_pb2.Target,
    ) -> runtime_pb2.RuntimePlan | None: ...
