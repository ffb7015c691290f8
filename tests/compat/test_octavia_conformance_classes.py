"""What Octavia's own API suite (octavia-tempest-plugin, `make conformance`) found different, one
test per class, so a regression shows in `make test` without the conformance run:

* another project's object is a 403 with Octavia's policy text, before anything else (a missing
  one stays a 404), and its data never leaves;
* an option the provider cannot do is Octavia's 501 "Provider 'amphora' does not support a
  requested option: ...";
* a pool no listener uses is OFFLINE; a health monitor's operating status follows its
  admin_state_up when a change to it is applied;
* allowed_cidrs of another IP version than every VIP is a 400 naming the field;
* a health monitor whose timeout exceeds its delay is accepted (Octavia makes no such check).

Against the launcher's stack (noop compute: amphorae are records, so statuses come from the
reconcile pass alone, with no heartbeat to change them afterwards).
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.api import Api
from tests.support.stack import RunningStack

FORBIDDEN = "Policy does not allow this request to be performed."
OTHER_PROJECT = "c0ffee00c0ffee00c0ffee00c0ffee00"


@pytest.fixture(scope="module")
def admin(rest: Api) -> Api:
    """The admin's REST client (conftest's)."""
    return rest


@pytest.fixture(scope="module")
def member(noop_stack: RunningStack):
    """A member-role caller of the demo project."""
    client = Api(noop_stack.api_url, noop_stack.token("member"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def subnet(admin: Api) -> str:
    return admin.get("/v2.0/subnets")["subnets"][0]["id"]


@pytest.fixture(scope="module")
def foreign(admin: Api, subnet: str) -> dict[str, str]:
    """A load balancer of another project with one object of every kind under it."""
    lb = admin.post(
        "/v2/lbaas/loadbalancers",
        {
            "loadbalancer": {
                "name": "foreign",
                "vip_subnet_id": subnet,
                "project_id": OTHER_PROJECT,
                "listeners": [
                    {
                        "name": "l",
                        "protocol": "HTTP",
                        "protocol_port": 80,
                        "l7policies": [
                            {
                                "action": "REJECT",
                                "rules": [
                                    {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/x"}
                                ],
                            }
                        ],
                        "default_pool": {
                            "name": "p",
                            "protocol": "HTTP",
                            "lb_algorithm": "ROUND_ROBIN",
                            "members": [{"address": "127.0.0.9", "protocol_port": 8080}],
                            "healthmonitor": {
                                "type": "HTTP",
                                "delay": 5,
                                "timeout": 3,
                                "max_retries": 2,
                            },
                        },
                    }
                ],
            }
        },
    )["loadbalancer"]
    admin.wait_lb(lb["id"])
    listener = admin.get(f"/v2/lbaas/listeners?loadbalancer_id={lb['id']}")["listeners"][0]
    pool = admin.get(f"/v2/lbaas/pools?loadbalancer_id={lb['id']}")["pools"][0]
    policy = admin.get(f"/v2/lbaas/l7policies?listener_id={listener['id']}")["l7policies"][0]
    return {
        "lb": lb["id"],
        "listener": listener["id"],
        "pool": pool["id"],
        "member": pool["members"][0]["id"],
        "hm": pool["healthmonitor_id"],
        "policy": policy["id"],
        "rule": policy["rules"][0]["id"],
        "vip_address": lb["vip_address"],
    }


def _paths(ids: dict[str, str]) -> dict[str, str]:
    return {
        "lb": f"/v2/lbaas/loadbalancers/{ids['lb']}",
        "listener": f"/v2/lbaas/listeners/{ids['listener']}",
        "pool": f"/v2/lbaas/pools/{ids['pool']}",
        "member": f"/v2/lbaas/pools/{ids['pool']}/members/{ids['member']}",
        "hm": f"/v2/lbaas/healthmonitors/{ids['hm']}",
        "policy": f"/v2/lbaas/l7policies/{ids['policy']}",
        "rule": f"/v2/lbaas/l7policies/{ids['policy']}/rules/{ids['rule']}",
    }


def _assert_forbidden(response: httpx.Response, secret_id: str = "") -> None:
    assert response.status_code == 403, (response.request.method, response.url, response.text)
    body = response.json()
    assert body["faultstring"] == FORBIDDEN, body
    assert body["faultcode"] == "Client"
    if secret_id:
        assert "foreign" not in response.text


def test_another_projects_objects_are_403_and_missing_ones_404(member: Api, foreign: dict):
    paths = _paths(foreign)
    for kind, path in paths.items():
        _assert_forbidden(member.http.get(path), kind)
        update = {"name": "mine"} if kind != "rule" else {"value": "/y"}
        root = {
            "lb": "loadbalancer",
            "hm": "healthmonitor",
            "policy": "l7policy",
            "rule": "rule",
        }.get(kind, kind)
        _assert_forbidden(member.http.put(path, json={root: update}))
        _assert_forbidden(member.http.delete(path))
    # Listing the children of another project's pool or policy, and its status and stats.
    _assert_forbidden(member.http.get(f"/v2/lbaas/pools/{foreign['pool']}/members"))
    _assert_forbidden(member.http.get(f"/v2/lbaas/l7policies/{foreign['policy']}/rules"))
    _assert_forbidden(member.http.get(f"{paths['lb']}/status"))
    _assert_forbidden(member.http.get(f"{paths['lb']}/stats"))
    # Creating under another project's parent.
    listener = {"loadbalancer_id": foreign["lb"], "protocol": "TCP", "protocol_port": 81}
    _assert_forbidden(member.http.post("/v2/lbaas/listeners", json={"listener": listener}))
    pool = {"loadbalancer_id": foreign["lb"], "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}
    _assert_forbidden(member.http.post("/v2/lbaas/pools", json={"pool": pool}))
    new_member = {"address": "127.0.0.10", "protocol_port": 80}
    _assert_forbidden(
        member.http.post(f"/v2/lbaas/pools/{foreign['pool']}/members", json={"member": new_member})
    )
    # A missing object is still a 404, for everyone.
    missing = str(uuid.uuid4())
    for path in (f"/v2/lbaas/loadbalancers/{missing}", f"/v2/lbaas/pools/{missing}"):
        response = member.http.get(path)
        assert response.status_code == 404, response.text
    # Lists never show another project's objects.
    listed = member.get("/v2/lbaas/loadbalancers")["loadbalancers"]
    assert foreign["lb"] not in {lb["id"] for lb in listed}


def test_unsupported_option_is_octavias_501(admin: Api, foreign: dict):
    """The haproxy renderer does no UDP or SCTP (yet): Octavia's 501 for the provider."""
    for protocol in ("UDP", "SCTP"):
        listener = {"loadbalancer_id": foreign["lb"], "protocol": protocol, "protocol_port": 53}
        response = admin.http.post("/v2/lbaas/listeners", json={"listener": listener})
        assert response.status_code == 501, response.text
        body = response.json()
        assert body["faultstring"].startswith(
            "Provider 'amphora' does not support a requested option: "
        ), body
        assert protocol in body["faultstring"]
        pool = {
            "loadbalancer_id": foreign["lb"],
            "protocol": protocol,
            "lb_algorithm": "ROUND_ROBIN",
        }
        response = admin.http.post("/v2/lbaas/pools", json={"pool": pool})
        assert response.status_code == 501, response.text
    # A parent that does not exist is a 404 first, as in Octavia (the provider is not asked).
    listener = {"loadbalancer_id": str(uuid.uuid4()), "protocol": "UDP", "protocol_port": 53}
    response = admin.http.post("/v2/lbaas/listeners", json={"listener": listener})
    assert response.status_code == 404, response.text


