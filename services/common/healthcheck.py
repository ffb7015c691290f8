"""A grpc.health.v1 probe over the internal mutual TLS, for container health checks and
Kubernetes exec probes (their built-in gRPC probe cannot present a client certificate):

    python -m services.common.healthcheck ADDRESS SERVER [--as IDENTITY] [--timeout S]

SERVER is the identity of the service probed (its certificate's name: orchestrator,
orchestrator-worker, renderer, health, compute); IDENTITY the probing certificate's (default the
same: a container probes itself with its own certificate). Certificates are read from
LBAAS_INTERNAL_TLS_DIR ($LBAAS_RUN_DIR/internal-tls). Exit status 0 when SERVING, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.internal_tls import InternalTLS, blocking_channel


def probe(address: str, server: str, identity: str, timeout: float, service: str = "") -> bool:
    with blocking_channel(address, server, InternalTLS.from_env(identity)) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as err:
            print(f"{address}: {err.code().name}: {err.details()}", file=sys.stderr)
            return False
    return response.status == health_pb2.HealthCheckResponse.SERVING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.common.healthcheck")
    parser.add_argument("address")
    parser.add_argument("server", help="the probed service's identity")
    parser.add_argument("--as", dest="identity", default="", help="the prober's identity")
    parser.add_argument("--service", default="", help="a grpc.health service name ('' = server)")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    ok = probe(args.address, args.server, args.identity or args.server, args.timeout, args.service)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
