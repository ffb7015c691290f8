"""The gRPC server metrics on a real server (port 0): codes as the caller gets them."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lbaas.renderer.v1 import renderer_service_pb2 as pb
from lbaas.renderer.v1 import renderer_service_pb2_grpc
from prometheus_client import REGISTRY

from services.common import metrics
from services.renderer.config import Settings
from services.renderer.server import serve

SERVICE = "lbaas.renderer.v1.RendererService"


def handled(method: str, code: str) -> float:
    labels = {"grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("lbaas_grpc_server_handled_total", labels) or 0.0


def timed(method: str) -> float:
    labels = {"grpc_service": SERVICE, "grpc_method": method}
    return REGISTRY.get_sample_value("lbaas_grpc_server_handling_seconds_count", labels) or 0.0


@pytest.fixture
def serving_metrics(monkeypatch):
    """This process as one that serves metrics (as serve() leaves it), for this test only."""
    monkeypatch.setitem(metrics._served, "port", 0)
    assert metrics.enabled()


def test_calls_are_counted_by_method_and_the_code_the_caller_got(serving_metrics):
    async def scenario() -> None:
        settings = Settings(backend="haproxy", bind_address="127.0.0.1:0", log_level="INFO")
        server, port = await serve(settings)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = renderer_service_pb2_grpc.RendererServiceStub(channel)
                await stub.Describe(pb.DescribeRequest(), timeout=5)
                await stub.Describe(pb.DescribeRequest(), timeout=5)
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.Render(pb.RenderRequest(), timeout=5)  # no load balancer
                assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
                check = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=5
                )
                assert check.status == health_pb2.HealthCheckResponse.SERVING
        finally:
            await server.stop(None)

    before = {
        "describe": handled("Describe", "OK"),
        "render": handled("Render", "INVALID_ARGUMENT"),
        "timed": timed("Describe") + timed("Render"),
    }
    asyncio.run(scenario())
    assert handled("Describe", "OK") - before["describe"] == 2
    assert handled("Render", "INVALID_ARGUMENT") - before["render"] == 1
    assert timed("Describe") + timed("Render") - before["timed"] == 3
    # Probes are not measured.
    labels = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check", "grpc_code": "OK"}
    assert REGISTRY.get_sample_value("lbaas_grpc_server_handled_total", labels) is None
