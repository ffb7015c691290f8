"""Envelopes and fields of the five Octavia resources, against the in-memory orchestrator."""

from __future__ import annotations

import re
import uuid

SUBNET_ID = str(uuid.UUID(int=2))

LB_FIELDS = {
    "id",
    "name",
    "description",
    "project_id",
    "tenant_id",
    "provisioning_status",
    "operating_status",
    "admin_state_up",
    "vip_address",
    "vip_port_id",
    "vip_subnet_id",
    "vip_network_id",
    "vip_qos_policy_id",
    "listeners",
    "pools",
    "provider",
    "flavor_id",
    "availability_zone",
    "created_at",
    "updated_at",
    "tags",
}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def test_load_balancer_create_show_list_update_delete(client, orch, lb):
    assert LB_FIELDS <= set(lb)
    assert lb["provisioning_status"] == "PENDING_CREATE"
    assert lb["provider"] == "amphora" and lb["vip_subnet_id"] == SUBNET_ID
    assert lb["project_id"] == lb["tenant_id"] == "project-a"
    assert lb["admin_state_up"] is True and lb["tags"] == [] and lb["listeners"] == []
    assert TS.match(lb["created_at"]) and lb["updated_at"] is None
    create = orch.writes[0][1]
    assert create.scope.project_id == "project-a" and not create.scope.all_projects

    shown = client.get(f"/v2.0/lbaas/loadbalancers/{lb['id']}").json()["loadbalancer"]
    assert shown["provisioning_status"] == "ACTIVE"

    listed = client.get("/v2/lbaas/loadbalancers").json()
    assert listed["loadbalancers_links"] == [] and [x["id"] for x in listed["loadbalancers"]] == [
        lb["id"]
    ]
    assert client.get("/v2/lbaas/loadbalancers?name=nope").json()["loadbalancers"] == []
    assert (
        len(
            client.get("/v2/lbaas/loadbalancers?name=lb1&project_id=project-a").json()[
                "loadbalancers"
            ]
        )
        == 1
    )

    r = client.put(
        f"/v2/lbaas/loadbalancers/{lb['id']}",
        json={"loadbalancer": {"name": "renamed", "tags": ["t"]}},
    )
    assert r.status_code == 200, r.text
    updated = r.json()["loadbalancer"]
    assert (
        updated["name"] == "renamed"
        and updated["tags"] == ["t"]
        and TS.match(updated["updated_at"])
    )
    assert list(orch.writes[-1][1].update_mask.paths) == ["meta.name", "meta.tags"]

    assert client.delete(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 204
    assert client.get(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 404


def test_cascade_delete_and_refusal(client, orch, lb, pool):
    r = client.delete(f"/v2/lbaas/loadbalancers/{lb['id']}")
    assert r.status_code == 400 and r.json()["faultcode"] == "Client"
    assert client.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true").status_code == 204
    assert orch.writes[-1][1].cascade is True


def test_listener_defaults_and_filters(client, lb):
    body = {"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80}}
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 201, r.text
    li = r.json()["listener"]
    assert li["connection_limit"] == -1
    assert (li["timeout_client_data"], li["timeout_member_connect"], li["timeout_member_data"]) == (
        50000,
        5000,
        50000,
    )
    assert li["timeout_tcp_inspect"] == 0 and li["loadbalancers"] == [{"id": lb["id"]}]
    assert (
        li["insert_headers"] == {} and li["allowed_cidrs"] is None and li["default_pool_id"] is None
    )
    assert li["client_authentication"] == "NONE" and li["sni_container_refs"] == []
    got = client.get(f"/v2/lbaas/listeners?loadbalancer_id={lb['id']}").json()
    assert [x["id"] for x in got["listeners"]] == [li["id"]] and got["listeners_links"] == []
    assert client.get("/v2/lbaas/listeners?loadbalancer_id=other").json()["listeners"] == []
    r = client.put(f"/v2/lbaas/listeners/{li['id']}", json={"listener": {"connection_limit": 100}})
    assert r.json()["listener"]["connection_limit"] == 100
    lbv = client.get(f"/v2/lbaas/loadbalancers/{lb['id']}").json()["loadbalancer"]
    assert lbv["listeners"] == [{"id": li["id"]}]


def test_pool_member_healthmonitor_and_status_tree(client, lb):
    li = client.post(
        "/v2/lbaas/listeners",
        json={"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80}},
    ).json()["listener"]
    body = {
        "pool": {
            "listener_id": li["id"],
            "protocol": "HTTP",
            "lb_algorithm": "LEAST_CONNECTIONS",
            "session_persistence": {"type": "APP_COOKIE", "cookie_name": "sid"},
        }
    }
    pool = client.post("/v2/lbaas/pools", json=body).json()["pool"]
    assert pool["listeners"] == [{"id": li["id"]}] and pool["loadbalancers"] == [{"id": lb["id"]}]
    assert pool["session_persistence"]["type"] == "APP_COOKIE" and pool["healthmonitor_id"] is None
    assert pool["tls_enabled"] is False

    r = client.post(
        f"/v2/lbaas/pools/{pool['id']}/members",
        json={"member": {"address": "192.0.2.10", "protocol_port": 8080}},
    )
    assert r.status_code == 201, r.text
    member = r.json()["member"]
    assert (
        member["weight"],
        member["backup"],
        member["monitor_address"],
        member["monitor_port"],
    ) == (1, False, None, None)
    assert member["subnet_id"] is None
    members = client.get(f"/v2.0/lbaas/pools/{pool['id']}/members").json()
    assert members["members_links"] == [] and members["members"][0]["id"] == member["id"]
    r = client.put(
        f"/v2/lbaas/pools/{pool['id']}/members/{member['id']}",
        json={"member": {"weight": 5, "monitor_port": 9000}},
    )
    assert (r.json()["member"]["weight"], r.json()["member"]["monitor_port"]) == (5, 9000)
    r = client.put(
        f"/v2/lbaas/pools/{pool['id']}/members/{member['id']}",
        json={"member": {"monitor_port": None}},
    )
    assert r.json()["member"]["monitor_port"] is None

    r = client.post(
        "/v2/lbaas/healthmonitors",
        json={
            "healthmonitor": {
                "pool_id": pool["id"],
                "type": "HTTP",
                "delay": 5,
                "timeout": 3,
                "max_retries": 2,
            }
        },
    )
    assert r.status_code == 201, r.text
    hm = r.json()["healthmonitor"]
    assert (hm["http_method"], hm["url_path"], hm["expected_codes"], hm["max_retries_down"]) == (
        "GET",
        "/",
        "200",
        3,
    )
    assert (
        hm["pools"] == [{"id": pool["id"]}]
        and hm["http_version"] is None
        and hm["domain_name"] is None
    )
    tcp = client.get(f"/v2/lbaas/healthmonitors?pool_id={pool['id']}").json()
    assert [x["id"] for x in tcp["healthmonitors"]] == [hm["id"]]
    assert (
        client.get(f"/v2/lbaas/pools/{pool['id']}").json()["pool"]["healthmonitor_id"] == hm["id"]
    )

    tree = client.get(f"/v2/lbaas/loadbalancers/{lb['id']}/status").json()["statuses"][
        "loadbalancer"
    ]
    assert tree["id"] == lb["id"] and tree["listeners"][0]["id"] == li["id"]
    tpool = tree["listeners"][0]["pools"][0]
    assert tpool["health_monitor"]["type"] == "HTTP"
    assert (
        tpool["members"][0]["address"] == "192.0.2.10"
        and tpool["members"][0]["protocol_port"] == 8080
    )
    # Octavia's load balancer node has exactly these keys (its API tests count them).
    assert set(tree) == {"id", "name", "operating_status", "provisioning_status", "listeners"}

    assert client.delete(f"/v2/lbaas/healthmonitors/{hm['id']}").status_code == 204
    assert client.delete(f"/v2/lbaas/pools/{pool['id']}/members/{member['id']}").status_code == 204
    assert client.delete(f"/v2/lbaas/pools/{pool['id']}").status_code == 204
    assert client.delete(f"/v2/lbaas/listeners/{li['id']}").status_code == 204


def test_tcp_monitor_has_no_http_fields(client, pool):
    body = {
        "healthmonitor": {
            "pool_id": pool["id"],
            "type": "TCP",
            "delay": 5,
            "timeout": 3,
            "max_retries": 2,
        }
    }
    hm = client.post("/v2/lbaas/healthmonitors", json=body).json()["healthmonitor"]
    assert (hm["http_method"], hm["url_path"], hm["expected_codes"]) == (None, None, None)
    # Giving it an HTTP field later is the orchestrator's to refuse (domain/rules.py):
    # tests/compat/test_rules_through_services.py.


def test_other_project_cannot_see(client, lb):
    r = client.get(f"/v2/lbaas/loadbalancers/{lb['id']}", headers={"X-Auth-Token": "other-token"})
    assert r.status_code == 404
    assert (
        client.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "other-token"}).json()[
            "loadbalancers"
        ]
        == []
    )
