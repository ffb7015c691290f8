"""Query filters openstacksdk sends that Octavia accepts as column names: listeners by
load_balancer_id, rules with the path's l7policy_id repeated as a filter."""

from __future__ import annotations

from fastapi.testclient import TestClient


def _listener(client: TestClient, lb_id: str, port: int) -> dict:
    r = client.post(
        "/v2/lbaas/listeners",
        json={"listener": {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": port}},
    )
    assert r.status_code == 201, r.text
    return r.json()["listener"]


def test_listeners_filtered_by_load_balancer_id(client: TestClient, lb: dict) -> None:
    listener = _listener(client, lb["id"], 80)
    r = client.get("/v2/lbaas/listeners", params={"load_balancer_id": lb["id"]})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["listeners"]] == [listener["id"]]
    other = "00000000-0000-0000-0000-0000000000ff"
    r = client.get("/v2/lbaas/listeners", params={"load_balancer_id": other})
    assert r.status_code == 200 and r.json()["listeners"] == []


def test_rules_with_the_policy_repeated_as_a_filter(client: TestClient, lb: dict) -> None:
    listener = _listener(client, lb["id"], 81)
    r = client.post(
        "/v2/lbaas/l7policies",
        json={"l7policy": {"listener_id": listener["id"], "action": "REJECT"}},
    )
    assert r.status_code == 201, r.text
    policy = r.json()["l7policy"]["id"]
    r = client.post(
        f"/v2/lbaas/l7policies/{policy}/rules",
        json={"rule": {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"}},
    )
    assert r.status_code == 201, r.text
    rule = r.json()["rule"]["id"]
    r = client.get(f"/v2/lbaas/l7policies/{policy}/rules", params={"l7policy_id": policy})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["rules"]] == [rule]
