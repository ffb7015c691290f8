"""New fields reach the contract and come back in the views; member batch update, statistics,
failover; every view conforms to the response model the OpenAPI document declares."""

from __future__ import annotations

import pytest

from services.api_gateway.adapters.health import MemoryHealth
from services.api_gateway.schemas import healthmonitor as hm_schema
from services.api_gateway.schemas import l7policy as l7policy_schema
from services.api_gateway.schemas import l7rule as l7rule_schema
from services.api_gateway.schemas import listener as listener_schema
from services.api_gateway.schemas import loadbalancer as lb_schema
from services.api_gateway.schemas import member as member_schema
from services.api_gateway.schemas import pool as pool_schema
from services.api_gateway.views import STATS_FIELDS


@pytest.fixture
def health(client) -> MemoryHealth:
    fake = MemoryHealth()
    client.app.state.health = fake
    return fake


def _listener(client, lb, **fields) -> dict:
    body = {"listener": {"loadbalancer_id": lb["id"], "protocol_port": 443, **fields}}
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 201, r.text
    return r.json()["listener"]


def test_listener_tls_fields_pass_through_with_octavia_defaults(client, orch, lb):
    li = _listener(
        client,
        lb,
        protocol="TERMINATED_HTTPS",
        default_tls_container_ref="https://kms/v1/containers/a",
        sni_container_refs=["https://kms/v1/containers/b"],
        client_authentication="OPTIONAL",
        client_ca_tls_container_ref="ca-ref",
        client_crl_container_ref="crl-ref",
        hsts_max_age=31536000,
        hsts_include_subdomains=True,
        insert_headers={"X-SSL-Client-CN": "true"},
        allowed_cidrs=["192.0.2.0/24", "2001:db8::/32"],
    )
    listener_schema.ListenerView.model_validate(li)
    assert li["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert li["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    assert li["tls_ciphers"] and ":" in li["tls_ciphers"]
    assert (li["client_authentication"], li["client_crl_container_ref"]) == ("OPTIONAL", "crl-ref")
    assert (li["hsts_max_age"], li["hsts_include_subdomains"], li["hsts_preload"]) == (
        31536000,
        True,
        False,
    )
    assert li["sni_container_refs"] == ["https://kms/v1/containers/b"]
    sent = orch.writes[-1][1].listener
    assert sent.client_ca_tls_container_ref == "ca-ref" and list(sent.allowed_cidrs) == [
        "192.0.2.0/24",
        "2001:db8::/32",
    ]
    r = client.put(
        f"/v2/lbaas/listeners/{li['id']}",
        json={"listener": {"tls_versions": ["TLSv1.3"], "alpn_protocols": ["h2"]}},
    )
    assert r.status_code == 200, r.text
    assert sorted(orch.writes[-1][1].update_mask.paths) == ["alpn_protocols", "tls_versions"]
    assert r.json()["listener"]["tls_versions"] == ["TLSv1.3"]
    # A plain listener shows the TLS fields unset, as Octavia does.
    plain = _listener(client, lb, protocol="HTTP", protocol_port=80)
    assert (plain["tls_versions"], plain["tls_ciphers"], plain["hsts_max_age"]) == (
        None,
        None,
        None,
    )


def test_pool_tls_member_vnic_and_lb_vip_fields(client, orch, lb):
    body = {
        "pool": {
            "loadbalancer_id": lb["id"],
            "protocol": "HTTPS",
            "lb_algorithm": "SOURCE_IP_PORT",
            "tls_enabled": True,
            "ca_tls_container_ref": "ca",
            "crl_container_ref": "crl",
            "tags": ["a"],
        }
    }
    pool = client.post("/v2/lbaas/pools", json=body).json()["pool"]
    pool_schema.PoolView.model_validate(pool)
    assert pool["tls_enabled"] is True and pool["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert pool["alpn_protocols"] == ["http/1.1", "http/1.0"] and pool["tags"] == ["a"]
    r = client.post(
        f"/v2/lbaas/pools/{pool['id']}/members",
        json={
            "member": {
                "address": "2001:db8::5",
                "protocol_port": 443,
                "request_sriov": True,
                "backup": True,
                "monitor_address": "192.0.2.9",
                "monitor_port": 9000,
            }
        },
    )
    member = r.json()["member"]
    member_schema.MemberView.model_validate(member)
    assert (member["vnic_type"], member["backup"], member["monitor_port"]) == ("direct", True, 9000)

    lb_body = {
        "loadbalancer": {
            "vip_subnet_id": lb["vip_subnet_id"],
            "additional_vips": [{"subnet_id": lb["vip_subnet_id"], "ip_address": "203.0.113.50"}],
            "vip_sg_ids": [lb["vip_subnet_id"]],
        }
    }
    created = client.post("/v2/lbaas/loadbalancers", json=lb_body).json()["loadbalancer"]
    lb_schema.LoadBalancerView.model_validate(created)
    assert created["additional_vips"] == [
        {"subnet_id": lb["vip_subnet_id"], "ip_address": "203.0.113.50"}
    ]
    assert created["vip_vnic_type"] == "normal" and created["vip_sg_ids"] == [lb["vip_subnet_id"]]
    assert created["flavor_id"] is None


def test_member_batch_update_replaces_or_adds(client, orch, pool):
    url = f"/v2/lbaas/pools/{pool['id']}/members"
    for port in (80, 81):
        client.post(url, json={"member": {"address": "192.0.2.1", "protocol_port": port}})
    r = client.put(
        url,
        json={
            "members": [
                {"address": "192.0.2.1", "protocol_port": 81, "weight": 7},
                {"address": "192.0.2.2", "protocol_port": 80},
            ]
        },
    )
    assert r.status_code == 202 and r.content == b""
    sent = orch.writes[-1][1]
    assert sent.pool_id == pool["id"] and not sent.additive_only and len(sent.members) == 2
    now = {
        (m["address"], m["protocol_port"]): m["weight"] for m in client.get(url).json()["members"]
    }
    assert now == {("192.0.2.1", 81): 7, ("192.0.2.2", 80): 1}

    r = client.put(
        f"{url}?additive_only=true",
        json={"members": [{"address": "192.0.2.3", "protocol_port": 80}]},
    )
    assert r.status_code == 202 and orch.writes[-1][1].additive_only
    assert len(client.get(url).json()["members"]) == 3
    assert client.put(f"/v2/lbaas/pools/{'0' * 8}/members", json={"members": []}).status_code == 404


def test_stats_of_listener_and_load_balancer_sum(client, orch, lb, health):
    a = _listener(client, lb, protocol="HTTP", protocol_port=80)
    b = _listener(client, lb, protocol="TCP", protocol_port=81)
    health.add(
        a["id"], "amp-1", bytes_in=10, bytes_out=20, active_connections=1, total_connections=5
    )
    health.add(a["id"], "amp-2", bytes_in=1, bytes_out=2, request_errors=3, total_connections=1)
    health.add(b["id"], "amp-1", bytes_in=100, total_connections=10)
    r = client.get(f"/v2/lbaas/listeners/{a['id']}/stats")
    assert r.status_code == 200
    assert r.json() == {
        "stats": {
            "active_connections": 1,
            "bytes_in": 11,
            "bytes_out": 22,
            "request_errors": 3,
            "total_connections": 6,
        }
    }
    total = client.get(f"/v2.0/lbaas/loadbalancers/{lb['id']}/stats").json()["stats"]
    assert (total["bytes_in"], total["total_connections"]) == (111, 16)
    assert set(total) == set(STATS_FIELDS)
    assert sorted(health.calls[-1]) == sorted([a["id"], b["id"]])
    # Another project's listener is not found, and the health service is not asked.
    calls = len(health.calls)
    r = client.get(f"/v2/lbaas/listeners/{a['id']}/stats", headers={"X-Auth-Token": "other-token"})
    assert r.status_code == 404 and len(health.calls) == calls


def test_stats_of_an_empty_load_balancer_are_zero(client, lb, health):
    r = client.get(f"/v2/lbaas/loadbalancers/{lb['id']}/stats")
    assert r.json() == {"stats": dict.fromkeys(STATS_FIELDS, 0)}


def test_failover_is_202_for_an_admin(client, orch, lb):
    admin = {"X-Auth-Token": "admin-token"}
    r = client.put(f"/v2/lbaas/loadbalancers/{lb['id']}/failover", headers=admin)
    assert r.status_code == 202 and r.content == b""
    assert orch.writes[-1][0] == "FailoverLoadBalancer" and orch.writes[-1][1].id == lb["id"]
    r = client.put(f"/v2/lbaas/loadbalancers/{'0' * 8}/failover", headers=admin)
    assert r.status_code == 404
    # Octavia's default policy keeps failover to administrators.
    assert client.put(f"/v2/lbaas/loadbalancers/{lb['id']}/failover").status_code == 403


def test_resize_is_202_for_an_admin_with_a_flavor_id(client, orch, lb):
    """PUT .../resize (an extension): {"loadbalancer": {"flavor_id": ...}}, admin only."""
    admin = {"X-Auth-Token": "admin-token"}
    path = f"/v2/lbaas/loadbalancers/{lb['id']}/resize"
    flavor = "4a7c2f3e-0000-4000-8000-000000000001"
    r = client.put(path, json={"loadbalancer": {"flavor_id": flavor}}, headers=admin)
    assert r.status_code == 202 and r.content == b""
    rpc, request = orch.writes[-1]
    assert rpc == "ResizeLoadBalancer" and (request.id, request.flavor_id) == (lb["id"], flavor)
    for body, field in (
        ({"loadbalancer": {}}, "flavor_id"),
        ({"loadbalancer": {"flavor_id": "small"}}, "flavor_id"),
        ({"loadbalancer": {"flavor_id": flavor, "topology": "SINGLE"}}, "topology"),
    ):
        r = client.put(path, json=body, headers=admin)
        assert r.status_code == 400 and field in r.json()["faultstring"], r.json()
    assert orch.writes[-1][1].flavor_id == flavor, "a refused body reaches no RPC"
    r = client.put(
        f"/v2/lbaas/loadbalancers/{'0' * 8}/resize",
        json={"loadbalancer": {"flavor_id": flavor}},
        headers=admin,
    )
    assert r.status_code == 404
    assert client.put(path, json={"loadbalancer": {"flavor_id": flavor}}).status_code == 403, (
        "admin only, as failover"
    )


def test_list_views_conform_and_fields_filter(client, lb, pool):
    hm = client.post(
        "/v2/lbaas/healthmonitors",
        json={
            "healthmonitor": {
                "pool_id": pool["id"],
                "type": "TCP",
                "delay": 1,
                "timeout": 1,
                "max_retries": 1,
            }
        },
    ).json()["healthmonitor"]
    hm_schema.HealthMonitorView.model_validate(hm)
    for path, model in (
        ("loadbalancers", lb_schema.LoadBalancerList),
        ("pools", pool_schema.PoolList),
        ("healthmonitors", hm_schema.HealthMonitorList),
        ("l7policies", l7policy_schema.L7PolicyList),
    ):
        model.model_validate(client.get(f"/v2/lbaas/{path}").json())
    cut = client.get("/v2/lbaas/pools?fields=id,name").json()["pools"]
    assert cut == [{"id": pool["id"], "name": pool["name"]}]
    pool_schema.PoolList.model_validate({"pools": cut, "pools_links": []})
    assert l7rule_schema.L7RuleList


def test_openapi_documents_bodies_responses_and_faults(client):
    doc = client.app.openapi()
    paths = doc["paths"]
    create = paths["/v2/lbaas/loadbalancers"]["post"]
    assert (
        "listeners"
        in create["requestBody"]["content"]["application/json"]["schema"]["properties"][
            "loadbalancer"
        ]["properties"]
    )
    assert {"201", "400", "401", "403", "404", "409"} <= set(create["responses"])
    assert paths["/v2/lbaas/pools/{pool_id}/members"]["put"]["responses"]["202"]
    assert paths["/v2/lbaas/loadbalancers/{lb_id}/failover"]["put"]["responses"]["202"]
    for path in (
        "/v2/lbaas/l7policies",
        "/v2/lbaas/l7policies/{l7policy_id}/rules/{l7rule_id}",
        "/v2.0/lbaas/listeners/{listener_id}/stats",
    ):
        assert path in paths
    fault = doc["components"]["schemas"]["Fault"]
    assert set(fault["properties"]) == {"faultcode", "faultstring", "debuginfo"}
    listener = doc["components"]["schemas"]["ListenerView"]["properties"]
    assert {"type": "null"} in listener["hsts_max_age"]["anyOf"]
