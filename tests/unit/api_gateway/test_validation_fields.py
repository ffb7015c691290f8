"""New fields (TLS, persistence, L7, members, VIPs): a bad value is a 400 naming the field and
nothing is written; values that would reach a config are held to safe shapes."""

from __future__ import annotations

import uuid

import pytest

ANY_ID = str(uuid.UUID(int=99))
SUBNET = str(uuid.UUID(int=2))
TLS = {
    "loadbalancer_id": ANY_ID,
    "protocol": "TERMINATED_HTTPS",
    "protocol_port": 443,
    "default_tls_container_ref": "https://kms/v1/containers/a",
}
HTTP = {"loadbalancer_id": ANY_ID, "protocol": "HTTP", "protocol_port": 80}
POOL = {"loadbalancer_id": ANY_ID, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
POLICY = {"listener_id": ANY_ID, "action": "REJECT"}
RULE = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}


def _w(base: dict, **changes) -> dict:
    return {**base, **changes}


CASES = [
    (
        "listeners",
        "listener",
        _w(TLS, default_tls_container_ref="a b"),
        "default_tls_container_ref",
    ),
    (
        "listeners",
        "listener",
        _w(TLS, default_tls_container_ref='a"b'),
        "default_tls_container_ref",
    ),
    ("listeners", "listener", _w(TLS, sni_container_refs=["ok", "x\ny"]), "sni_container_refs"),
    ("listeners", "listener", _w(TLS, tls_ciphers="AES128 SHA"), "tls_ciphers"),
    ("listeners", "listener", _w(TLS, tls_ciphers="AES\nbind :1"), "tls_ciphers"),
    ("listeners", "listener", _w(TLS, hsts_max_age=-1), "hsts_max_age"),
    ("listeners", "listener", _w(HTTP, allowed_cidrs=["10.0.0.1"]), "allowed_cidrs"),
    ("pools", "pool", _w(POOL, tls_enabled="maybe"), "tls_enabled"),
    ("pools", "pool", _w(POOL, tls_container_ref="a'b"), "tls_container_ref"),
    (
        "pools",
        "pool",
        _w(POOL, session_persistence={"type": "APP_COOKIE", "cookie_name": "a;b"}),
        "session_persistence.cookie_name",
    ),
    (
        f"pools/{ANY_ID}/members",
        "member",
        {"address": "192.0.2.1", "protocol_port": 80, "request_sriov": 2},
        "request_sriov",
    ),
    (
        f"pools/{ANY_ID}/members",
        "member",
        {"address": "192.0.2.1", "protocol_port": 80, "backup": "No "},
        "backup",
    ),
    (
        f"pools/{ANY_ID}/members",
        "member",
        {"address": "192.0.2.1", "protocol_port": 80, "monitor_address": "x"},
        "monitor_address",
    ),
    (
        "loadbalancers",
        "loadbalancer",
        {"vip_subnet_id": SUBNET, "additional_vips": [{"ip_address": "10.0.0.1"}]},
        "additional_vips.subnet_id",
    ),
    (
        "loadbalancers",
        "loadbalancer",
        {"vip_subnet_id": SUBNET, "additional_vips": [{"subnet_id": SUBNET, "ip_address": "x"}]},
        "additional_vips.ip_address",
    ),
    (
        "loadbalancers",
        "loadbalancer",
        {"vip_subnet_id": SUBNET, "vip_sg_ids": ["nope"]},
        "vip_sg_ids",
    ),
    (
        "loadbalancers",
        "loadbalancer",
        {"vip_subnet_id": SUBNET, "vip_vnic_type": "direct"},
        "vip_vnic_type",
    ),
    ("l7policies", "l7policy", _w(POLICY, listener_id=None), "listener_id"),
    (
        "l7policies",
        "l7policy",
        _w(POLICY, action="REDIRECT_TO_URL", redirect_url="ftp://x"),
        "redirect_url",
    ),
    (
        "l7policies",
        "l7policy",
        _w(POLICY, action="REDIRECT_TO_URL", redirect_url="http://x/a b"),
        "redirect_url",
    ),
    (
        "l7policies",
        "l7policy",
        _w(POLICY, action="REDIRECT_TO_URL", redirect_url="http://x/\r\nSet-Cookie:a"),
        "redirect_url",
    ),
    (
        "l7policies",
        "l7policy",
        _w(POLICY, action="REDIRECT_TO_URL", redirect_url='http://x/"'),
        "redirect_url",
    ),
    ("l7policies", "l7policy", _w(POLICY, position=0), "position"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, value=None), "value"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, invert="truthy"), "invert"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, name="r"), "name"),
]


