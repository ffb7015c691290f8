"""Operator commands against a running orchestrator:
python -m services.orchestrator.manage refresh-configs [--loadbalancer ID] [--force]."""

from __future__ import annotations

import argparse
import json
import os
import sys

import grpc
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from services.common.internal_tls import OPERATOR, ORCHESTRATOR, InternalTLS, blocking_channel


def refresh_configs(address: str, loadbalancer_id: str, force: bool, timeout: float) -> int:
    """Runs a minor update (RefreshConfigs); prints its report as JSON. Exit status 1 when a
    load balancer failed, 2 when the roll stopped early."""
    operator = InternalTLS.from_env(OPERATOR)
    with blocking_channel(address, ORCHESTRATOR, operator) as channel:
        resp = pb_grpc.OrchestratorServiceStub(channel).RefreshConfigs(
            pb.RefreshConfigsRequest(loadbalancer_id=loadbalancer_id, force=force),
            timeout=timeout,
            wait_for_ready=True,
        )
    print(
        json.dumps(
            {
                "rendered": resp.rendered,
                "pushed": resp.pushed,
                "unchanged": resp.unchanged,
                "skipped": resp.skipped,
                "failures": [
                    {"loadbalancer_id": f.loadbalancer_id, "reason": f.reason}
                    for f in resp.failures
                ],
                "stopped": resp.stopped,
            },
            indent=2,
        )
    )
    return 2 if resp.stopped else 1 if resp.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.orchestrator.manage")
    parser.add_argument(
        "--orchestrator",
        default=os.environ.get("LBAAS_ORCHESTRATOR_ADDR", "127.0.0.1:9890"),
        help="orchestrator gRPC address (default: $LBAAS_ORCHESTRATOR_ADDR)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser(
        "refresh-configs",
        help="re-render load balancers and push the configs whose content changed",
    )
    refresh.add_argument("--loadbalancer", default="", help="only this load balancer")
    refresh.add_argument("--force", action="store_true", help="push even unchanged configs")
    refresh.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    args = parser.parse_args(argv)
    try:
        return refresh_configs(args.orchestrator, args.loadbalancer, args.force, args.timeout)
    except grpc.RpcError as err:
        print(f"refresh-configs failed: {err.code().name}: {err.details()}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
