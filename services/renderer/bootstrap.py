"""Composition root: builds the backend renderer the settings ask for and the servicer around it."""

from __future__ import annotations

from lbaas.renderer.v1 import renderer_service_pb2, renderer_service_pb2_grpc

from services.common.server import ServiceBinding, full_name
from services.renderer.config import Settings
from services.renderer.domain.ports import Renderer
from services.renderer.handlers.renderer import RendererServicer


def build_renderer(settings: Settings) -> Renderer:
    if settings.backend == "haproxy":
        from services.renderer.backends.haproxy.renderer import HaproxyRenderer

        return HaproxyRenderer()
    raise ValueError(f"unknown renderer backend {settings.backend!r}")


def build_bindings(settings: Settings) -> list[ServiceBinding]:
    servicer = RendererServicer(build_renderer(settings))
    return [
        ServiceBinding(
            servicer=servicer,
            add_to_server=renderer_service_pb2_grpc.add_RendererServiceServicer_to_server,
            full_name=full_name(renderer_service_pb2, "RendererService"),
        )
    ]