# Values a rule of the orchestrator refuses (option lists, and per-type and renderability rules,
# domain/rules.py): its alone; the gateway checks only their shape and passes them on
# (tests/compat/test_rules_through_services.py sends these same cases through the real services).
ORCHESTRATOR_CASES = [
    ("l7policies", "l7policy", _w(POLICY, action="REDIRECT_TO_URL"), "redirect_url"),
    ("l7policies", "l7policy", _w(POLICY, action="REDIRECT_TO_POOL"), "redirect_pool_id"),
    ("l7policies", "l7policy", _w(POLICY, action="REDIRECT_PREFIX"), "redirect_prefix"),
    (
        "l7policies",
        "l7policy",
        _w(POLICY, redirect_url="http://x", redirect_pool_id=ANY_ID, action=None),
        "redirect_url",
    ),
    (
        "listeners",
        "listener",
        _w(TLS, client_authentication="SOMETIMES", client_ca_tls_container_ref="https://kms/ca"),
        "client_authentication",
    ),
    ("listeners", "listener", _w(TLS, tls_versions=["TLSv1.4"]), "tls_versions"),
    ("listeners", "listener", _w(TLS, alpn_protocols=["spdy/3"]), "alpn_protocols"),
    ("pools", "pool", _w(POOL, tls_versions=["SSLv2"]), "tls_versions"),
    ("pools", "pool", _w(POOL, alpn_protocols=["h3"]), "alpn_protocols"),
    ("l7policies", "l7policy", _w(POLICY, action="DROP"), "action"),
    (
        "l7policies",
        "l7policy",
        _w(POLICY, action="REDIRECT_TO_URL", redirect_url="http://x", redirect_http_code=304),
        "redirect_http_code",
    ),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, type="BODY"), "type"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, compare_type="LIKE"), "compare_type"),
    ("l7policies", "l7policy", _w(POLICY, rules=[_w(RULE, value="a b")]), "rules.value"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, value="/a b"), "value"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, value='/a"'), "value"),
    (
        f"l7policies/{ANY_ID}/rules",
        "rule",
        _w(RULE, compare_type="REGEX", value="(unclosed"),
        "value",
    ),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, compare_type="REGEX", value="a b"), "value"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, type="HEADER"), "key"),
    (f"l7policies/{ANY_ID}/rules", "rule", _w(RULE, type="HEADER", key="X Y"), "key"),
    (
        f"l7policies/{ANY_ID}/rules",
        "rule",
        _w(RULE, type="COOKIE", key="sid", value="a,b"),
        "value",
    ),
    (
        f"l7policies/{ANY_ID}/rules",
        "rule",
        _w(RULE, type="FILE_TYPE", compare_type="CONTAINS"),
        "compare_type",
    ),
    (
        f"l7policies/{ANY_ID}/rules",
        "rule",
        {"type": "SSL_CONN_HAS_CERT", "compare_type": "EQUAL_TO", "value": "no"},
        "value",
    ),
    (
        f"l7policies/{ANY_ID}/rules",
        "rule",
        {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "x"},
        "value",
    ),
    (
        f"l7policies/{ANY_ID}/rules",
        "rule",
        {"type": "SSL_VERIFY_RESULT", "compare_type": "EQUAL_TO", "value": "0", "key": "k"},
        "key",
    ),
    (
        f"l7policies/{ANY_ID}/rules",
        "rule",
        {"type": "SSL_DN_FIELD", "compare_type": "EQUAL_TO", "value": "x", "key": "1CN"},
        "key",
    ),
    (
        "pools",
        "pool",
        _w(POOL, session_persistence={"type": "SOURCE_IP", "persistence_timeout": 5}),
        "session_persistence.persistence_timeout",
    ),
    (
        "pools",
        "pool",
        _w(POOL, protocol="UDP", session_persistence={"type": "HTTP_COOKIE"}),
        "session_persistence.type",
    ),
    (
        "pools",
        "pool",
        _w(POOL, session_persistence={"type": "HTTP_COOKIE", "cookie_name": "c"}),
        "session_persistence.cookie_name",
    ),
    ("listeners", "listener", _w(TLS, default_tls_container_ref=None), "default_tls_container_ref"),
    (
        "listeners",
        "listener",
        _w(TLS, client_authentication="MANDATORY"),
        "client_ca_tls_container_ref",
    ),
    ("listeners", "listener", _w(TLS, client_crl_container_ref="crl"), "client_crl_container_ref"),
    ("listeners", "listener", _w(TLS, hsts_preload=True), "hsts_max_age"),
    (
        "listeners",
        "listener",
        _w(HTTP, default_tls_container_ref="ref"),
        "default_tls_container_ref",
    ),
    ("listeners", "listener", _w(HTTP, hsts_max_age=10), "hsts_max_age"),
    ("listeners", "listener", _w(HTTP, tls_versions=["TLSv1.2"]), "tls_versions"),
    (
        "listeners",
        "listener",
        _w(HTTP, insert_headers={"X-SSL-Client-CN": "true"}),
        "insert_headers",
    ),
    (
        "listeners",
        "listener",
        _w(HTTP, protocol="TCP", insert_headers={"X-Forwarded-For": "true"}),
        "insert_headers",
    ),
    ("pools", "pool", _w(POOL, crl_container_ref="crl"), "crl_container_ref"),
]


