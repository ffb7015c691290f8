"""Bad input is refused with 400 naming the field, and nothing reaches the orchestrator."""

from __future__ import annotations

import uuid

import pytest

SUBNET = str(uuid.UUID(int=2))
ANY_ID = str(uuid.UUID(int=99))

LB = {"vip_subnet_id": SUBNET}
LISTENER = {"loadbalancer_id": ANY_ID, "protocol": "HTTP", "protocol_port": 80}
POOL = {"loadbalancer_id": ANY_ID, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
MEMBER = {"address": "192.0.2.1", "protocol_port": 80}
HM = {"pool_id": ANY_ID, "type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3}


def _with(base: dict, **changes) -> dict:
    out = dict(base)
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key)
        else:
            out[key] = value
    return out


_DROP = object()

CASES = [
    # (path, root, body, field named, extra text expected)
    ("loadbalancers", "loadbalancer", {}, "vip_subnet_id", "VIP must contain"),
    (
        "loadbalancers",
        "loadbalancer",
        _with(LB, vip_subnet_id="not-a-uuid"),
        "vip_subnet_id",
        "UUID",
    ),
    ("loadbalancers", "loadbalancer", _with(LB, vip_address="10.0.0.300"), "vip_address", "IP"),
    ("loadbalancers", "loadbalancer", _with(LB, bogus=1), "bogus", "Unknown attribute"),
    ("loadbalancers", "loadbalancer", _with(LB, name="x" * 256), "name", "255"),
    (
        "loadbalancers",
        "loadbalancer",
        _with(LB, admin_state_up="sure"),
        "admin_state_up",
        "boolean",
    ),
    ("loadbalancers", "loadbalancer", _with(LB, tags=["ok", 3]), "tags", "string"),
    (
        "listeners",
        "listener",
        _with(LISTENER, protocol_port=70000),
        "protocol_port",
        "Value: '70000'. Value must be between 1 and 65535.",
    ),
    ("listeners", "listener", _with(LISTENER, protocol_port="80.0"), "protocol_port", "integer"),
    (
        "listeners",
        "listener",
        _with(LISTENER, protocol=_DROP),
        "protocol",
        "Mandatory field missing",
    ),
    (
        "listeners",
        "listener",
        _with(LISTENER, protocol=None),
        "protocol",
        "Mandatory field missing",
    ),
    ("listeners", "listener", _with(LISTENER, loadbalancer_id="abc"), "loadbalancer_id", "UUID"),
    ("listeners", "listener", _with(LISTENER, connection_limit=-2), "connection_limit", "-1"),
    (
        "listeners",
        "listener",
        _with(LISTENER, timeout_client_data=31536001),
        "timeout_client_data",
        "31536000",
    ),
    (
        "listeners",
        "listener",
        _with(LISTENER, allowed_cidrs=["10.0.0.0/33"]),
        "allowed_cidrs",
        "CIDR",
    ),
    ("pools", "pool", _with(POOL, loadbalancer_id=_DROP), "loadbalancer_id", "listener_id"),
    (
        "pools",
        "pool",
        _with(POOL, session_persistence={"type": "APP_COOKIE", "cookie_name": "a b"}),
        "session_persistence.cookie_name",
        "",
    ),
    (f"pools/{ANY_ID}/members", "member", _with(MEMBER, address="nope"), "address", "IP"),
    (f"pools/{ANY_ID}/members", "member", _with(MEMBER, address=_DROP), "address", "Mandatory"),
    (f"pools/{ANY_ID}/members", "member", _with(MEMBER, weight=257), "weight", "between 0 and 256"),
    (
        f"pools/{ANY_ID}/members",
        "member",
        _with(MEMBER, monitor_port=0),
        "monitor_port",
        "between 1 and 65535",
    ),
    (f"pools/{ANY_ID}/members", "member", _with(MEMBER, subnet_id="x"), "subnet_id", "UUID"),
    (
        "healthmonitors",
        "healthmonitor",
        _with(HM, max_retries=11),
        "max_retries",
        "between 1 and 10",
    ),
    (
        "healthmonitors",
        "healthmonitor",
        _with(HM, max_retries_down=0),
        "max_retries_down",
        "between 1 and 10",
    ),
    ("healthmonitors", "healthmonitor", _with(HM, delay=_DROP), "delay", "Mandatory"),
    ("healthmonitors", "healthmonitor", _with(HM, url_path="/a b"), "url_path", ""),
    ("healthmonitors", "healthmonitor", _with(HM, url_path="/ok\nX-Injected: 1"), "url_path", ""),
    ("healthmonitors", "healthmonitor", _with(HM, url_path='/"quote'), "url_path", ""),
    ("healthmonitors", "healthmonitor", _with(HM, url_path="no-slash"), "url_path", ""),
    ("healthmonitors", "healthmonitor", _with(HM, expected_codes="200\n"), "expected_codes", ""),
    ("healthmonitors", "healthmonitor", _with(HM, expected_codes="200, 201"), "expected_codes", ""),
    ("healthmonitors", "healthmonitor", _with(HM, expected_codes="2000"), "expected_codes", ""),
    ("healthmonitors", "healthmonitor", _with(HM, http_version=2.0), "http_version", "1.0, 1.1"),
    (
        "healthmonitors",
        "healthmonitor",
        _with(HM, http_version=1.1, domain_name="a b.com"),
        "domain_name",
        "",
    ),
    (
        "listeners",
        "listener",
        _with(LISTENER, insert_headers={"X-Forwarded-For": "true\n"}),
        "insert_headers",
        "control",
    ),
]


# Values a rule of the orchestrator refuses (option lists and the like, domain/rules.py): its
# alone; the gateway passes them on (tests/compat/test_rules_through_services.py sends these same
# cases through the real services).
ORCHESTRATOR_CASES = [
    ("loadbalancers", "loadbalancer", _with(LB, provider="f5"), "provider", "amphora"),
    (
        "listeners",
        "listener",
        _with(LISTENER, protocol="FTP"),
        "protocol",
        "HTTP, HTTPS, TCP, TERMINATED_HTTPS, UDP, SCTP, PROMETHEUS",
    ),
    (
        "pools",
        "pool",
        _with(POOL, lb_algorithm="RANDOM"),
        "lb_algorithm",
        "ROUND_ROBIN, LEAST_CONNECTIONS",
    ),
    ("pools", "pool", _with(POOL, protocol="FTP"), "protocol", "PROXYV2"),
    (
        "pools",
        "pool",
        _with(POOL, session_persistence={"type": "NOPE"}),
        "session_persistence.type",
        "SOURCE_IP",
    ),
    (
        "healthmonitors",
        "healthmonitor",
        _with(HM, type="ICMP"),
        "type",
        "TLS-HELLO, UDP-CONNECT, SCTP",
    ),
    ("healthmonitors", "healthmonitor", _with(HM, http_method="FETCH"), "http_method", "GET"),
    (
        "healthmonitors",
        "healthmonitor",
        _with(HM, domain_name="example.com"),
        "http_version",
        "1.1",
    ),
    (
        "healthmonitors",
        "healthmonitor",
        _with(HM, type="TCP", url_path="/"),
        "url_path",
        "type TCP",
    ),
    (
        "pools",
        "pool",
        _with(POOL, session_persistence={"type": "APP_COOKIE"}),
        "session_persistence.cookie_name",
        "",
    ),
    (
        "listeners",
        "listener",
        _with(LISTENER, insert_headers={"X-Evil": "true"}),
        "insert_headers",
        "X-Evil",
    ),
]


@pytest.mark.parametrize(("path", "root", "body", "field", "text"), CASES)
def test_bad_create_is_400_naming_field_and_not_sent(client, orch, path, root, body, field, text):
    r = client.post(f"/v2/lbaas/{path}", json={root: body})
    assert r.status_code == 400, r.text
    fault = r.json()
    assert fault["faultcode"] == "Client" and fault["debuginfo"] is None
    assert f"Invalid input for field/attribute {field}." in fault["faultstring"], fault
    assert text in fault["faultstring"]
    assert orch.writes == []


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"listener": {}}', "loadbalancer"),
        (
            b'{"loadbalancer": {"vip_subnet_id": "' + SUBNET.encode() + b'"}, "x": 1}',
            "Unknown argument: x",
        ),
        (b'{"loadbalancer": []}', "loadbalancer"),
        (b"[]", "loadbalancer"),
    ],
)
def test_malformed_bodies(client, orch, body, needle):
    r = client.post(
        "/v2/lbaas/loadbalancers", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and needle in r.json()["faultstring"]
    assert orch.writes == []


def test_bad_update_not_sent(client, orch, lb):
    before = len(orch.writes)
    r = client.put(
        f"/v2/lbaas/loadbalancers/{lb['id']}", json={"loadbalancer": {"vip_subnet_id": SUBNET}}
    )
    assert r.status_code == 400 and "vip_subnet_id" in r.json()["faultstring"]
    assert len(orch.writes) == before


def test_tls_options_are_passed_through_not_refused(client, orch, lb):
    body = {
        "listener": _with(
            LISTENER,
            loadbalancer_id=lb["id"],
            protocol="TERMINATED_HTTPS",
            default_tls_container_ref="https://barbican/v1/containers/abc",
        )
    }
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 201, r.text
    sent = orch.writes[-1][1].listener
    assert sent.default_tls_container_ref == "https://barbican/v1/containers/abc"


def test_children_of_a_standalone_create_have_no_contract(client, orch):
    body = {"listener": _with(LISTENER, default_pool={"protocol": "HTTP"})}
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 501 and "default_pool" in r.json()["faultstring"]
    assert orch.writes == []


def test_octavia_defaults_accepted_for_unsupported_options(client, lb):
    body = {
        "listener": _with(
            LISTENER,
            loadbalancer_id=lb["id"],
            client_authentication="NONE",
            sni_container_refs=[],
            default_tls_container_ref=None,
            l7policies=[],
        )
    }
    assert client.post("/v2/lbaas/listeners", json=body).status_code == 201


@pytest.mark.parametrize(("path", "root", "body", "field", "text"), ORCHESTRATOR_CASES)
def test_rule_values_are_left_to_the_orchestrator(client, orch, path, root, body, field, text):
    """The gateway holds no option list: a well-shaped value outside one reaches the
    orchestrator (here the in-memory one), which owns the list and the 400."""
    client.post(f"/v2/lbaas/{path}", json={root: body})
    assert orch.calls, "the gateway refused an option value itself"
