"""Octavia (WSME) reads JSON strings into integer and boolean attributes, and
python-octaviaclient relies on it (`listener create --connection-limit 50` sends "50").
Integer-valued strings are integers, still range-checked; nothing else is."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.api_gateway.schemas import fields


@pytest.mark.parametrize(("raw", "value"), [("50", 50), ("-1", -1), ("0", 0), (7, 7)])
def test_integer_valued_strings_are_integers(raw, value) -> None:
    assert fields.as_int(raw) == value


@pytest.mark.parametrize("raw", ["5.0", "abc", " 5", "5 ", "+5", "", "1e3", True, 5.0, None])
def test_other_values_are_not_integers(raw) -> None:
    assert fields.as_int(raw) is None


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("off", False),
        (1, True),
        (0, False),
        (True, True),
    ],
)
def test_wsme_booleans(raw, value) -> None:
    assert fields.as_bool(raw) is value


@pytest.mark.parametrize("raw", ["True ", "maybe", "", 2, -1, 1.0, None])
def test_other_values_are_not_booleans(raw) -> None:
    assert fields.as_bool(raw) is None


def test_listener_create_with_string_integers(client: TestClient, lb: dict) -> None:
    body = {
        "listener": {
            "loadbalancer_id": lb["id"],
            "protocol": "HTTP",
            "protocol_port": "8080",
            "connection_limit": "50",
            "timeout_client_data": "1000",
            "admin_state_up": "true",
        }
    }
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 201, r.text
    listener = r.json()["listener"]
    assert listener["protocol_port"] == 8080
    assert listener["connection_limit"] == 50
    assert listener["timeout_client_data"] == 1000
    assert listener["admin_state_up"] is True

    r = client.put(
        f"/v2/lbaas/listeners/{listener['id']}", json={"listener": {"connection_limit": "-1"}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["listener"]["connection_limit"] == -1


@pytest.mark.parametrize("bad", ["5.0", "abc", " 5", "70000", "-2"])
def test_listener_rejects_non_integer_or_out_of_range_strings(
    client: TestClient, lb: dict, bad: str
) -> None:
    body = {"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": bad}}
    if bad == "-2":
        body["listener"] = {**body["listener"], "protocol_port": 80, "connection_limit": bad}
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 400, r.text


def test_member_and_quota_string_integers(client: TestClient, pool: dict) -> None:
    r = client.post(
        f"/v2/lbaas/pools/{pool['id']}/members",
        json={
            "member": {
                "address": "192.0.2.9",
                "protocol_port": "80",
                "weight": "3",
                "backup": "false",
            }
        },
    )
    assert r.status_code == 201, r.text
    member = r.json()["member"]
    assert (member["protocol_port"], member["weight"], member["backup"]) == (80, 3, False)


def test_member_null_weight_and_backup_go_back_to_defaults(client: TestClient, pool: dict) -> None:
    """`openstack loadbalancer member unset --weight --backup` sends both as null; Octavia
    resets them to 1 and false (its _set_default_on_none)."""
    r = client.post(
        f"/v2/lbaas/pools/{pool['id']}/members",
        json={
            "member": {"address": "192.0.2.10", "protocol_port": 80, "weight": 8, "backup": True}
        },
    )
    assert r.status_code == 201, r.text
    member_id = r.json()["member"]["id"]
    r = client.put(
        f"/v2/lbaas/pools/{pool['id']}/members/{member_id}",
        json={"member": {"weight": None, "backup": None}},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["member"]["weight"], r.json()["member"]["backup"]) == (1, False)


def test_pool_create_with_nested_members_and_monitor_reaches_the_orchestrator(
    client: TestClient, lb: dict, orch
) -> None:
    """POST /lbaas/pools with members and a healthmonitor is one CreatePool (no 501)."""
    body = {
        "pool": {
            "loadbalancer_id": lb["id"],
            "protocol": "HTTP",
            "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": "192.0.2.20", "protocol_port": "80"}],
            "healthmonitor": {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 2},
        }
    }
    r = client.post("/v2/lbaas/pools", json=body)
    assert r.status_code == 201, r.text
    sent = orch.writes[-1][1].pool
    assert [(m.address, m.protocol_port) for m in sent.members] == [("192.0.2.20", 80)]
    assert sent.healthmonitor.type == "HTTP" and sent.healthmonitor.delay == 5
    r = client.post(
        "/v2/lbaas/pools",
        json={"pool": {**body["pool"], "members": [{"address": "x", "protocol_port": 80}]}},
    )
    assert r.status_code == 400 and "members.address" in r.json()["faultstring"], r.text
