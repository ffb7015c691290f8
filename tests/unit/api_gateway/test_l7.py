"""L7 policies and rules: envelopes, defaults, positions, action rules, updates, deletes."""

from __future__ import annotations

import pytest


@pytest.fixture
def listener(client, lb) -> dict:
    body = {"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80}}
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 201, r.text
    return r.json()["listener"]


def _policy(client, listener, **fields) -> dict:
    body = {"l7policy": {"listener_id": listener["id"], **fields}}
    r = client.post("/v2.0/lbaas/l7policies", json=body)
    assert r.status_code == 201, r.text
    return r.json()["l7policy"]


def test_policy_lifecycle_positions_and_listener_view(client, orch, listener, pool):
    first = _policy(client, listener, action="REJECT", name="deny")
    assert first["position"] == 1 and first["rules"] == [] and first["redirect_http_code"] is None
    assert first["provisioning_status"] == "PENDING_CREATE" and first["description"] == ""
    to_pool = _policy(client, listener, redirect_pool_id=pool["id"])
    assert to_pool["action"] == "REDIRECT_TO_POOL" and to_pool["position"] == 2
    to_url = _policy(
        client, listener, action="REDIRECT_TO_URL", redirect_url="https://example.com/x", position=1
    )
    assert to_url["redirect_http_code"] == 302 and to_url["position"] == 1
    listed = client.get(f"/v2/lbaas/l7policies?listener_id={listener['id']}").json()
    assert listed["l7policies_links"] == []
    by_id = {p["id"]: p["position"] for p in listed["l7policies"]}
    assert by_id == {to_url["id"]: 1, first["id"]: 2, to_pool["id"]: 3}
    shown = client.get(f"/v2/lbaas/listeners/{listener['id']}").json()["listener"]
    assert {p["id"] for p in shown["l7policies"]} == set(by_id)

    # An action change clears the other redirect fields; the code defaults again.
    r = client.put(
        f"/v2/lbaas/l7policies/{to_pool['id']}",
        json={"l7policy": {"redirect_prefix": "https://example.org", "redirect_http_code": 308}},
    )
    assert r.status_code == 200, r.text
    updated = r.json()["l7policy"]
    assert (updated["action"], updated["redirect_pool_id"], updated["redirect_http_code"]) == (
        "REDIRECT_PREFIX",
        None,
        308,
    )
    sent = orch.writes[-1][1]
    # The gateway sends what the caller sent; the orchestrator resolves the action from it.
    assert set(sent.update_mask.paths) == {"redirect_prefix", "redirect_http_code"}

    r = client.put(
        f"/v2/lbaas/l7policies/{first['id']}", json={"l7policy": {"action": "REDIRECT_TO_URL"}}
    )
    assert r.status_code == 400 and "redirect_url" in r.json()["faultstring"]

    assert client.delete(f"/v2/lbaas/l7policies/{to_url['id']}").status_code == 204
    assert client.get(f"/v2/lbaas/l7policies/{to_url['id']}").status_code == 404
    left = client.get("/v2/lbaas/l7policies").json()["l7policies"]
    assert sorted(p["position"] for p in left) == [1, 2]


def test_rules_nested_create_crud_and_update(client, orch, listener):
    policy = _policy(
        client,
        listener,
        action="REJECT",
        rules=[{"type": "HOST_NAME", "compare_type": "EQUAL_TO", "value": "www.example.com"}],
    )
    assert len(policy["rules"]) == 1
    base = f"/v2/lbaas/l7policies/{policy['id']}/rules"
    rules = client.get(base).json()
    assert rules["rules_links"] == [] and rules["rules"][0]["value"] == "www.example.com"

    body = {
        "rule": {
            "type": "HEADER",
            "compare_type": "REGEX",
            "key": "X-Env",
            "value": "^prod\\x20.*$",
        }
    }
    r = client.post(base, json=body)
    assert r.status_code == 201, r.text
    rule = r.json()["rule"]
    assert (rule["key"], rule["invert"], rule["admin_state_up"]) == ("X-Env", False, True)
    assert "name" not in rule and "description" not in rule

    # Whether the rule is still valid after an update (a regex value under a plain comparison)
    # is the orchestrator's to say: tests/compat/test_rules_through_services.py.
    r = client.put(f"{base}/{rule['id']}", json={"rule": {"invert": True, "value": "prod"}})
    assert r.status_code == 200 and r.json()["rule"]["invert"] is True
    assert client.get(f"{base}/{rule['id']}").json()["rule"]["value"] == "prod"

    assert client.delete(f"{base}/{rule['id']}").status_code == 204
    assert client.get(f"{base}/{rule['id']}").status_code == 404
    assert client.delete(f"/v2/lbaas/listeners/{listener['id']}").status_code == 204
    assert client.get(f"/v2/lbaas/l7policies/{policy['id']}").status_code == 404


def test_rule_under_the_wrong_policy_is_404(client, listener):
    a = _policy(client, listener, action="REJECT")
    b = _policy(client, listener, action="REJECT")
    rule = client.post(
        f"/v2/lbaas/l7policies/{a['id']}/rules",
        json={"rule": {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"}},
    ).json()["rule"]
    assert client.get(f"/v2/lbaas/l7policies/{b['id']}/rules/{rule['id']}").status_code == 404
