"""Composition root: builds the backend renderer the settings ask for and the servicer around it."""

from __future__ import annotations

from lbaas.renderer.v1 import renderer_service_pb2, renderer_service_pb2_grpc

from services.common.server import ServiceBinding, full_name
from services.renderer.config import Settings
from services.renderer.domain.ports import Renderer
from services.renderer.handlers.renderer import RendererServicer


def build_renderer(settings: Settings) -> Renderer:
    """Every backend renderer takes the same two knobs: a replacement template directory and the
    renderer version it is known by (empty: packaged templates and version)."""
    options = {"template_dir": settings.template_dir, "version": settings.version_override}
    if settings.backend == "haproxy":
        from services.renderer.backends.haproxy.renderer import HaproxyRenderer

        return HaproxyRenderer(**options)
    if settings.backend == "nginx":
        from services.renderer.backends.nginx.renderer import NginxRenderer

        return NginxRenderer(**options)
    if settings.backend == "f5-as3":
        from services.renderer.backends.f5_as3.renderer import As3Renderer

        return As3Renderer(**options)
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
