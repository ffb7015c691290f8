"""The operator's amphora API through the gateway, against the in-memory admin fake."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from lbaas.health.v1 import stats_pb2

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from tests.support.memory_admin import MemoryAdmin

ADMIN = "admin-token"
LB_ID = str(uuid.UUID(int=7))
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
AMPHORA_FIELDS = {
    "id", "loadbalancer_id", "compute_id", "lb_network_ip", "vrrp_ip", "ha_ip", "vrrp_port_id",
    "ha_port_id", "cert_expiration", "cert_busy", "role", "status", "vrrp_interface", "vrrp_id",
    "vrrp_priority", "cached_zone", "created_at", "updated_at", "image_id", "compute_flavor",
}  # fmt: skip


@pytest.fixture
def fake() -> MemoryAdmin:
    return MemoryAdmin()


@pytest.fixture
def api(fake, tokens_file):
    app = bootstrap(Settings(tokens_file=tokens_file), orchestrator=fake, health=fake)
    with TestClient(app, headers={"X-Auth-Token": ADMIN}) as c:
        yield c


def test_list_and_show(api, fake):
    amp = fake.add_amphora(LB_ID)
    other = fake.add_amphora(str(uuid.UUID(int=8)), status="ERROR")
    listed = api.get("/v2/octavia/amphorae").json()
    assert set(listed) == {"amphorae", "amphorae_links"}
    assert {a["id"] for a in listed["amphorae"]} == {amp.id, other.id}

    shown = api.get(f"/v2.0/octavia/amphorae/{amp.id}").json()["amphora"]
    assert set(shown) == AMPHORA_FIELDS
    assert shown["loadbalancer_id"] == LB_ID and shown["status"] == "ALLOCATED"
    assert shown["ha_ip"] == "203.0.113.10" and shown["lb_network_ip"] == "127.0.0.1"
    assert shown["role"] == "STANDALONE" and shown["compute_id"] == amp.compute_id
    assert TS.match(shown["created_at"]) and TS.match(shown["cert_expiration"])
    assert shown["updated_at"] is None and shown["cert_busy"] is False
    # As Octavia 19: every amphora has VRRP instance 1 and its own address on the VIP network
    # (here the same network as the agent's).
    assert shown["vrrp_id"] == 1 and shown["vrrp_ip"] == shown["lb_network_ip"]

    by_lb = api.get(f"/v2/octavia/amphorae?loadbalancer_id={LB_ID}").json()["amphorae"]
    assert [a["id"] for a in by_lb] == [amp.id]
    assert fake.calls[-1][1].loadbalancer_id == LB_ID
    errored = api.get("/v2/octavia/amphorae?status=ERROR&fields=id,status").json()
    assert errored["amphorae"] == [{"id": other.id, "status": "ERROR"}]
    assert api.get("/v2/octavia/amphorae?nope=1").status_code == 400
    assert api.get("/v2/octavia/amphorae/missing").status_code == 404


def test_failover_config_delete(api, fake):
    amp = fake.add_amphora(LB_ID)
    path = f"/v2/octavia/amphorae/{amp.id}"
    r = api.put(f"{path}/failover")
    assert r.status_code == 202 and r.content == b""
    assert fake.writes[-1][0] == "FailoverAmphora" and fake.writes[-1][1].id == amp.id
    r = api.put(f"{path}/config")
    assert r.status_code == 202 and r.content == b""
    assert fake.writes[-1][0] == "ConfigureAmphora"
    assert api.delete(path).status_code == 204
    for method, suffix in (("put", "/failover"), ("put", "/config"), ("delete", "")):
        r = getattr(api, method)(f"{path}{suffix}")
        assert r.status_code == 404 and amp.id in r.json()["faultstring"]


def test_stats(api, fake):
    amp = fake.add_amphora(LB_ID)
    listener = str(uuid.UUID(int=9))
    fake.stats_by_amphora[amp.id] = [
        stats_pb2.ListenerStatsEntry(
            listener_id=listener,
            amphora_id=amp.id,
            stats=stats_pb2.Stats(
                active_connections=1, bytes_in=2, bytes_out=3, request_errors=4, total_connections=5
            ),
        )
    ]
    r = api.get(f"/v2/octavia/amphorae/{amp.id}/stats")
    assert r.status_code == 200
    assert r.json() == {
        "amphora_stats": [
            {
                "id": amp.id,
                "loadbalancer_id": LB_ID,
                "listener_id": listener,
                "active_connections": 1,
                "bytes_in": 2,
                "bytes_out": 3,
                "request_errors": 4,
                "total_connections": 5,
            }
        ]
    }
    assert api.get("/v2/octavia/amphorae/missing/stats").status_code == 404


def test_stats_from_a_port_without_amphora_stats_is_503(api, fake):
    amp = fake.add_amphora(LB_ID)
    api.app.state.health = object()
    r = api.get(f"/v2/octavia/amphorae/{amp.id}/stats")
    assert r.status_code == 503 and r.json()["faultcode"] == "Server"
