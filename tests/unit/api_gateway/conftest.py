"""The gateway built around the in-memory orchestrator port, with a tokens file."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from tests.support.memory_orchestrator import MemoryOrchestrator

ADMIN = "admin-token"
USER = "user-token"
OTHER = "other-token"
NET_ID = str(uuid.UUID(int=1))
SUBNET_ID = str(uuid.UUID(int=2))


def write_tokens(path: Path, tokens: dict) -> None:  # noqa: D103
    path.write_text(yaml.safe_dump({"tokens": tokens}))


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.yaml"
    write_tokens(
        path,
        {
            ADMIN: {"project_id": "admin-project", "roles": ["admin", "member"]},
            USER: {"project_id": "project-a", "roles": ["member"]},
            OTHER: {"project_id": "project-b", "roles": ["member"]},
        },
    )
    return path


@pytest.fixture
def orch() -> MemoryOrchestrator:
    fake = MemoryOrchestrator()
    fake.networks.append(
        pb.Network(id=NET_ID, name="vip-net", subnet_ids=[SUBNET_ID], admin_state_up=True)
    )
    fake.subnets.append(
        pb.Subnet(
            id=SUBNET_ID, name="vip-subnet", network_id=NET_ID, cidr="127.0.0.0/8", ip_version=4
        )
    )
    return fake


@pytest.fixture
def client(orch: MemoryOrchestrator, tokens_file: Path) -> TestClient:
    settings = Settings(tokens_file=tokens_file)
    app = bootstrap(settings, orchestrator=orch)
    with TestClient(app, headers={"X-Auth-Token": USER}) as c:
        yield c


@pytest.fixture
def lb(client: TestClient) -> dict:
    r = client.post(
        "/v2/lbaas/loadbalancers",
        json={"loadbalancer": {"name": "lb1", "vip_subnet_id": SUBNET_ID}},
    )
    assert r.status_code == 201, r.text
    return r.json()["loadbalancer"]


@pytest.fixture
def pool(client: TestClient, lb: dict) -> dict:
    body = {
        "pool": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
    }
    r = client.post("/v2/lbaas/pools", json=body)
    assert r.status_code == 201, r.text
    return r.json()["pool"]
