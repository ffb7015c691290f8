"""GrpcRenderer against a real grpc.aio RendererService on port 0."""

from __future__ import annotations

import asyncio
import socket

import pytest
from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2, renderer_service_pb2_grpc

from services.common.errors import InvalidInput, Precondition, Unavailable
from services.common.server import ServiceBinding, start_server
from services.orchestrator.adapters.renderer_client import GrpcRenderer
from services.orchestrator.domain.ports import AgentInfo

INFO = AgentInfo("amp-1", "1.0", "haproxy", "2.6.12", "OpenSSL 3.0.2", "", "/run/amp-1", "")


class FakeRenderer(renderer_service_pb2_grpc.RendererServiceServicer):
    """Renders a file that echoes what it was given; fails on request, like a real renderer."""

    async def Describe(self, request, context):
        return renderer_service_pb2.DescribeResponse(
            backend_type="haproxy", renderer_version="7.1", supported_features=["a", "b"]
        )

    async def Render(self, request, context):
        name = request.loadbalancer.meta.name
        if name == "bad-name":
            raise InvalidInput("name fails the haproxy filter", field="loadbalancer.meta.name")
        if name == "needs-http2":
            raise Precondition(
                "HTTP/2 needs haproxy >= 2.8", operator_detail=request.target.haproxy_version
            )
        if name == "slow":
            await asyncio.sleep(5)
        t = request.target
        body = f"{t.amphora_id} {t.agent_api_version} {t.haproxy_version} {t.vip_address}"
        return renderer_service_pb2.RenderResponse(
            files=[
                renderer_service_pb2.RenderedFile(
                    path="haproxy.cfg", content=body.encode(), mode=0o640
                ),
                renderer_service_pb2.RenderedFile(path="certs/x.pem", content=b"pem", mode=0o600),
            ],
            renderer_version="7.1",
            config_hash="abc123",
        )


async def _serve():
    return await start_server(
        [
            ServiceBinding(
                FakeRenderer(),
                renderer_service_pb2_grpc.add_RendererServiceServicer_to_server,
                "lbaas.renderer.v1.RendererService",
            )
        ],
        "127.0.0.1:0",
    )


def _lb(name: str) -> graph_pb2.LoadBalancer:
    return graph_pb2.LoadBalancer(meta=graph_pb2.ResourceMeta(id="lb-1", name=name))


def test_describe_and_render():
    async def scenario():
        server, port = await _serve()
        renderer = GrpcRenderer(f"127.0.0.1:{port}", timeout=5)
        try:
            assert await renderer.describe() == ("haproxy", "7.1", ["a", "b"])
            rendered = await renderer.render(_lb("ok"), INFO, "127.30.0.9")
            assert rendered.files == [
                ("haproxy.cfg", b"amp-1 1.0 2.6.12 127.30.0.9", 0o640),
                ("certs/x.pem", b"pem", 0o600),
            ]
            assert (rendered.config_hash, rendered.renderer_version) == ("abc123", "7.1")
        finally:
            await renderer.close()
            await server.stop(None)

    asyncio.run(scenario())


def test_render_errors_become_domain_errors():
    async def scenario():
        server, port = await _serve()
        renderer = GrpcRenderer(f"127.0.0.1:{port}", timeout=0.5)
        try:
            with pytest.raises(InvalidInput) as invalid:
                await renderer.render(_lb("bad-name"), INFO, "127.30.0.9")
            assert invalid.value.field == "loadbalancer.meta.name"
            with pytest.raises(Precondition) as precondition:
                await renderer.render(_lb("needs-http2"), INFO, "127.30.0.9")
            assert "HTTP/2" in precondition.value.user_message
            assert precondition.value.operator_detail == "2.6.12"
            with pytest.raises(Unavailable):  # deadline exceeded
                await renderer.render(_lb("slow"), INFO, "127.30.0.9")
        finally:
            await renderer.close()
            await server.stop(None)

    asyncio.run(scenario())


def test_unreachable_renderer_is_unavailable():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def scenario():
        renderer = GrpcRenderer(f"127.0.0.1:{port}", timeout=2)
        try:
            with pytest.raises(Unavailable) as err:
                await renderer.describe()
            assert f"127.0.0.1:{port}" in err.value.operator_detail
        finally:
            await renderer.close()

    asyncio.run(scenario())
