"""The Keystone-shaped read-only projects the openstack CLI looks up at the gateway's endpoint
(`auth_type: admin_token`): GET /projects/{id} and GET /projects?name=, also under /v3."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from tests.support.memory_orchestrator import MemoryOrchestrator
from tests.unit.api_gateway.conftest import write_tokens

ADMIN_P = "db1db59eeb50574ab25e326c7c5a6741"
DEMO_P = "aa0c48c6187c50b8b5aef636a1d6d7ac"


@pytest.fixture
def api(tmp_path: Path) -> TestClient:
    path = tmp_path / "tokens.yaml"
    write_tokens(
        path,
        {
            "adm": {"project_id": ADMIN_P, "project_name": "admin", "roles": ["admin"]},
            "dem": {"project_id": DEMO_P, "project_name": "demo", "roles": ["member"]},
            "old": {"project_id": "p-unnamed", "roles": ["member"]},
        },
    )
    app = bootstrap(Settings(tokens_file=path), orchestrator=MemoryOrchestrator())
    with TestClient(app, headers={"X-Auth-Token": "adm"}) as c:
        yield c


@pytest.mark.parametrize("prefix", ["", "/v3"])
def test_show_by_id_and_find_by_name_like_keystone(api: TestClient, prefix: str) -> None:
    r = api.get(f"{prefix}/projects/{DEMO_P}")
    assert r.status_code == 200, r.text
    project = r.json()["project"]
    assert (project["id"], project["name"], project["domain_id"]) == (DEMO_P, "demo", "default")
    assert project["enabled"] is True and project["links"]["self"].endswith(f"/projects/{DEMO_P}")

    # A name is not an id: Keystone 404s it, and the CLI then lists by name.
    r = api.get(f"{prefix}/projects/demo")
    assert r.status_code == 404
    assert r.json()["error"] == {
        "code": 404,
        "message": "Could not find project: demo.",
        "title": "Not Found",
    }
    r = api.get(f"{prefix}/projects", params={"name": "demo"})
    assert r.status_code == 200
    body = r.json()
    assert [p["id"] for p in body["projects"]] == [DEMO_P]
    assert set(body["links"]) == {"self", "previous", "next"}
    assert api.get(f"{prefix}/projects", params={"name": "nope"}).json()["projects"] == []


def test_a_project_without_a_name_is_named_by_its_id(api: TestClient) -> None:
    r = api.get("/projects", params={"name": "p-unnamed"})
    assert [p["id"] for p in r.json()["projects"]] == ["p-unnamed"]
    assert len(api.get("/v3/projects").json()["projects"]) == 3


def test_authenticated_and_scoped(api: TestClient) -> None:
    assert api.get("/v3/projects", headers={"X-Auth-Token": "bogus"}).status_code == 401
    assert api.get("/v3/projects", headers={"X-Auth-Token": ""}).status_code == 401
    member = {"X-Auth-Token": "dem"}
    assert [p["id"] for p in api.get("/v3/projects", headers=member).json()["projects"]] == [DEMO_P]
    assert api.get(f"/v3/projects/{DEMO_P}", headers=member).status_code == 200
    r = api.get(f"/v3/projects/{ADMIN_P}", headers=member)
    assert r.status_code == 403 and r.json()["error"]["code"] == 403
