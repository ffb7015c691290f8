"""Token auth, scopes, error mapping and Octavia fault bodies."""

from __future__ import annotations

import os
import uuid

import pytest
import yaml

from services.common.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    Precondition,
    QuotaExceeded,
    Unavailable,
)

SUBNET = str(uuid.UUID(int=2))
LB_BODY = {"loadbalancer": {"vip_subnet_id": SUBNET}}


@pytest.mark.parametrize("headers", [{"X-Auth-Token": ""}, {"X-Auth-Token": "wrong"}])
def test_missing_or_unknown_token_is_401(client, orch, headers):
    r = client.post("/v2/lbaas/loadbalancers", json=LB_BODY, headers=headers)
    assert r.status_code == 401
    assert r.json()["faultcode"] == "Client" and "authentication" in r.json()["faultstring"]
    assert orch.calls == []


def test_no_token_header_at_all_is_401(client):
    del client.headers["X-Auth-Token"]
    assert client.get("/v2/lbaas/loadbalancers").status_code == 401


def test_tokens_file_is_reloaded_when_it_changes(client, tokens_file):
    assert client.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "new"}).status_code == 401
    tokens_file.write_text(
        yaml.safe_dump({"tokens": {"new": {"project_id": "p", "roles": ["member"]}}})
    )
    st = os.stat(tokens_file)
    os.utime(tokens_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert client.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "new"}).status_code == 200
    assert client.get("/v2/lbaas/loadbalancers").status_code == 401


def test_admin_scope_and_project_override(client, orch):
    body = {"loadbalancer": {"vip_subnet_id": SUBNET, "project_id": "project-z"}}
    r = client.post("/v2/lbaas/loadbalancers", json=body, headers={"X-Auth-Token": "admin-token"})
    assert r.status_code == 201 and r.json()["loadbalancer"]["project_id"] == "project-z"
    sent = orch.writes[-1][1]
    assert sent.scope.all_projects and sent.loadbalancer.meta.project_id == "project-z"


def test_member_cannot_create_in_another_project(client, orch):
    body = {"loadbalancer": {"vip_subnet_id": SUBNET, "project_id": "project-z"}}
    assert client.post("/v2/lbaas/loadbalancers", json=body).status_code == 403
    assert orch.writes == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("bad vip", field="vip_subnet_id"), 400),
        (NotFound("Load Balancer x not found."), 404),
        (Conflict("port in use"), 409),
        (Precondition("immutable"), 409),
        (QuotaExceeded("quota"), 403),
        (Unavailable("down"), 503),
        (DomainError("boom"), 500),
    ],
)
def test_orchestrator_errors_map_to_http(client, orch, error, status):
    orch.fail_next = error
    r = client.post("/v2/lbaas/loadbalancers", json=LB_BODY)
    assert r.status_code == status
    body = r.json()
    assert (
        body["faultcode"] == ("Server" if status >= 500 else "Client") and body["debuginfo"] is None
    )
    if status != 500:
        assert error.user_message in body["faultstring"]
        if status == 400 and error.field:
            assert error.field in body["faultstring"]
    else:
        assert "boom" not in body["faultstring"]


def test_unknown_path_and_method(client):
    r = client.get("/v2/lbaas/nothing")
    assert r.status_code == 404 and r.json()["faultcode"] == "Client"
    r = client.patch("/v2/lbaas/loadbalancers")
    assert r.status_code == 405 and "faultstring" in r.json()


def test_version_document_needs_no_token(client):
    del client.headers["X-Auth-Token"]
    r = client.get("/")
    assert r.status_code == 200
    versions = r.json()["versions"]
    assert versions[0]["id"] == "v2.0" and versions[0]["status"] == "SUPPORTED"
    current = [v for v in versions if v["status"] == "CURRENT"]
    assert len(current) == 1 and current[0]["links"] == [
        {"href": "http://testserver/v2", "rel": "self"}
    ]
    assert all({"id", "status", "updated", "links"} <= set(v) for v in versions)


def test_networks_view(client):
    nets = client.get("/v2.0/networks").json()["networks"]
    assert (
        nets[0]["name"] == "vip-net" and nets[0]["subnets"] == [SUBNET] and "tenant_id" in nets[0]
    )
    subnet = client.get(f"/v2.0/subnets/{SUBNET}").json()["subnet"]
    assert (
        subnet["cidr"] == "127.0.0.0/8"
        and subnet["ip_version"] == 4
        and subnet["gateway_ip"] is None
    )
    assert client.get("/v2.0/subnets?name=vip-subnet").json()["subnets"][0]["id"] == SUBNET
    assert client.get("/v2.0/subnets?name=a&name=vip-subnet").json()["subnets"][0]["id"] == SUBNET
    assert client.get("/v2.0/subnets?name=nope").json()["subnets"] == []
    r = client.get(f"/v2.0/networks/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json()["NeutronError"]["type"] == "NotFound"
    assert client.get("/v2.0/ports").json() == {"ports": []}
    del client.headers["X-Auth-Token"]
    assert client.get("/v2.0/networks").status_code == 401
