"""Composition root: the local compute driver and the servicer around it."""

from __future__ import annotations

import sys

from lbaas.compute.v1 import compute_service_pb2, compute_service_pb2_grpc

from services.common.server import ServiceBinding, full_name
from services.orchestrator.adapters.compute_local import LocalComputeDriver
from services.orchestrator.compute_host.config import Settings
from services.orchestrator.compute_host.handlers.compute import ComputeServicer


def build_driver(settings: Settings, python: str = sys.executable) -> LocalComputeDriver:
    """The `local` driver, with no settings of the workers': no master heartbeat keys, no
    health receivers, no interval (each create brings them), agents listening where the
    workers reach them. python runs `-m amphora_agent` (tests: a stand-in)."""
    return LocalComputeDriver(
        settings.run_dir,
        (),
        None,
        0.0,
        python,
        agent_host=settings.agent_listen_host,
        advertised_host=settings.agent_host,
        agent_log_args=settings.log_offload.agent_args(),
    )


def build_bindings(
    settings: Settings, driver: LocalComputeDriver | None = None
) -> list[ServiceBinding]:
    servicer = ComputeServicer(driver or build_driver(settings))
    return [
        ServiceBinding(
            servicer=servicer,
            add_to_server=compute_service_pb2_grpc.add_ComputeServiceServicer_to_server,
            full_name=full_name(compute_service_pb2, "ComputeService"),
        )
    ]
