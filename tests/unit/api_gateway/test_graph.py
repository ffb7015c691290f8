"""The single-call (fully populated) load balancer create: mapping to the contract's graph,
name references between listeners/policies and pools, and the whole tree in the answer."""

from __future__ import annotations

import uuid

from services.api_gateway.schemas import loadbalancer as lb_schema

SUBNET = str(uuid.UUID(int=2))

GRAPH = {
    "loadbalancer": {
        "name": "web",
        "vip_subnet_id": SUBNET,
        "listeners": [
            {
                "name": "http",
                "protocol": "HTTP",
                "protocol_port": 80,
                "default_pool": {"name": "rr"},
                "l7policies": [
                    {
                        "action": "REDIRECT_TO_POOL",
                        "redirect_pool": {
                            "name": "api",
                            "protocol": "HTTP",
                            "lb_algorithm": "LEAST_CONNECTIONS",
                            "members": [{"address": "192.0.2.20", "protocol_port": 8080}],
                        },
                        "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}],
                    }
                ],
            },
            {
                "name": "https",
                "protocol": "TERMINATED_HTTPS",
                "protocol_port": 443,
                "default_tls_container_ref": "https://kms/v1/containers/c",
                "default_pool": {"name": "rr"},
            },
        ],
        "pools": [
            {
                "name": "rr",
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "healthmonitor": {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3},
                "members": [
                    {"address": "192.0.2.10", "protocol_port": 80},
                    {"address": "192.0.2.11", "protocol_port": 80, "backup": True},
                ],
            }
        ],
    }
}


def test_graph_maps_to_contract_with_pool_names_as_references(client, orch):
    r = client.post("/v2/lbaas/loadbalancers", json=GRAPH)
    assert r.status_code == 201, r.text
    sent = orch.writes[0][1].loadbalancer
    assert [p.meta.name for p in sent.pools] == ["rr", "api"]  # inline pool moved up
    assert [li.default_pool_id for li in sent.listeners] == ["rr", "rr"]
    policy = sent.listeners[0].l7policies[0]
    assert policy.redirect_pool_id == "api" and policy.rules[0].value == "/api"
    assert sent.pools[0].healthmonitor.max_retries_down == 3
    # Octavia's defaults are the orchestrator's to fill (rules.*_defaults): the gateway sends
    # what the caller sent, and the answer shows the defaults.
    assert sent.pools[0].healthmonitor.url_path == "" and sent.listeners[1].tls_versions == []
    made = r.json()["loadbalancer"]
    assert made["pools"][0]["healthmonitor"]["url_path"] == "/"
    assert made["listeners"][1]["tls_versions"] == ["TLSv1.2", "TLSv1.3"]


def test_graph_answer_is_the_whole_tree(client, orch):
    lb = client.post("/v2/lbaas/loadbalancers", json=GRAPH).json()["loadbalancer"]
    lb_schema.LoadBalancerFullView.model_validate(lb)
    assert lb["provisioning_status"] == "PENDING_CREATE"
    http, https = lb["listeners"]
    rr = next(p for p in lb["pools"] if p["name"] == "rr")
    api = next(p for p in lb["pools"] if p["name"] == "api")
    assert http["default_pool_id"] == https["default_pool_id"] == rr["id"]
    assert {x["id"] for x in rr["listeners"]} == {http["id"], https["id"]}
    assert rr["healthmonitor"]["type"] == "HTTP" and len(rr["members"]) == 2
    assert rr["members"][1]["backup"] is True
    policy = http["l7policies"][0]
    assert policy["redirect_pool_id"] == api["id"] and policy["position"] == 1
    assert policy["rules"][0]["provisioning_status"] == "PENDING_CREATE"
    assert https["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert https["alpn_protocols"] == ["h2", "http/1.1", "http/1.0"]
    # Afterwards, the ordinary views show children by id.
    shown = client.get(f"/v2/lbaas/loadbalancers/{lb['id']}").json()["loadbalancer"]
    assert {x["id"] for x in shown["listeners"]} == {http["id"], https["id"]}


def _bad(client, orch, mutate, field):
    body = {"loadbalancer": {**GRAPH["loadbalancer"]}}
    mutate(body["loadbalancer"])
    r = client.post("/v2/lbaas/loadbalancers", json=body)
    assert r.status_code == 400, r.text
    assert f"Invalid input for field/attribute {field}." in r.json()["faultstring"], r.json()
    assert orch.writes == []


def test_graph_errors_name_the_nested_field(client, orch):
    def unknown_pool(lb):
        lb["listeners"] = [
            {**lb["listeners"][0], "default_pool": {"name": "nope"}, "l7policies": []}
        ]

    def duplicate(lb):
        lb["pools"] = [*lb["pools"], {**lb["pools"][0], "members": []}]

    def unnamed_inline(lb):
        lb["listeners"] = [
            {
                "protocol": "HTTP",
                "protocol_port": 80,
                "default_pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"},
            }
        ]
        lb["pools"] = []

    def pool_without_protocol(lb):
        lb["pools"] = [{"name": "rr", "lb_algorithm": "ROUND_ROBIN"}]

    def bad_member(lb):
        lb["pools"] = [{**lb["pools"][0], "members": [{"address": "nope", "protocol_port": 80}]}]

    def bad_monitor(lb):
        lb["pools"] = [
            {**lb["pools"][0], "healthmonitor": {"type": "HTTP", "delay": 5, "timeout": 3}}
        ]

    def policy_without_target(lb):
        listener = lb["listeners"][0]
        lb["listeners"] = [{**listener, "l7policies": [{"action": "REDIRECT_TO_POOL"}]}]

    _bad(client, orch, unknown_pool, "listeners.default_pool.name")
    _bad(client, orch, duplicate, "pools.name")
    _bad(client, orch, unnamed_inline, "listeners.default_pool.name")
    _bad(client, orch, pool_without_protocol, "pools.protocol")
    _bad(client, orch, bad_member, "pools.members.address")
    _bad(client, orch, bad_monitor, "pools.healthmonitor.max_retries")
    # A nested rule's value, a TLS listener without a certificate and a redirect action without
    # its target are the orchestrator's to refuse (domain/rules.py): the gateway passes them on,
    # and tests/compat/test_rules_through_services.py sends such graphs through the real services.
    body = {"loadbalancer": {**GRAPH["loadbalancer"]}}
    policy_without_target(body["loadbalancer"])
    client.post("/v2/lbaas/loadbalancers", json=body)
    assert orch.calls[-1][0] == "CreateLoadBalancer"
