"""The renderer as a real gRPC server on port 0: Describe, Render, errors, health, reflection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from lbaas.common.v1 import error_pb2
from lbaas.renderer.v1 import renderer_service_pb2 as pb
from lbaas.renderer.v1 import renderer_service_pb2_grpc

from services.common.errors import ERROR_METADATA_KEY
from services.renderer.config import Settings
from services.renderer.domain.hashing import config_hash
from services.renderer.server import serve
from tests.unit.renderer import renderer_samples as samples

SERVICE = "lbaas.renderer.v1.RendererService"


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    settings = Settings.from_env({})
    server, port = asyncio.run_coroutine_threadsafe(serve(settings, "127.0.0.1:0"), loop).result(
        timeout=10
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as chan:
            yield chan
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(None), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_describe(channel: grpc.Channel) -> None:
    reply = renderer_service_pb2_grpc.RendererServiceStub(channel).Describe(
        pb.DescribeRequest(), timeout=5
    )
    assert reply.backend_type == "haproxy"
    assert reply.renderer_version == "haproxy-1.7.0"
    for feature in ("listener.protocol.HTTP", "listener.protocol.TCP", "healthmonitor.type.HTTP",
                    "pool.lb_algorithm.ROUND_ROBIN", "pool.lb_algorithm.SOURCE_IP"):  # fmt: skip
        assert feature in reply.supported_features
    assert "listener.protocol.UDP" not in reply.supported_features


def test_render(channel: grpc.Channel) -> None:
    reply = renderer_service_pb2_grpc.RendererServiceStub(channel).Render(
        pb.RenderRequest(loadbalancer=samples.full_lb(), target=samples.target()), timeout=5
    )
    assert [(f.path, f.mode) for f in reply.files] == [("haproxy.cfg", 0o644)]
    assert f"frontend {samples.HTTP_LISTENER_ID}\n".encode() in reply.files[0].content
    assert reply.renderer_version == "haproxy-1.7.0"
    assert reply.config_hash == config_hash([(f.path, f.content) for f in reply.files])


def _render_error(channel: grpc.Channel, lb, target) -> grpc.RpcError:
    stub = renderer_service_pb2_grpc.RendererServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.Render(pb.RenderRequest(loadbalancer=lb, target=target), timeout=5)
    return err.value


def _detail(err: grpc.RpcError) -> error_pb2.ErrorDetail:
    detail = error_pb2.ErrorDetail()
    for key, value in err.trailing_metadata() or ():
        if key == ERROR_METADATA_KEY:
            detail.ParseFromString(value)
    return detail


def test_bad_value_is_invalid_argument(channel: grpc.Channel) -> None:
    lb = samples.full_lb()
    lb.pools[1].healthmonitor.url_path = "/ok\n    stats socket /tmp/x level admin"
    err = _render_error(channel, lb, samples.target())
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _detail(err).field == f"pool.{samples.HTTP_POOL_ID}.healthmonitor.url_path"


def test_unsupported_protocol_is_failed_precondition(channel: grpc.Channel) -> None:
    lb = samples.full_lb()
    lb.listeners[0].protocol = "UDP"
    err = _render_error(channel, lb, samples.target())
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert err.details() == "feature listener.protocol.UDP not supported by renderer haproxy-1.7.0"


def test_old_haproxy_is_failed_precondition(channel: grpc.Channel) -> None:
    err = _render_error(channel, samples.empty_lb(), samples.target(haproxy_version="1.8.19"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "1.8.19" in err.details()


def test_missing_target_is_invalid_argument(channel: grpc.Channel) -> None:
    stub = renderer_service_pb2_grpc.RendererServiceStub(channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.Render(pb.RenderRequest(loadbalancer=samples.empty_lb()), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_health_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", SERVICE):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
    )
    names = {s.name for reply in replies for s in reply.list_services_response.service}
    assert SERVICE in names
    assert "grpc.health.v1.Health" in names
