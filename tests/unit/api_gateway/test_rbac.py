"""RBAC matrix through the app: Octavia's default roles x representative endpoints."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.app import create_app
from services.api_gateway.auth import AuthSettings, TokenStore
from services.api_gateway.policy import FORBIDDEN
from tests.support.memory_admin import MemoryAdmin

NET_ID = str(uuid.UUID(int=1))
SUBNET_ID = str(uuid.UUID(int=2))
PA, PB = "project-a", "project-b"
ROLES = {
    "lb_observer": ["load-balancer_observer"],
    "lb_global_observer": ["load-balancer_global_observer"],
    "lb_member": ["load-balancer_member"],
    "lb_quota_admin": ["load-balancer_quota_admin"],
    "lb_admin": ["load-balancer_admin"],
    "admin": ["admin"],
    "member": ["member"],
    "reader": ["reader"],
    "none": [],
}
SETUP = "setup-admin"


def _tokens() -> dict:
    out = {name: {"project_id": PA, "roles": roles} for name, roles in ROLES.items()}
    out[SETUP] = {"project_id": "admin-project", "roles": ["admin"]}
    out["b_member"] = {"project_id": PB, "roles": ["member"]}
    out["b_global_observer"] = {"project_id": PB, "roles": ["load-balancer_global_observer"]}
    out["b_lb_member"] = {"project_id": PB, "roles": ["load-balancer_member"]}
    return {"tokens": out}


@pytest.fixture
def fake() -> MemoryAdmin:
    f = MemoryAdmin()
    f.networks.append(pb.Network(id=NET_ID, name="n", subnet_ids=[SUBNET_ID], admin_state_up=True))
    f.subnets.append(
        pb.Subnet(id=SUBNET_ID, name="s", network_id=NET_ID, cidr="127.0.0.0/8", ip_version=4)
    )
    f.add_amphora()
    return f


def _app(fake: MemoryAdmin, tmp_path: Path, **auth: str):
    path = tmp_path / "tokens.yaml"
    path.write_text(yaml.safe_dump(_tokens()))
    app = create_app(fake, TokenStore(path), AuthSettings(**auth))
    app.state.health = fake
    return app


@pytest.fixture
def api(fake, tmp_path):
    with TestClient(_app(fake, tmp_path)) as c:
        yield c


def as_(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token}


def make_lb(api: TestClient, project: str = PA) -> dict:
    body = {"loadbalancer": {"name": "lb", "vip_subnet_id": SUBNET_ID, "project_id": project}}
    r = api.post("/v2/lbaas/loadbalancers", json=body, headers=as_(SETUP))
    assert r.status_code == 201, r.text
    return r.json()["loadbalancer"]


def make_profile(api: TestClient) -> dict:
    body = {"flavorprofile": {"name": "fp", "provider_name": "amphora", "flavor_data": "{}"}}
    r = api.post("/v2/lbaas/flavorprofiles", json=body, headers=as_(SETUP))
    assert r.status_code == 201, r.text
    return r.json()["flavorprofile"]


# operation -> (method, path template, body)
OPS = {
    "lb_list": ("GET", "/v2/lbaas/loadbalancers", None),
    "lb_show": ("GET", "/v2/lbaas/loadbalancers/{lb}", None),
    "lb_status": ("GET", "/v2.0/lbaas/loadbalancers/{lb}/status", None),
    "lb_create": (
        "POST",
        "/v2/lbaas/loadbalancers",
        {"loadbalancer": {"name": "x", "vip_subnet_id": SUBNET_ID}},
    ),
    "lb_update": ("PUT", "/v2/lbaas/loadbalancers/{lb}", {"loadbalancer": {"name": "y"}}),
    "lb_delete": ("DELETE", "/v2/lbaas/loadbalancers/{lb}", None),
    "quota_show": ("GET", f"/v2/lbaas/quotas/{PA}", None),
    "quota_update": ("PUT", f"/v2/lbaas/quotas/{PA}", {"quota": {"listener": 3}}),
    "quota_defaults": ("GET", "/v2/lbaas/quotas/defaults", None),
    "amphora_list": ("GET", "/v2/octavia/amphorae", None),
    "failover_status": ("GET", "/v2/octavia/failover_status", None),
    "flavor_list": ("GET", "/v2/lbaas/flavors", None),
    "flavor_create": (
        "POST",
        "/v2/lbaas/flavors",
        {"flavor": {"name": "f", "flavor_profile_id": "{fp}"}},
    ),
    "flavorprofile_list": ("GET", "/v2/lbaas/flavorprofiles", None),
    "provider_list": ("GET", "/v2/lbaas/providers", None),
    "provider_flavor_caps": ("GET", "/v2/lbaas/providers/amphora/flavor_capabilities", None),
}

READ = {"lb_list", "lb_show", "lb_status", "flavor_list", "provider_list"}
WRITE = {"lb_create", "lb_update", "lb_delete"}
QUOTA_READ = {"quota_show", "quota_defaults"}
ADMIN_ONLY = {
    "amphora_list",
    "failover_status",
    "flavor_create",
    "flavorprofile_list",
    "provider_flavor_caps",
}
ALL = set(OPS)

ALLOWED = {
    "lb_observer": READ | QUOTA_READ,
    "lb_global_observer": READ | QUOTA_READ,
    "reader": READ | QUOTA_READ,
    "lb_member": READ | WRITE | QUOTA_READ,
    "member": READ | WRITE | QUOTA_READ,
    "lb_quota_admin": QUOTA_READ | {"quota_update"},
    "lb_admin": ALL,
    "admin": ALL,
    "none": set(),
}


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("who", sorted(ROLES))
def test_rbac_matrix(api, fake, who, op):
    lb = make_lb(api)
    fp = make_profile(api)
    method, path, body = OPS[op]
    path = path.format(lb=lb["id"])
    if body is not None:
        body = json.loads(json.dumps(body).replace("{fp}", fp["id"]))
    before = len(fake.calls)
    r = api.request(method, path, json=body, headers=as_(who))
    if op in ALLOWED[who]:
        assert r.status_code < 300, (who, op, r.status_code, r.text)
    else:
        assert r.status_code == 403, (who, op, r.status_code, r.text)
        assert r.json() == {"faultcode": "Client", "faultstring": FORBIDDEN, "debuginfo": None}
        assert len(fake.calls) == before  # denied before reaching the orchestrator


def test_every_octavia_route_has_a_policy_rule(api):
    """Each route of the routers app.py includes under /v2 maps to an Octavia rule.

    (FastAPI includes routers lazily, so app.routes does not list them; the routers do.)
    """
    from services.api_gateway import app as app_module
    from services.api_gateway.policy import normalize

    table = api.app.state.policy.table
    routers = [
        getattr(app_module, name)
        for name in ("OCTAVIA_ROUTERS", "ADMIN_ROUTERS")
        if hasattr(app_module, name)
    ]
    checked, missing = 0, []
    for module in (m for group in routers for m in group):
        for route in module.router.routes:
            for method in getattr(route, "methods", None) or ():
                checked += 1
                if (method, normalize(route.path)) not in table:
                    missing.append((method, route.path))
    assert checked > 40
    assert missing == []


# ------------------------------------------------------------------ project isolation


def test_project_b_cannot_see_or_change_project_a_lb(api):
    lb = make_lb(api, PA)
    path = f"/v2/lbaas/loadbalancers/{lb['id']}"
    for token in ("b_member", "b_lb_member"):
        assert api.get(path, headers=as_(token)).status_code == 404
        r = api.put(path, json={"loadbalancer": {"name": "z"}}, headers=as_(token))
        assert r.status_code == 404
        assert api.delete(path, headers=as_(token)).status_code == 404
        listed = api.get("/v2/lbaas/loadbalancers", headers=as_(token)).json()["loadbalancers"]
        assert listed == []
    assert api.get(path, headers=as_("member")).status_code == 200


def test_global_observer_reads_other_projects_but_cannot_write(api):
    lb = make_lb(api, PA)
    path = f"/v2/lbaas/loadbalancers/{lb['id']}"
    assert api.get(path, headers=as_("b_global_observer")).status_code == 200
    listed = api.get("/v2/lbaas/loadbalancers", headers=as_("b_global_observer")).json()
    assert [x["id"] for x in listed["loadbalancers"]] == [lb["id"]]
    r = api.put(path, json={"loadbalancer": {"name": "z"}}, headers=as_("b_global_observer"))
    assert r.status_code == 403


def test_list_other_project_by_filter(api):
    a = make_lb(api, PA)
    make_lb(api, PB)
    # Octavia's _auth_get_all: a non-global caller naming another project is refused.
    r = api.get(f"/v2/lbaas/loadbalancers?project_id={PB}", headers=as_("member"))
    assert r.status_code == 403
    r = api.get(f"/v2/lbaas/loadbalancers?project_id={PA}", headers=as_("member"))
    assert [x["id"] for x in r.json()["loadbalancers"]] == [a["id"]]
    r = api.get(f"/v2/lbaas/loadbalancers?project_id={PA}", headers=as_("b_global_observer"))
    assert [x["id"] for x in r.json()["loadbalancers"]] == [a["id"]]
    r = api.get("/v2/lbaas/loadbalancers", headers=as_("admin"))
    assert len(r.json()["loadbalancers"]) == 2


def test_member_cannot_create_for_another_project_but_lb_admin_can(api):
    body = {"loadbalancer": {"vip_subnet_id": SUBNET_ID, "project_id": PB}}
    assert api.post("/v2/lbaas/loadbalancers", json=body, headers=as_("member")).status_code == 403
    r = api.post("/v2/lbaas/loadbalancers", json=body, headers=as_("lb_admin"))
    assert r.status_code == 201 and r.json()["loadbalancer"]["project_id"] == PB


def test_quota_of_another_project(api):
    assert api.get(f"/v2/lbaas/quotas/{PB}", headers=as_("member")).status_code == 403
    assert api.get(f"/v2/lbaas/quotas/{PB}", headers=as_("b_member")).status_code == 200
    assert api.get(f"/v2/lbaas/quotas/{PB}", headers=as_("lb_quota_admin")).status_code == 200
    r = api.put(
        f"/v2/lbaas/quotas/{PB}", json={"quota": {"pool": 1}}, headers=as_("lb_quota_admin")
    )
    assert r.status_code == 202


# ------------------------------------------------------------------ policy file, noauth


def test_policy_file_overrides_a_default(fake, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "os_load-balancer_api:loadbalancer:post": "role:admin",
                "os_load-balancer_api:amphora:get_all": "role:reader",
            }
        )
    )
    with TestClient(_app(fake, tmp_path, policy_file=str(policy))) as api:
        body = {"loadbalancer": {"vip_subnet_id": SUBNET_ID}}
        assert (
            api.post("/v2/lbaas/loadbalancers", json=body, headers=as_("member")).status_code == 403
        )
        assert (
            api.post("/v2/lbaas/loadbalancers", json=body, headers=as_("admin")).status_code == 201
        )
        assert api.get("/v2/octavia/amphorae", headers=as_("reader")).status_code == 200
        assert api.get("/v2/lbaas/loadbalancers", headers=as_("member")).status_code == 200


def test_a_changed_policy_file_takes_effect_while_running(fake, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"os_load-balancer_api:loadbalancer:post": "role:admin"}))
    body = {"loadbalancer": {"vip_subnet_id": SUBNET_ID}}
    with TestClient(_app(fake, tmp_path, policy_file=str(policy))) as api:
        assert (
            api.post("/v2/lbaas/loadbalancers", json=body, headers=as_("member")).status_code == 403
        )
        policy.write_text(yaml.safe_dump({"os_load-balancer_api:loadbalancer:post": "@"}))
        os.utime(policy, (time.time() + 5, time.time() + 5))  # a new mtime, whatever the clock
        api.app.state.policy._next_check = 0.0  # the next request looks at the file
        assert (
            api.post("/v2/lbaas/loadbalancers", json=body, headers=as_("member")).status_code == 201
        )


def test_missing_policy_file_fails_at_start(fake, tmp_path):
    with pytest.raises(FileNotFoundError):
        _app(fake, tmp_path, policy_file=str(tmp_path / "nope.yaml"))


def test_noauth_trusts_headers_and_warns(fake, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="services.api_gateway.auth"):
        app = _app(fake, tmp_path, strategy="noauth")
    assert any("development only" in r.getMessage() for r in caplog.records)
    with TestClient(app) as api:
        h = {"X-Project-Id": PA, "X-Roles": "reader, load-balancer_member"}
        body = {"loadbalancer": {"vip_subnet_id": SUBNET_ID}}
        r = api.post("/v2/lbaas/loadbalancers", json=body, headers=h)
        assert r.status_code == 201 and r.json()["loadbalancer"]["project_id"] == PA
        h = {"X-Project-Id": PA, "X-Roles": "reader"}
        assert api.post("/v2/lbaas/loadbalancers", json=body, headers=h).status_code == 403
        assert api.get("/v2/lbaas/loadbalancers", headers=h).status_code == 200
        # no project: nothing of one's own to act on
        assert api.get("/v2/lbaas/loadbalancers", headers={"X-Roles": "member"}).status_code == 403
        assert api.get("/v2/lbaas/loadbalancers", headers={"X-Roles": "admin"}).status_code == 200
