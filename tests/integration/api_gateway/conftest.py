"""A real gateway (uvicorn, own thread) in front of a real grpc.aio fake orchestrator (port 0)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
import yaml
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from services.api_gateway.adapters.orchestrator import ORCHESTRATOR_RPCS
from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.common.server import ServiceBinding, full_name, start_server
from tests.support.memory_orchestrator import MemoryOrchestrator

ADMIN_TOKEN = "integration-admin"
USER_TOKEN = "integration-user"
NET_ID = str(uuid.UUID(int=11))
SUBNET_ID = str(uuid.UUID(int=12))


def _servicer(memory: MemoryOrchestrator) -> pb_grpc.OrchestratorServiceServicer:
    """The generated servicer with the gateway's RPCs answered by the in-memory orchestrator."""

    def rpc(name: str):  # noqa: ANN202
        async def handler(self, request, context):  # noqa: ANN001, ANN202
            return await memory.call(name, request)

        return handler

    cls = type(
        "FakeOrchestrator",
        (pb_grpc.OrchestratorServiceServicer,),
        {n: rpc(n) for n in ORCHESTRATOR_RPCS},
    )
    return cls()


class _Loop:
    """An asyncio loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro):  # noqa: ANN001, ANN201
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def memory() -> MemoryOrchestrator:
    fake = MemoryOrchestrator()
    fake.networks.append(
        pb.Network(id=NET_ID, name="lb-net", subnet_ids=[SUBNET_ID], admin_state_up=True)
    )
    fake.subnets.append(
        pb.Subnet(
            id=SUBNET_ID, name="lb-subnet", network_id=NET_ID, cidr="127.0.0.0/8", ip_version=4
        )
    )
    return fake


@pytest.fixture(scope="session")
def orchestrator_addr(memory: MemoryOrchestrator) -> Iterator[str]:
    loop = _Loop()
    binding = ServiceBinding(
        _servicer(memory),
        pb_grpc.add_OrchestratorServiceServicer_to_server,
        full_name(pb, "OrchestratorService"),
    )
    server, port = loop.run(start_server([binding], "127.0.0.1:0"))
    yield f"127.0.0.1:{port}"
    loop.run(server.stop(None))
    loop.stop()


@pytest.fixture(scope="session")
def gateway_url(orchestrator_addr: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    run_dir: Path = tmp_path_factory.mktemp("run")
    tokens = {
        ADMIN_TOKEN: {"project_id": "admin-project", "roles": ["admin"]},
        USER_TOKEN: {"project_id": "project-a", "roles": ["member"]},
    }
    (run_dir / "tokens.yaml").write_text(yaml.safe_dump({"tokens": tokens}))
    settings = Settings.from_env(
        {"LBAAS_RUN_DIR": str(run_dir), "LBAAS_ORCHESTRATOR_ADDR": orchestrator_addr}
    )
    app = bootstrap(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "gateway did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
