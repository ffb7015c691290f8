"""gRPC server factory: health, reflection, interceptors and graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common import metrics, tracing
from services.common.interceptors import DomainErrorInterceptor
from services.common.internal_tls import InternalTLS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceBinding:
    """A servicer, the generated function that registers it, and its full service name."""

    servicer: Any
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    full_name: str


async def start_server(
    bindings: Sequence[ServiceBinding],
    address: str,
    *,
    credentials: grpc.ServerCredentials | None = None,
    interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
    tls: InternalTLS | None = None,
) -> tuple[grpc.aio.Server, int]:
    """Starts an aio server serving bindings plus grpc.health.v1 and reflection.

    tls: the service's identity: mutual TLS with the internal service CA, and only the callers
    the architecture draws (internal_tls.CALLERS). Every service's main passes it; without it
    (and without credentials) the port is plaintext, for in-process tests.

    Returns the server and the port it bound (address may end in ':0').
    """
    if tls is not None:
        credentials = tls.server_credentials()
        interceptors = [tls.interceptor(), *interceptors]
    # Tracing, then metrics outermost (when this process has them): they see the code the
    # caller gets.
    server = grpc.aio.server(
        interceptors=[
            *tracing.grpc_server_interceptors(),
            *metrics.server_interceptors(),
            DomainErrorInterceptor(),
            *interceptors,
        ]
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [b.full_name for b in bindings]
    for binding in bindings:
        binding.add_to_server(binding.servicer, server)
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:
        raise RuntimeError(f"could not bind gRPC server to {address}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port


async def run_until_signalled(
    server: grpc.aio.Server,
    *,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    grace: float = 5.0,
) -> None:
    """Serves until SIGTERM or SIGINT, then stops gracefully and runs on_stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    await server.stop(grace)
    if on_stop is not None:
        await on_stop()


def full_name(descriptor_module: Any, service: str) -> str:
    """The full gRPC service name from a generated *_pb2 module."""
    return descriptor_module.DESCRIPTOR.services_by_name[service].full_name