@pytest.mark.parametrize(("path", "root", "body", "field"), CASES)
def test_bad_new_field_is_400_naming_it_and_not_sent(client, orch, path, root, body, field):
    r = client.post(f"/v2/lbaas/{path}", json={root: body})
    assert r.status_code == 400, r.text
    fault = r.json()
    assert fault["faultcode"] == "Client" and fault["debuginfo"] is None
    assert f"Invalid input for field/attribute {field}." in fault["faultstring"], fault
    assert orch.writes == []


def test_batch_member_errors_name_the_field(client, orch, pool):
    before = len(orch.writes)
    url = f"/v2/lbaas/pools/{pool['id']}/members"
    bad = {
        "members": [
            {"address": "192.0.2.1", "protocol_port": 80},
            {"address": "x", "protocol_port": 80},
        ]
    }
    r = client.put(url, json=bad)
    assert r.status_code == 400 and "members.address" in r.json()["faultstring"]
    dup = {"members": [{"address": "192.0.2.1", "protocol_port": 80}] * 2}
    r = client.put(url, json=dup)
    assert r.status_code == 400 and "members" in r.json()["faultstring"]
    r = client.put(url, json={"members": [{"address": "192.0.2.1", "protocol_port": 80, "x": 1}]})
    assert r.status_code == 400 and "members.x" in r.json()["faultstring"]
    r = client.put(url, json={"member": []})
    assert r.status_code == 400
    assert len(orch.writes) == before


# A TLS option given to an HTTP listener by an update is the orchestrator's to refuse, on the
# listener as the update leaves it: tests/compat/test_rules_through_services.py.


def test_orchestrator_field_error_reaches_the_tenant(client, orch, lb):
    """L7 policies on a TCP listener are refused by the orchestrator (here its fake)."""
    li = client.post(
        "/v2/lbaas/listeners",
        json={"listener": _w(HTTP, loadbalancer_id=lb["id"], protocol="TCP")},
    ).json()["listener"]
    r = client.post("/v2/lbaas/l7policies", json={"l7policy": _w(POLICY, listener_id=li["id"])})
    assert r.status_code == 400 and r.json()["faultcode"] == "Client"
    assert "L7 policies" in r.json()["faultstring"]


@pytest.mark.parametrize(("path", "root", "body", "field"), ORCHESTRATOR_CASES)
def test_rule_values_are_left_to_the_orchestrator(client, orch, path, root, body, field):
    client.post(f"/v2/lbaas/{path}", json={root: body})
    assert orch.calls, "the gateway refused an option value itself"
