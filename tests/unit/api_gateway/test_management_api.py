"""The management API through the gateway, against the in-memory admin fake: the JSON shapes,
the 400 naming `lines`, the 409 for an agent of the release before, admin-only policy, and
the OpenAPI description of every route."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.orchestrator.domain.ports import AgentLacksRpc
from tests.support.memory_admin import MemoryAdmin

ADMIN, USER = "admin-token", "user-token"
NET_ID, SUBNET_ID = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))


@pytest.fixture
def fake() -> MemoryAdmin:
    f = MemoryAdmin()
    f.networks.append(pb.Network(id=NET_ID, name="n", subnet_ids=[SUBNET_ID], admin_state_up=True))
    f.subnets.append(
        pb.Subnet(id=SUBNET_ID, name="s", network_id=NET_ID, cidr="127.0.0.0/8", ip_version=4)
    )
    return f


@pytest.fixture
def api(fake, tokens_file):
    app = bootstrap(Settings(tokens_file=tokens_file), orchestrator=fake, health=fake)
    with TestClient(app, headers={"X-Auth-Token": ADMIN}) as c:
        yield c


@pytest.fixture
def lb(api, fake) -> dict:
    body = {"loadbalancer": {"name": "lb", "vip_subnet_id": SUBNET_ID}}
    made = api.post("/v2/lbaas/loadbalancers", json=body, headers={"X-Auth-Token": USER})
    assert made.status_code == 201, made.text
    return made.json()["loadbalancer"]


def test_config_preview_and_resync(api, fake, lb):
    path = f"/v2/octavia/loadbalancers/{lb['id']}"
    r = api.get(f"{path}/config_preview")
    assert r.status_code == 409 and "no amphora" in r.json()["faultstring"]
    amp = fake.add_amphora(lb["id"])
    preview = api.get(f"/v2.0/octavia/loadbalancers/{lb['id']}/config_preview").json()
    (one,) = preview["config_preview"]["amphorae"]
    assert preview["config_preview"]["differs"] is False and one["amphora_id"] == amp.id
    assert one["files"] == [
        {
            "path": "haproxy.cfg",
            "mode": "0644",
            "content": "global\n",
            "redacted": False,
            "sha256": "0" * 64,
        }
    ]
    r = api.put(f"{path}/config")
    assert r.status_code == 202 and r.content == b""
    assert fake.writes[-1][0] == "ResyncLoadBalancer"
    assert fake.writes[-1][1].scope.all_projects
    assert api.get(f"/v2/octavia/loadbalancers/{uuid.uuid4()}/config_preview").status_code == 404
    assert api.put(f"{path}/config", json={"x": 1}).status_code == 400  # takes no body


def test_diagnostics_and_logs(api, fake, lb):
    amp = fake.add_amphora(lb["id"])
    found = api.get(f"/v2/octavia/amphorae/{amp.id}/diagnostics").json()["amphora_diagnostics"]
    assert found["amphora_id"] == amp.id and found["loadbalancer_id"] == lb["id"]
    assert found["haproxy_version"] == "2.6.12" and found["nginx_version"] is None
    assert "diagnostics" in found["capabilities"] and found["engine_running"] is True
    assert found["last_reload"] is None and found["processes"] == []

    logs = api.get(f"/v2/octavia/amphorae/{amp.id}/logs?lines=5").json()["amphora_logs"]
    assert logs["logs"] == [
        {"source": "agent", "path": "agent.log", "lines": ["started"], "truncated": False,
         "found": True}
    ]  # fmt: skip
    assert fake.calls[-1][1].lines == 5
    api.get(f"/v2/octavia/amphorae/{amp.id}/logs")
    assert fake.calls[-1][1].lines == 100  # the default
    r = api.get(f"/v2/octavia/amphorae/{amp.id}/logs?lines=1001")
    assert (
        r.status_code == 400 and r.json()["faultstring"] == "lines must be at most 1000, not 1001."
    )
    for bad in ("0", "-1", "x", str(2**40)):
        r = api.get(f"/v2/octavia/amphorae/{amp.id}/logs?lines={bad}")
        assert r.status_code == 400, (bad, r.text)
        assert "Invalid input for field/attribute lines." in r.json()["faultstring"], bad
    assert api.get(f"/v2/octavia/amphorae/{uuid.uuid4()}/diagnostics").status_code == 404


def test_an_agent_of_the_release_before_is_a_409_that_says_so(api, fake, lb):
    amp = fake.add_amphora(lb["id"])
    lacking = AgentLacksRpc(
        f"The agent of amphora {amp.id} cannot report diagnostics: it is of a release older "
        "than the management API.",
        operator_detail="GetDiagnostics is UNIMPLEMENTED",
    )
    fake.fail_next = lacking
    r = api.get(f"/v2/octavia/amphorae/{amp.id}/diagnostics")
    assert r.status_code == 409
    assert r.json() == {
        "faultcode": "Client",
        "faultstring": lacking.user_message,
        "debuginfo": None,
    }
    assert "UNIMPLEMENTED" not in r.text  # the operator detail stays in the logs


def test_only_administrators_may(api, fake, lb):
    amp = fake.add_amphora(lb["id"])
    member = {"X-Auth-Token": USER}  # the load balancer's own project, role member
    before = len(fake.calls)
    for method, path in (
        ("GET", f"/v2/octavia/loadbalancers/{lb['id']}/config_preview"),
        ("PUT", f"/v2/octavia/loadbalancers/{lb['id']}/config"),
        ("GET", f"/v2/octavia/amphorae/{amp.id}/diagnostics"),
        ("GET", f"/v2/octavia/amphorae/{amp.id}/logs?lines=3"),
    ):
        r = api.request(method, path, headers=member)
        assert r.status_code == 403, (method, path, r.text)
    assert len(fake.calls) == before


MANAGEMENT_ROUTES = {
    ("get", "/octavia/loadbalancers/{lb_id}/config_preview"): ("200", "ConfigPreviewRoot"),
    ("put", "/octavia/loadbalancers/{lb_id}/config"): ("202", None),
    ("get", "/octavia/amphorae/{amphora_id}/diagnostics"): ("200", "AmphoraDiagnosticsRoot"),
    ("get", "/octavia/amphorae/{amphora_id}/logs"): ("200", "AmphoraLogsRoot"),
}


def test_every_route_is_in_the_openapi_document(api):
    spec = api.get("/openapi.json").json()
    for (method, path), (success, model) in MANAGEMENT_ROUTES.items():
        for prefix in ("/v2", "/v2.0"):
            op = spec["paths"][prefix + path][method]
            responses = op["responses"]
            content = responses[success].get("content")
            if model is None:
                assert not content
            else:
                assert content["application/json"]["schema"]["$ref"].endswith(model)
            for code in ("401", "403", "404", "409", "500", "503"):
                ref = responses[code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/Fault"), (path, code)
    logs = spec["paths"]["/v2/octavia/amphorae/{amphora_id}/logs"]["get"]
    (lines,) = [p for p in logs["parameters"] if p["name"] == "lines"]
    assert lines["in"] == "query" and lines["schema"]["minimum"] == 1
