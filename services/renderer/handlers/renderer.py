"""RendererService handlers: decode, call the backend renderer, encode."""

from __future__ import annotations

import time

import grpc
from lbaas.renderer.v1 import renderer_service_pb2 as pb
from lbaas.renderer.v1 import renderer_service_pb2_grpc

from services.common.errors import InvalidInput
from services.renderer.domain.ports import RenderedFile, Renderer, RuntimePlanner
from services.renderer.metrics import RENDER_SECONDS


class RendererServicer(renderer_service_pb2_grpc.RendererServiceServicer):
    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer
        self._render_seconds = RENDER_SECONDS.labels(renderer.describe().backend_type)

    async def Describe(
        self, request: pb.DescribeRequest, context: grpc.aio.ServicerContext
    ) -> pb.DescribeResponse:
        description = self._renderer.describe()
        return pb.DescribeResponse(
            backend_type=description.backend_type,
            renderer_version=description.renderer_version,
            supported_features=list(description.supported_features),
        )

    async def Render(
        self, request: pb.RenderRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderResponse:
        if not request.HasField("loadbalancer"):
            raise InvalidInput("loadbalancer is required", field="loadbalancer")
        if not request.HasField("target"):
            raise InvalidInput("target is required", field="target")
        started = time.perf_counter()
        rendering = self._renderer.render(
            request.loadbalancer, request.target, list(request.tls_materials)
        )
        plan = None
        if request.applied_files and isinstance(self._renderer, RuntimePlanner):
            applied = [RenderedFile(f.path, f.content, f.mode) for f in request.applied_files]
            plan = self._renderer.runtime_plan(rendering, applied, request.target)
        self._render_seconds.observe(time.perf_counter() - started)
        return pb.RenderResponse(
            files=[
                pb.RenderedFile(path=f.path, content=f.content, mode=f.mode)
                for f in rendering.files
            ],
            renderer_version=rendering.renderer_version,
            config_hash=rendering.config_hash,
            runtime_plan=plan,
        )
