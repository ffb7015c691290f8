"""Octavia's option lists (protocols, algorithms, monitor types and methods, L7 actions, rule and
compare types, TLS versions, ALPN protocols, redirect codes, providers) live once, in the
orchestrator's domain/rules.py. Through the real gateway and orchestrator, a well-shaped value
outside a list is a 400 naming the field with Octavia's text ("Value: 'X'. Value should be one
of: ..."), on create and on update, and nothing is written."""

from __future__ import annotations

import pytest

from services.orchestrator.domain import rules
from tests.support.api import Api

pytestmark = pytest.mark.compat


RULE = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}
HM = {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3}
# (name, collection, root, body given the tree's ids, field, Octavia's list)
CREATES = [
    ("listener protocol", "listeners", "listener",
     lambda t: {"loadbalancer_id": t["lb"], "protocol": "FTP", "protocol_port": 81},
     "protocol", rules.LISTENER_PROTOCOLS),
    ("pool protocol", "pools", "pool",
     lambda t: {"loadbalancer_id": t["lb"], "protocol": "FTP", "lb_algorithm": "ROUND_ROBIN"},
     "protocol", rules.POOL_PROTOCOLS),
    ("pool algorithm", "pools", "pool",
     lambda t: {"loadbalancer_id": t["lb"], "protocol": "HTTP", "lb_algorithm": "RANDOM"},
     "lb_algorithm", rules.LB_ALGORITHMS),
    ("persistence type", "pools", "pool",
     lambda t: {"loadbalancer_id": t["lb"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                "session_persistence": {"type": "NOPE"}},
     "session_persistence.type", rules.SESSION_PERSISTENCE_TYPES[1:]),
    ("pool TLS version", "pools", "pool",
     lambda t: {"loadbalancer_id": t["lb"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                "tls_enabled": True, "tls_versions": ["SSLv2"]},
     "tls_versions", rules.TLS_VERSIONS),
    ("pool ALPN protocol", "pools", "pool",
     lambda t: {"loadbalancer_id": t["lb"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                "tls_enabled": True, "alpn_protocols": ["h3"]},
     "alpn_protocols", rules.ALPN_PROTOCOLS),
    ("monitor type", "healthmonitors", "healthmonitor",
     lambda t: {**HM, "pool_id": t["pool"], "type": "ICMP"}, "type", rules.HEALTH_MONITOR_TYPES),
    ("monitor method", "healthmonitors", "healthmonitor",
     lambda t: {**HM, "pool_id": t["pool"], "http_method": "FETCH"},
     "http_method", rules.HTTP_METHODS),
    ("policy action", "l7policies", "l7policy",
     lambda t: {"listener_id": t["listener"], "action": "DROP"},
     "action", rules.L7POLICY_ACTIONS),
    ("redirect code", "l7policies", "l7policy",
     lambda t: {"listener_id": t["listener"], "action": "REDIRECT_TO_URL",
                "redirect_url": "http://example.com", "redirect_http_code": 304},
     "redirect_http_code", rules.L7_REDIRECT_HTTP_CODES),
    ("rule type", "l7policies/{policy}/rules", "rule",
     lambda t: {**RULE, "type": "BODY"}, "type", rules.L7RULE_TYPES),
    ("compare type", "l7policies/{policy}/rules", "rule",
     lambda t: {**RULE, "compare_type": "LIKE"}, "compare_type", rules.L7RULE_COMPARE_TYPES),
]  # fmt: skip


def _one_of(faultstring: str, field: str, value: object, options: tuple) -> None:
    assert faultstring.startswith(f"Invalid input for field/attribute {field}. "), faultstring
    assert f"Value: '{value}'. Value should be one of: " in faultstring, faultstring
    listed = faultstring.split("Value should be one of: ", 1)[1]
    assert set(listed.split(", ")) == {str(o) for o in options}, faultstring


@pytest.mark.parametrize(
    ("collection", "root", "body", "field", "options"),
    [case[1:] for case in CREATES],
    ids=[case[0] for case in CREATES],
)
def test_a_value_outside_an_option_list_is_refused_naming_the_field(
    rest: Api, tree, collection, root, body, field, options
):
    path = f"/v2/lbaas/{collection.format(**tree)}"
    key = path.rstrip("/").rsplit("/", 1)[-1]
    before = {o["id"] for o in rest.get(path)[key]}
    sent = body(tree)
    response = rest.http.post(path, json={root: sent})
    assert response.status_code == 400, response.text
    leaf = field.rsplit(".", 1)[-1]
    value = sent.get(leaf, (sent.get("session_persistence") or {}).get(leaf))
    if isinstance(value, list):
        value = value[0]
    _one_of(response.json()["faultstring"], field, value, options)
    assert {o["id"] for o in rest.get(path)[key]} == before  # nothing written


def test_an_update_outside_an_option_list_is_refused_and_changes_nothing(rest: Api, tree):
    pool = f"/v2/lbaas/pools/{tree['pool']}"
    response = rest.http.put(pool, json={"pool": {"lb_algorithm": "FASTEST"}})
    assert response.status_code == 400, response.text
    _one_of(response.json()["faultstring"], "lb_algorithm", "FASTEST", rules.LB_ALGORITHMS)
    assert rest.get(pool)["pool"]["lb_algorithm"] == "ROUND_ROBIN"


def test_an_unknown_provider_is_refused_by_the_orchestrator(rest: Api, tree):
    body = {"loadbalancer": {"vip_subnet_id": tree["subnet"], "provider": "f5"}}
    response = rest.http.post("/v2/lbaas/loadbalancers", json=body)
    assert response.status_code == 400, response.text
    assert "Provider 'f5' is not enabled." in response.json()["faultstring"]
    alias = rest.post(
        "/v2/lbaas/loadbalancers",
        {"loadbalancer": {"vip_subnet_id": tree["subnet"], "provider": "octavia"}},
    )["loadbalancer"]
    assert alias["provider"] == "amphora"  # Octavia's alias of the amphora provider
    rest.wait_lb(alias["id"])
    rest.delete(f"/v2/lbaas/loadbalancers/{alias['id']}")
