"""Flavors, flavor profiles, availability zones and their profiles through the gateway."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from tests.support.memory_admin import MemoryAdmin

ADMIN = "admin-token"
TOPOLOGY = json.dumps({"loadbalancer_topology": "SINGLE"})


@pytest.fixture
def fake() -> MemoryAdmin:
    return MemoryAdmin()


@pytest.fixture
def api(fake, tokens_file):
    app = bootstrap(Settings(tokens_file=tokens_file), orchestrator=fake)
    with TestClient(app, headers={"X-Auth-Token": ADMIN}) as c:
        yield c


@pytest.fixture
def profile(api) -> dict:
    body = {
        "flavorprofile": {"name": "single", "provider_name": "amphora", "flavor_data": TOPOLOGY}
    }
    r = api.post("/v2/lbaas/flavorprofiles", json=body)
    assert r.status_code == 201, r.text
    return r.json()["flavorprofile"]


@pytest.fixture
def az_profile(api) -> dict:
    body = {
        "availability_zone_profile": {
            "name": "zp",
            "provider_name": "amphora",
            "availability_zone_data": json.dumps({"compute_zone": "az1"}),
        }
    }
    r = api.post("/v2/lbaas/availabilityzoneprofiles", json=body)
    assert r.status_code == 201, r.text
    return r.json()["availability_zone_profile"]


def test_flavor_profile_crud(api, fake, profile):
    assert set(profile) == {"id", "name", "provider_name", "flavor_data"}
    assert profile["flavor_data"] == TOPOLOGY and profile["provider_name"] == "amphora"
    path = f"/v2/lbaas/flavorprofiles/{profile['id']}"
    assert api.get(path).json() == {"flavorprofile": profile}
    listed = api.get("/v2.0/lbaas/flavorprofiles").json()
    assert listed == {"flavorprofiles": [profile], "flavorprofile_links": []}
    assert api.get("/v2/lbaas/flavorprofiles?name=other").json()["flavorprofiles"] == []

    r = api.put(path, json={"flavorprofile": {"name": "renamed"}})
    assert r.status_code == 200 and r.json()["flavorprofile"]["name"] == "renamed"
    assert r.json()["flavorprofile"]["flavor_data"] == TOPOLOGY
    assert fake.writes[-1][1].update_mask.paths == ["name"]

    assert api.delete(path).status_code == 204
    r = api.get(path)
    assert r.status_code == 404 and profile["id"] in r.json()["faultstring"]
    assert api.delete(path).status_code == 404
    assert api.put(path, json={"flavorprofile": {"name": "x"}}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider_name": "amphora", "flavor_data": "{}"}, "name"),
        ({"name": "a", "flavor_data": "{}"}, "provider_name"),
        ({"name": "a", "provider_name": "amphora"}, "flavor_data"),
        ({"name": "a" * 256, "provider_name": "amphora", "flavor_data": "{}"}, "name"),
        ({"name": "a", "provider_name": "amphora", "flavor_data": "{not json"}, "flavor_data"),
        ({"name": "a", "provider_name": "amphora", "flavor_data": "[1]"}, "flavor_data"),
        ({"name": "a", "provider_name": "amphora", "flavor_data": {"a": 1}}, "flavor_data"),
        ({"name": "a", "provider_name": "nope", "flavor_data": "{}"}, "provider_name"),
        ({"name": "a", "provider_name": "amphora", "flavor_data": "{}", "id": "x"}, "id"),
    ],
)
def test_flavor_profile_validation(api, fake, body, field):
    r = api.post("/v2/lbaas/flavorprofiles", json={"flavorprofile": body})
    assert r.status_code == 400, r.text
    assert f"field/attribute {field}." in r.json()["faultstring"]
    assert fake.writes == []


def test_flavor_profile_update_refuses_nulls_and_bad_data(api, fake, profile):
    path = f"/v2/lbaas/flavorprofiles/{profile['id']}"
    for body, field in (
        ({"name": None}, "name"),
        ({"flavor_data": "x"}, "flavor_data"),
        ({"provider_name": "nope"}, "provider_name"),
    ):
        r = api.put(path, json={"flavorprofile": body})
        assert r.status_code == 400 and f"field/attribute {field}." in r.json()["faultstring"]
    assert [rpc for rpc, _ in fake.writes] == ["CreateFlavorProfile"]


def test_flavor_crud_and_profile_in_use(api, fake, profile):
    body = {"flavor": {"name": "small", "description": "d", "flavor_profile_id": profile["id"]}}
    r = api.post("/v2/lbaas/flavors", json=body)
    assert r.status_code == 201, r.text
    flavor = r.json()["flavor"]
    assert flavor == {
        "id": flavor["id"],
        "name": "small",
        "description": "d",
        "enabled": True,
        "flavor_profile_id": profile["id"],
    }
    path = f"/v2/lbaas/flavors/{flavor['id']}"
    assert api.get(path).json() == {"flavor": flavor}
    assert api.get(f"{path}?fields=name,enabled").json() == {
        "flavor": {"name": "small", "enabled": True}
    }
    listed = api.get("/v2/lbaas/flavors?enabled=true").json()
    assert listed == {"flavors": [flavor], "flavors_links": []}
    assert api.get("/v2/lbaas/flavors?enabled=false").json()["flavors"] == []
    assert api.get("/v2/lbaas/flavors?bogus=1").status_code == 400

    r = api.put(path, json={"flavor": {"enabled": False, "description": None}})
    assert r.status_code == 200
    assert r.json()["flavor"]["enabled"] is False and r.json()["flavor"]["description"] == ""

    # Same name again: conflict; the profile is in use.
    assert api.post("/v2/lbaas/flavors", json=body).status_code == 409
    prof_path = f"/v2/lbaas/flavorprofiles/{profile['id']}"
    assert api.delete(prof_path).status_code == 409
    r = api.put(prof_path, json={"flavorprofile": {"flavor_data": "{}"}})
    assert r.status_code == 409

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert api.delete(prof_path).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "a"}, "flavor_profile_id"),
        ({"name": "a", "flavor_profile_id": "not-a-uuid"}, "flavor_profile_id"),
        ({"name": "a", "flavor_profile_id": str(uuid.uuid4()), "enabled": "sure"}, "enabled"),
        ({"name": "a", "flavor_profile_id": str(uuid.uuid4()), "description": "d" * 256},
         "description"),
    ],
)  # fmt: skip
def test_flavor_validation(api, fake, body, field):
    r = api.post("/v2/lbaas/flavors", json={"flavor": body})
    assert r.status_code == 400, r.text
    assert f"field/attribute {field}." in r.json()["faultstring"]
    assert fake.writes == []


def test_flavor_with_unknown_profile_is_400(api):
    body = {"flavor": {"name": "a", "flavor_profile_id": str(uuid.uuid4())}}
    r = api.post("/v2/lbaas/flavors", json=body)
    assert r.status_code == 400 and "flavor_profile_id" in r.json()["faultstring"]


def test_flavor_update_cannot_move_profile(api, fake, profile):
    body = {"flavor": {"name": "small", "flavor_profile_id": profile["id"]}}
    flavor = api.post("/v2/lbaas/flavors", json=body).json()["flavor"]
    r = api.put(f"/v2/lbaas/flavors/{flavor['id']}", json={"flavor": {"flavor_profile_id": "x"}})
    assert r.status_code == 400 and "flavor_profile_id" in r.json()["faultstring"]


def test_availability_zone_profile_crud(api, fake, az_profile):
    assert set(az_profile) == {"id", "name", "provider_name", "availability_zone_data"}
    path = f"/v2/lbaas/availabilityzoneprofiles/{az_profile['id']}"
    assert api.get(path).json() == {"availability_zone_profile": az_profile}
    listed = api.get("/v2.0/lbaas/availabilityzoneprofiles").json()
    assert listed == {
        "availability_zone_profiles": [az_profile],
        "availability_zone_profile_links": [],
    }
    r = api.put(path, json={"availability_zone_profile": {"availability_zone_data": "{}"}})
    assert r.status_code == 200
    assert r.json()["availability_zone_profile"]["availability_zone_data"] == "{}"
    r = api.put(path, json={"availability_zone_profile": {"availability_zone_data": "[]"}})
    assert r.status_code == 400 and "availability_zone_data" in r.json()["faultstring"]
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_availability_zone_crud(api, fake, az_profile):
    body = {"availability_zone": {"name": "az1", "availability_zone_profile_id": az_profile["id"]}}
    r = api.post("/v2/lbaas/availabilityzones", json=body)
    assert r.status_code == 201, r.text
    zone = r.json()["availability_zone"]
    assert zone == {
        "name": "az1",
        "description": "",
        "enabled": True,
        "availability_zone_profile_id": az_profile["id"],
    }
    assert api.post("/v2/lbaas/availabilityzones", json=body).status_code == 409
    assert api.get("/v2/lbaas/availabilityzones/az1").json() == {"availability_zone": zone}
    listed = api.get("/v2/lbaas/availabilityzones?name=az1").json()
    assert listed == {"availability_zones": [zone], "availability_zones_links": []}

    r = api.put("/v2/lbaas/availabilityzones/az1", json={"availability_zone": {"enabled": False}})
    assert r.status_code == 200 and r.json()["availability_zone"]["enabled"] is False
    # The name is the key and cannot change; profile moves are not Octavia's either.
    for field in ("name", "availability_zone_profile_id"):
        r = api.put("/v2/lbaas/availabilityzones/az1", json={"availability_zone": {field: "x"}})
        assert r.status_code == 400 and f"field/attribute {field}." in r.json()["faultstring"]

    prof_path = f"/v2/lbaas/availabilityzoneprofiles/{az_profile['id']}"
    assert api.delete(prof_path).status_code == 409
    assert api.delete("/v2/lbaas/availabilityzones/az1").status_code == 204
    assert api.get("/v2/lbaas/availabilityzones/az1").status_code == 404
    assert api.delete("/v2/lbaas/availabilityzones/az1").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"availability_zone_profile_id": str(uuid.UUID(int=5))}, "name"),
        ({"name": "a"}, "availability_zone_profile_id"),
        ({"name": "a" * 256, "availability_zone_profile_id": str(uuid.UUID(int=5))}, "name"),
        ({"name": "a", "availability_zone_profile_id": str(uuid.UUID(int=5)), "enabled": None},
         "enabled"),
    ],
)  # fmt: skip
def test_availability_zone_validation(api, fake, body, field):
    r = api.post("/v2/lbaas/availabilityzones", json={"availability_zone": body})
    assert r.status_code == 400, r.text
    assert f"field/attribute {field}." in r.json()["faultstring"]
    assert fake.writes == []
