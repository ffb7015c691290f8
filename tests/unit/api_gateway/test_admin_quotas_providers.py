"""Quotas and providers through the gateway, against the in-memory admin fake."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lbaas.orchestrator.v1 import admin_pb2

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from tests.support.memory_admin import MemoryAdmin

ADMIN, USER = "admin-token", "user-token"
QUOTA_KEYS = {
    "load_balancer", "loadbalancer", "listener", "pool", "health_monitor", "healthmonitor",
    "member", "l7policy", "l7rule",
}  # fmt: skip


@pytest.fixture
def fake() -> MemoryAdmin:
    return MemoryAdmin()


@pytest.fixture
def api(fake, tokens_file):
    app = bootstrap(Settings(tokens_file=tokens_file), orchestrator=fake, health=fake)
    with TestClient(app, headers={"X-Auth-Token": ADMIN}) as c:
        yield c


def test_quota_update_show_list_reset(api, fake):
    fake.quota_defaults.load_balancer = 5
    r = api.put("/v2/lbaas/quotas/p1", json={"quota": {"listener": 7, "healthmonitor": -1}})
    assert r.status_code == 202, r.text
    q = r.json()["quota"]
    assert set(q) == QUOTA_KEYS | {"project_id", "tenant_id"}
    assert q["project_id"] == q["tenant_id"] == "p1"
    assert q["listener"] == 7 and q["health_monitor"] == q["healthmonitor"] == -1
    assert q["load_balancer"] == q["loadbalancer"] == 5  # the default, filled in
    rpc, req = fake.writes[0]
    assert rpc == "UpdateQuota" and sorted(req.update_mask.paths) == ["health_monitor", "listener"]

    shown = api.get("/v2.0/lbaas/quotas/p1").json()["quota"]
    assert shown == q
    listed = api.get("/v2/lbaas/quotas").json()
    assert listed["quotas_links"] == []
    (only,) = listed["quotas"]
    # A list shows what the project set; null is "the default".
    assert only["listener"] == 7 and only["load_balancer"] is None and only["project_id"] == "p1"
    assert api.get("/v2/lbaas/quotas?project_id=nope").json()["quotas"] == []
    assert api.get("/v2/lbaas/quotas?fields=project_id").json()["quotas"] == [{"project_id": "p1"}]

    # null resets one limit to the default
    r = api.put("/v2/lbaas/quotas/p1", json={"quota": {"listener": None}})
    assert r.status_code == 202 and r.json()["quota"]["listener"] == -1

    r = api.delete("/v2/lbaas/quotas/p1")
    assert r.status_code == 202 and r.content == b""
    assert api.get("/v2/lbaas/quotas").json()["quotas"] == []
    assert api.delete("/v2/lbaas/quotas/p1").status_code == 404


def test_quota_defaults(api, fake):
    fake.quota_defaults.member = 100
    r = api.get("/v2/lbaas/quotas/defaults")
    assert r.status_code == 200
    q = r.json()["quota"]
    assert set(q) == QUOTA_KEYS | {"project_id", "tenant_id"}
    assert q["member"] == 100 and q["pool"] == -1
    assert q["project_id"] == q["tenant_id"] == "defaults"  # as Octavia 19 answers this path
    p = api.get("/v2/lbaas/quotas/p9/default").json()["quota"]
    assert p["project_id"] == "p9" and p["member"] == 100


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"load_balancer": -2}, "load_balancer"),
        ({"listener": 2000000001}, "listener"),
        ({"pool": "3.0"}, "pool"),
        ({"member": True}, "member"),
        ({"l7rule": 1.5}, "l7rule"),
        ({"bogus": 1}, "bogus"),
        ({"load_balancer": 1, "loadbalancer": 2}, "loadbalancer"),
    ],
)
def test_quota_validation_names_the_field(api, fake, body, field):
    r = api.put("/v2/lbaas/quotas/p1", json={"quota": body})
    assert r.status_code == 400, r.text
    assert f"field/attribute {field}." in r.json()["faultstring"]
    assert fake.writes == []


def test_quota_body_envelope(api, fake):
    assert api.put("/v2/lbaas/quotas/p1", json={"listener": 1}).status_code == 400
    assert api.put("/v2/lbaas/quotas/p1", content=b"{").status_code == 400
    assert fake.writes == []


def test_member_lists_only_its_own_quotas(api, fake):
    for project in ("project-a", "project-b"):
        fake.quotas[project] = admin_pb2.Quota(project_id=project, pool=3)
    r = api.get("/v2/lbaas/quotas", headers={"X-Auth-Token": USER})
    assert [q["project_id"] for q in r.json()["quotas"]] == ["project-a"]
    assert len(api.get("/v2/lbaas/quotas").json()["quotas"]) == 2


def test_providers_and_capabilities(api, fake):
    r = api.get("/v2/lbaas/providers")
    assert r.status_code == 200
    assert r.json() == {
        "providers": [{"name": "amphora", "description": "The Octavia Amphora driver."}]
    }
    assert api.get("/v2.0/lbaas/providers?fields=name").json() == {
        "providers": [{"name": "amphora"}]
    }

    caps = api.get("/v2/lbaas/providers/amphora/flavor_capabilities").json()
    assert set(caps) == {"flavor_capabilities"}
    assert {c["name"] for c in caps["flavor_capabilities"]} == {
        "loadbalancer_topology",
        "compute_flavor",
    }
    one = api.get("/v2/lbaas/providers/amphora/flavor_capabilities?name=compute_flavor").json()
    assert [c["name"] for c in one["flavor_capabilities"]] == ["compute_flavor"]

    az = api.get("/v2/lbaas/providers/amphora/availability_zone_capabilities").json()
    assert az == {
        "availability_zone_capabilities": [
            {"name": "compute_zone", "description": "The compute availability zone."}
        ]
    }
    none = api.get("/v2/lbaas/providers/amphora/availability_zone_capabilities?name=x").json()
    assert none == {"availability_zone_capabilities": []}

    r = api.get("/v2/lbaas/providers/nope/flavor_capabilities")
    assert r.status_code == 400 and "nope" in r.json()["faultstring"]


def test_admin_routes_need_a_token(api):
    r = api.get("/v2/lbaas/quotas", headers={"X-Auth-Token": "wrong"})
    assert r.status_code == 401 and set(r.json()) == {"faultcode", "faultstring", "debuginfo"}
