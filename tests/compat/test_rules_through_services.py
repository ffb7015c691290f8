"""The rules the gateway leaves to the orchestrator, through the real services.

tests/unit/api_gateway/test_validation*.py keep, as ORCHESTRATOR_CASES, the bad requests whose
rule lives only in the orchestrator's domain/ (option lists, per-type L7 rules, what a config
can carry): the gateway alone passes them on. Here the same requests go to the real gateway and
orchestrator, with real parents in place of the placeholder ids: each is a 400 naming the field
and writes nothing. Also what only the object as it will be can tell (an update that leaves a
rule invalid, a nested rule of a fully populated create)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.api import Api
from tests.unit.api_gateway import test_validation as plain
from tests.unit.api_gateway import test_validation_fields as fields

pytestmark = pytest.mark.compat

CERT_REF_CASES = ("client_authentication",)  # need a stored certificate first: unit-tested


def _ids(objects: list[dict]) -> set[str]:
    """Which objects there are (their statuses move as the reconcile runs)."""
    return {o["id"] for o in objects}


def _real(path: str, body: Any, tree: dict[str, str], any_id: str, subnet: str) -> tuple:
    """The case with the tree's ids in place of the unit tests' placeholders."""
    ids = {
        "listener_id": tree["listener"],
        "loadbalancer_id": tree["lb"],
        "pool_id": tree["pool"],
        "redirect_pool_id": tree["pool"],
        "vip_subnet_id": tree["subnet"],
    }

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (ids.get(k, v) if v in (any_id, subnet) else swap(v)) for k, v in node.items()
            }
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    real_path = path.replace(f"l7policies/{any_id}", f"l7policies/{tree['policy']}")
    real_path = real_path.replace(f"pools/{any_id}", f"pools/{tree['pool']}")
    return real_path, swap(copy.deepcopy(body))


CASES = [(*case[:4], plain.ANY_ID, plain.SUBNET) for case in plain.ORCHESTRATOR_CASES] + [
    (*case, fields.ANY_ID, fields.SUBNET)
    for case in fields.ORCHESTRATOR_CASES
    if case[3] not in CERT_REF_CASES
]


@pytest.mark.parametrize(
    ("path", "root", "body", "field", "any_id", "subnet"),
    CASES,
    ids=[f"{c[1]}.{c[3]}-{i}" for i, c in enumerate(CASES)],
)
def test_the_orchestrator_refuses_what_the_gateway_passes_on(
    rest: Api, tree, path, root, body, field, any_id, subnet
):
    real_path, real_body = _real(path, body, tree, any_id, subnet)
    url = f"/v2/lbaas/{real_path}"
    collection = url.rstrip("/").rsplit("/", 1)[-1]
    before = _ids(rest.get(url)[collection]) if collection != "loadbalancers" else None
    response = rest.http.post(url, json={root: real_body})
    if response.status_code == 501:
        # UDP and SCTP are not built here: the backend's "does not support" comes first (Octavia
        # would answer the rule's 400 first; the order is noted in docs/compat.md).
        assert "not supported by the" in response.json()["faultstring"], response.text
        assert real_body.get("protocol") in ("UDP", "SCTP"), response.text
        return
    assert response.status_code == 400, response.text
    fault = response.json()["faultstring"]
    leaf = field.rsplit(".", 1)[-1]
    assert f"field/attribute {field}" in fault or leaf in fault, fault
    if before is not None:
        assert _ids(rest.get(url)[collection]) == before  # nothing written


def test_an_update_that_leaves_a_rule_invalid_is_refused(rest: Api, tree):
    base = f"/v2/lbaas/l7policies/{tree['policy']}/rules"
    rule = rest.post(
        base,
        {"rule": {"type": "HEADER", "compare_type": "REGEX", "key": "X-Env", "value": "^p\\x20"}},
    )["rule"]
    response = rest.http.put(f"{base}/{rule['id']}", json={"rule": {"compare_type": "EQUAL_TO"}})
    assert response.status_code == 400, response.text
    assert "value" in response.json()["faultstring"]
    assert rest.get(f"{base}/{rule['id']}")["rule"]["compare_type"] == "REGEX"
    rest.wait_lb(tree["lb"])
    rest.delete(f"{base}/{rule['id']}")


@pytest.mark.parametrize(
    ("policy", "named"),
    [
        (
            {
                "action": "REJECT",
                "rules": [{"type": "PATH", "compare_type": "REGEX", "value": "("}],
            },
            ("l7policies", "rules", "value"),
        ),
        ({"action": "REDIRECT_TO_POOL"}, ("l7policies", "redirect_pool_id")),
        (
            {"redirect_url": "http://x", "redirect_prefix": "http://y"},
            ("l7policies", "redirect_prefix", "at the same time"),
        ),
    ],
    ids=["rule-value", "action-without-target", "two-targets"],
)
def test_a_nested_policy_of_a_fully_populated_create_is_refused_naming_it(
    rest: Api, tree, policy, named
):
    before = len(rest.get("/v2/lbaas/loadbalancers")["loadbalancers"])
    body = {
        "loadbalancer": {
            "vip_subnet_id": tree["subnet"],
            "listeners": [{"protocol": "HTTP", "protocol_port": 80, "l7policies": [policy]}],
        }
    }
    response = rest.http.post("/v2/lbaas/loadbalancers", json=body)
    assert response.status_code == 400, response.text
    fault = response.json()["faultstring"]
    assert all(word in fault for word in named), fault
    assert len(rest.get("/v2/lbaas/loadbalancers")["loadbalancers"]) == before


def test_rules_given_with_a_policy_are_created_with_it(rest: Api, tree):
    """Octavia creates the rules of a policy create; they used to be dropped silently."""
    made = rest.post(
        "/v2/lbaas/l7policies",
        {
            "l7policy": {
                "listener_id": tree["listener"],
                "action": "REJECT",
                "rules": [
                    {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/a"},
                    {"type": "HEADER", "compare_type": "EQUAL_TO", "key": "X-A", "value": "b"},
                ],
            }
        },
    )["l7policy"]
    assert len(made["rules"]) == 2
    listed = rest.get(f"/v2/lbaas/l7policies/{made['id']}/rules")["rules"]
    assert sorted(r["type"] for r in listed) == ["HEADER", "PATH"]
    rest.wait_lb(tree["lb"])
    rest.delete(f"/v2/lbaas/l7policies/{made['id']}")


def test_an_update_giving_a_tcp_monitor_an_http_field_is_refused(rest: Api, tree):
    hm = rest.post(
        "/v2/lbaas/healthmonitors",
        {
            "healthmonitor": {
                "pool_id": tree["pool"],
                "type": "TCP",
                "delay": 5,
                "timeout": 3,
                "max_retries": 2,
            }
        },
    )["healthmonitor"]
    url = f"/v2/lbaas/healthmonitors/{hm['id']}"
    for change, field in (({"url_path": "/x"}, "url_path"), ({"domain_name": "a.example"}, "")):
        response = rest.http.put(url, json={"healthmonitor": change})
        assert response.status_code == 400, response.text
        assert (field or "domain_name") in response.json()["faultstring"]
    assert rest.get(url)["healthmonitor"]["url_path"] is None
    rest.wait_lb(tree["lb"])
    rest.delete(url)


def test_an_update_s_persistence_is_checked_against_the_pool_s_protocol(rest: Api, tree):
    url = f"/v2/lbaas/pools/{tree['pool']}"
    bad = {"type": "SOURCE_IP", "persistence_timeout": 5}
    response = rest.http.put(url, json={"pool": {"session_persistence": bad}})
    assert response.status_code == 400, response.text
    assert "session_persistence.persistence_timeout" in response.json()["faultstring"]
    assert rest.get(url)["pool"]["session_persistence"] is None


def test_an_update_is_checked_against_the_listener_as_it_is(rest: Api, tree):
    url = f"/v2/lbaas/listeners/{tree['listener']}"
    for change, field in (
        ({"hsts_max_age": 5}, "hsts_max_age"),
        ({"insert_headers": {"X-SSL-Client-CN": "true"}}, "insert_headers"),
        ({"insert_headers": {"X-Evil": "true"}}, "insert_headers"),
    ):
        response = rest.http.put(url, json={"listener": change})
        assert response.status_code == 400, response.text
        assert field in response.json()["faultstring"]
    shown = rest.get(url)["listener"]
    assert shown["hsts_max_age"] is None and shown["insert_headers"] == {}
