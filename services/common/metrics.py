"""Prometheus metrics: one /metrics port per process, and the gRPC metrics every service shares.

Each entry point calls `serve(service)` once, before it builds its servers and channels. It reads
LBAAS_METRICS_ADDR (`host:port`; unset, empty, `0` or `off`: no metrics; the launcher gives every
process and replica an address of its own, the images `0.0.0.0:9100`) and serves the default
registry with prometheus_client's own HTTP server on a daemon thread. It is a port apart from the
service's own (the gateway's REST port is reachable by tenants; the gRPC ports are mutual TLS) and
is plain HTTP: bind it to loopback or to a network only the scraper reaches (deploy/kubernetes
admits it from Prometheus alone).

Until `serve` ran, nothing here measures per request: the gRPC server interceptor is installed
(start_server asks `server_interceptors()`) and the gateway's request middleware wraps the app
only in a process that serves metrics, so in-process tests and LBAAS_METRICS_ADDR=0 pay nothing
on the hot paths. Metrics of rarer events (reconcile passes, applies, renders) are counted
always; they cost a lock and an addition each. Names and labels: docs/operations.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc
import prometheus_client
from prometheus_client import Counter, Gauge, Histogram

log = logging.getLogger(__name__)

OFF = ("", "0", "off", "none")

# gRPC services whose calls are not measured: probes and tooling (as tracing leaves them out).
_UNMEASURED = ("/grpc.health.v1.Health/", "/grpc.reflection.")

# Buckets (seconds) for calls answered from memory or one database transaction.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SERVICE_INFO = Gauge(
    "lbaas_service_info",
    "Always 1: which service this process is (the label service), for joins in queries.",
    ["service"],
)
GRPC_SERVER_HANDLED = Counter(
    "lbaas_grpc_server_handled_total",
    "gRPC calls this process served, by service, method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_SERVER_SECONDS = Histogram(
    "lbaas_grpc_server_handling_seconds",
    "Time this process took to answer a gRPC call, by service and method.",
    ["grpc_service", "grpc_method"],
    buckets=FAST_BUCKETS,
)
GRPC_CLIENT_HANDLED = Counter(
    "lbaas_grpc_client_handled_total",
    "gRPC calls this process made and their status code (the gateway's calls to the orchestrator).",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_CLIENT_SECONDS = Histogram(
    "lbaas_grpc_client_handling_seconds",
    "Time from sending a gRPC call to its answer, as the caller saw it.",
    ["grpc_service", "grpc_method"],
    buckets=FAST_BUCKETS,
)

_served: dict[str, Any] = {}  # what serve() started: service, address, port, the HTTP server


def enabled() -> bool:
    """True once this process serves metrics (serve() ran with an address)."""
    return bool(_served)


def address(env: Mapping[str, str] | None = None) -> str | None:
    """Where this process serves /metrics (LBAAS_METRICS_ADDR); None when off. Off by default:
    a service started by hand, or by a test, binds no port it was not given."""
    env = os.environ if env is None else env
    raw = env.get("LBAAS_METRICS_ADDR", "").strip()
    return None if raw.lower() in OFF else raw


def split_address(value: str) -> tuple[str, int]:
    """("host", port) from `host:port`, `[v6]:port` or `:port` (every interface)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"LBAAS_METRICS_ADDR: expected host:port, not {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def serve(service: str, env: Mapping[str, str] | None = None) -> int | None:
    """Serves /metrics for this process as the environment says; returns the bound port, or
    None when metrics are off. A second call does nothing. A port that cannot be bound stops
    the service at its start, as its own port would (its supervisor starts it again)."""
    if _served:
        return _served["port"]
    wanted = address(env)
    if wanted is None:
        log.info("metrics off (LBAAS_METRICS_ADDR)")
        return None
    host, port = split_address(wanted)
    try:
        httpd, _thread = prometheus_client.start_http_server(port, addr=host)
    except OSError as err:
        raise RuntimeError(f"could not serve metrics at {wanted}: {err}") from err
    bound = httpd.server_port
    _served.update(service=service, address=wanted, port=bound, httpd=httpd)
    SERVICE_INFO.labels(service).set(1)
    log.info("metrics at http://%s:%d/metrics", host, bound)
    return bound


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """The interceptors start_server puts first (outermost): none until serve() ran."""
    return [GrpcServerMetrics()] if enabled() else []


def _split_method(full_method: str) -> tuple[str, str]:
    """("lbaas.orchestrator.v1.OrchestratorService", "GetLoadBalancer") from the method path."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service, method


def _code_name(code: Any) -> str:
    return code.name if isinstance(code, grpc.StatusCode) else "OK"


class GrpcServerMetrics(grpc.aio.ServerInterceptor):
    """Counts and times every unary call by method and status code. Outermost, so it sees the
    code the caller gets: the domain error interceptor's mapping, the caller policy's refusals.
    Label children are kept per method and code (a dictionary hit instead of prometheus_client's
    locked lookup on every call)."""

    def __init__(self) -> None:
        self._timers: dict[str, tuple[str, str, Any]] = {}
        self._counters: dict[tuple[str, str], Any] = {}

    def _counter(self, method: str, code: str) -> Any:
        child = self._counters.get((method, code))
        if child is None:
            service, name = _split_method(method)
            child = GRPC_SERVER_HANDLED.labels(service, name, code)
            self._counters[(method, code)] = child
        return child

    def _timer(self, method: str) -> Any:
        entry = self._timers.get(method)
        if entry is None:
            service, name = _split_method(method)
            entry = (service, name, GRPC_SERVER_SECONDS.labels(service, name))
            self._timers[method] = entry
        return entry[2]

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or method.startswith(_UNMEASURED):
            return handler
        inner = handler.unary_unary
        timer = self._timer(method)

        async def measured(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            code = "UNKNOWN"
            try:
                response = await inner(request, context)
                code = _code_name(context.code())
                return response
            except grpc.aio.AbortError:
                code = _code_name(context.code())
                raise
            except BaseException as err:  # cancelled by the client, or a handler's bug
                code = "CANCELLED" if isinstance(err, asyncio.CancelledError) else "UNKNOWN"
                raise
            finally:
                timer.observe(time.perf_counter() - started)
                self._counter(method, code).inc()

        return grpc.unary_unary_rpc_method_handler(
            measured,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class ClientCalls:
    """Client-side counts and times of one gRPC service's calls, for a client that has one place
    where every call goes (the gateway's orchestrator port). Cheaper than a client interceptor,
    which grpc.aio makes a call object of its own for."""

    def __init__(self, service: str):
        self._service = service
        self._timers: dict[str, Any] = {}
        self._counters: dict[tuple[str, str], Any] = {}

    def record(self, method: str, code: grpc.StatusCode | None, seconds: float) -> None:
        timer = self._timers.get(method)
        if timer is None:
            timer = self._timers[method] = GRPC_CLIENT_SECONDS.labels(self._service, method)
        timer.observe(seconds)
        name = code.name if code is not None else "OK"
        counter = self._counters.get((method, name))
        if counter is None:
            counter = GRPC_CLIENT_HANDLED.labels(self._service, method, name)
            self._counters[(method, name)] = counter
        counter.inc()