def test_pool_no_listener_reaches_is_offline(admin: Api, subnet: str):
    """Octavia: a pool on the load balancer alone is in no running config: OFFLINE, members or
    not; one a listener uses is ONLINE, even without members."""
    lb = admin.post("/v2/lbaas/loadbalancers", {"loadbalancer": {"vip_subnet_id": subnet}})
    lb_id = lb["loadbalancer"]["id"]
    admin.wait_lb(lb_id)
    listener = admin.post(
        "/v2/lbaas/listeners",
        {"listener": {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 80}},
    )["listener"]
    base = {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
    alone = admin.post("/v2/lbaas/pools", {"pool": {**base, "loadbalancer_id": lb_id}})["pool"]
    full = admin.post(
        "/v2/lbaas/pools",
        {
            "pool": {
                **base,
                "loadbalancer_id": lb_id,
                "members": [{"address": "127.0.0.11", "protocol_port": 80}],
            }
        },
    )["pool"]
    used = admin.post("/v2/lbaas/pools", {"pool": {**base, "listener_id": listener["id"]}})["pool"]
    admin.wait_lb(lb_id)

    def operating(pool: dict) -> str:
        return admin.get(f"/v2/lbaas/pools/{pool['id']}")["pool"]["operating_status"]

    assert (operating(alone), operating(full), operating(used)) == ("OFFLINE", "OFFLINE", "ONLINE")

    # A health monitor's operating status follows its admin_state_up as changes are applied.
    hm = admin.post(
        "/v2/lbaas/healthmonitors",
        {
            "healthmonitor": {
                "pool_id": full["id"],
                "type": "TCP",
                "delay": 2,
                # timeout > delay: accepted, as Octavia does.
                "timeout": 3,
                "max_retries": 3,
                "admin_state_up": False,
            }
        },
    )["healthmonitor"]
    admin.wait_lb(lb_id)
    shown = admin.get(f"/v2/lbaas/healthmonitors/{hm['id']}")["healthmonitor"]
    assert (shown["operating_status"], shown["timeout"], shown["delay"]) == ("OFFLINE", 3, 2)
    admin.put(f"/v2/lbaas/healthmonitors/{hm['id']}", {"healthmonitor": {"admin_state_up": True}})
    admin.wait_lb(lb_id)
    shown = admin.get(f"/v2/lbaas/healthmonitors/{hm['id']}")["healthmonitor"]
    assert shown["operating_status"] == "ONLINE"
    admin.delete(f"/v2/lbaas/loadbalancers/{lb_id}?cascade=true")


def test_allowed_cidrs_must_match_a_vip_ip_version(admin: Api, foreign: dict):
    assert ":" not in foreign["vip_address"]  # the loopback network is IPv4
    base = {"loadbalancer_id": foreign["lb"], "protocol": "TCP", "protocol_port": 90}
    for cidrs in (["2001:db8::/64"], ["192.0.2.0/24", "2001:db8:a0b:12f0::/64"]):
        response = admin.http.post(
            "/v2/lbaas/listeners", json={"listener": {**base, "allowed_cidrs": cidrs}}
        )
        assert response.status_code == 400, response.text
        assert "allowed_cidrs" in response.json()["faultstring"]
        assert "IP version" in response.json()["faultstring"]
    made = admin.post(
        "/v2/lbaas/listeners", {"listener": {**base, "allowed_cidrs": ["192.0.2.0/24"]}}
    )
    listener_id = made["listener"]["id"]
    response = admin.http.put(
        f"/v2/lbaas/listeners/{listener_id}",
        json={"listener": {"allowed_cidrs": ["2001:db8::/64"]}},
    )
    assert response.status_code == 400, response.text
    shown = admin.get(f"/v2/lbaas/listeners/{listener_id}")["listener"]
    assert shown["allowed_cidrs"] == ["192.0.2.0/24"]
    admin.wait_lb(foreign["lb"])
    admin.delete(f"/v2/lbaas/listeners/{listener_id}")


def test_every_resource_carries_tenant_id_beside_project_id(admin: Api, foreign: dict):
    """Octavia still returns the deprecated tenant_id on every resource, children included."""
    for kind, path in _paths(foreign).items():
        body = admin.get(path)
        (view,) = body.values()
        assert view["tenant_id"] == view["project_id"] == OTHER_PROJECT, (kind, view)
    # The children nested in a fully populated create's answer too.
    lb = admin.post(
        "/v2/lbaas/loadbalancers",
        {
            "loadbalancer": {
                "vip_subnet_id": admin.get("/v2.0/subnets")["subnets"][0]["id"],
                "listeners": [{"name": "l", "protocol": "TCP", "protocol_port": 80}],
                "pools": [{"name": "p", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}],
            }
        },
    )["loadbalancer"]
    for child in (*lb["listeners"], *lb["pools"]):
        assert child["tenant_id"] == child["project_id"] == lb["project_id"], child
    admin.wait_lb(lb["id"])
    # Children and no cascade: Octavia's 400, not a 409.
    response = admin.http.delete(f"/v2/lbaas/loadbalancers/{lb['id']}")
    assert response.status_code == 400, response.text
    assert response.json()["faultstring"].endswith("it has children")
    admin.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")


def test_an_ipv6_zone_is_refused_where_an_address_is_asked(admin: Api, foreign: dict):
    """ "fe80::1%eth0" parses as an address in Python, but no config can use it: it was accepted,
    then the renderer refused it and the load balancer went to ERROR. Now a 400 naming the field."""
    pool = f"/v2/lbaas/pools/{foreign['pool']}/members"
    for extra, field in (
        ({"address": "fe80::1%eth0"}, "address"),
        ({"address": "127.0.0.12", "monitor_address": "fe80::1%25lo"}, "monitor_address"),
    ):
        body = {"member": {"protocol_port": 80, **extra}}
        response = admin.http.post(pool, json=body)
        assert response.status_code == 400, response.text
        assert field in response.json()["faultstring"], response.text
    assert admin.lb(foreign["lb"])["provisioning_status"] != "ERROR"
