"""The gRPC interceptors of services/common/tracing.py on a real in-process grpc.aio server and
channel: one CLIENT and one SERVER span per call, the server's the child of the client's through
the call's metadata, the code on both; health checks untraced; nothing with tracing off."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from lbaas.renderer.v1 import renderer_service_pb2 as rpb
from lbaas.renderer.v1 import renderer_service_pb2_grpc as rgrpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from services.common import tracing

DESCRIBE = "/lbaas.renderer.v1.RendererService/Describe"


class _Renderer(rgrpc.RendererServiceServicer):
    fail = False

    async def Describe(self, request, context):  # noqa: N802
        if self.fail:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not now")
        return rpb.DescribeResponse()


async def _calls(renderer: _Renderer) -> None:
    server = grpc.aio.server(interceptors=tracing.grpc_server_interceptors())
    rgrpc.add_RendererServiceServicer_to_server(renderer, server)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", interceptors=tracing.grpc_client_interceptors()
    )
    try:
        await rgrpc.RendererServiceStub(channel).Describe(rpb.DescribeRequest())
        renderer.fail = True
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rgrpc.RendererServiceStub(channel).Describe(rpb.DescribeRequest())
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    finally:
        await channel.close()
        await server.stop(None)


def test_a_call_is_a_client_span_and_its_child_server_span(monkeypatch) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    asyncio.run(_calls(_Renderer()))

    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [DESCRIBE] * 4  # health checks are not traced
    clients = [s for s in spans if s.kind == SpanKind.CLIENT]
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert len(clients) == len(servers) == 2
    for client, server in zip(clients, servers, strict=True):
        assert server.parent.span_id == client.context.span_id
        assert server.context.trace_id == client.context.trace_id
        assert client.attributes["rpc.service"] == "lbaas.renderer.v1.RendererService"
        assert client.attributes["rpc.method"] == "Describe"
    ok, refused = clients
    assert ok.attributes["rpc.grpc.status_code"] == 0 and ok.status.status_code == StatusCode.UNSET
    code = grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert refused.attributes["rpc.grpc.status_code"] == code
    assert refused.status.status_code == StatusCode.ERROR
    assert "not now" in refused.status.description
    assert servers[1].attributes["rpc.grpc.status_code"] == code
    assert servers[1].status.status_code == StatusCode.ERROR


def test_no_interceptors_with_tracing_off(monkeypatch) -> None:
    monkeypatch.setattr(tracing, "_provider", None)
    assert tracing.grpc_server_interceptors() == []
    assert tracing.grpc_client_interceptors() == []
