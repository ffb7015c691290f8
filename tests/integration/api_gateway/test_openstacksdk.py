"""openstacksdk (admin_token auth) discovers and drives the gateway: load-balancer and network."""

from __future__ import annotations

import httpx
import openstack
import pytest

ADMIN_TOKEN = "integration-admin"
USER_TOKEN = "integration-user"
SUBNET_ID = "00000000-0000-0000-0000-00000000000c"


def _connect(url: str, token: str) -> openstack.connection.Connection:
    # The same shape as a clouds.yaml entry: auth_type admin_token, auth {token, endpoint}.
    return openstack.connection.Connection(
        auth_type="admin_token", auth={"token": token, "endpoint": url}, region_name="RegionOne"
    )


@pytest.fixture
def conn(gateway_url: str) -> openstack.connection.Connection:
    c = _connect(gateway_url, USER_TOKEN)
    yield c
    c.close()


def test_network_discovery_and_find_subnet(conn):
    subnet = conn.network.find_subnet("lb-subnet")
    assert subnet is not None and subnet.id == SUBNET_ID and subnet.cidr == "127.0.0.0/8"
    assert conn.network.find_subnet(SUBNET_ID).name == "lb-subnet"
    assert conn.network.find_subnet("missing") is None
    nets = list(conn.network.networks(name="lb-net"))
    assert [n.subnet_ids for n in nets] == [[SUBNET_ID]]


def test_load_balancer_lifecycle(conn, memory):
    lb = conn.load_balancer.create_load_balancer(name="sdk-lb", vip_subnet_id=SUBNET_ID)
    assert lb.id and lb.provisioning_status == "PENDING_CREATE" and lb.vip_subnet_id == SUBNET_ID
    assert lb.project_id == "project-a"
    got = conn.load_balancer.get_load_balancer(lb.id)
    assert got.provisioning_status == "ACTIVE" and got.name == "sdk-lb"
    assert lb.id in [x.id for x in conn.load_balancer.load_balancers(name="sdk-lb")]
    assert conn.load_balancer.find_load_balancer("sdk-lb").id == lb.id

    listener = conn.load_balancer.create_listener(
        load_balancer_id=lb.id, protocol="HTTP", protocol_port=80
    )
    assert listener.connection_limit == -1 and listener.timeout_client_data == 50000
    pool = conn.load_balancer.create_pool(
        listener_id=listener.id, protocol="HTTP", lb_algorithm="ROUND_ROBIN"
    )
    member = conn.load_balancer.create_member(pool, address="127.0.0.2", protocol_port=8080)
    assert member.weight == 1 and member.backup is False
    hm = conn.load_balancer.create_health_monitor(
        pool_id=pool.id, type="HTTP", delay=5, timeout=3, max_retries=2
    )
    assert hm.url_path == "/" and hm.expected_codes == "200" and hm.max_retries_down == 3

    updated = conn.load_balancer.update_load_balancer(lb.id, name="renamed")
    assert updated.name == "renamed"
    assert [m.id for m in conn.load_balancer.members(pool)] == [member.id]

    conn.load_balancer.delete_load_balancer(lb.id, cascade=True)
    assert conn.load_balancer.find_load_balancer(lb.id) is None
    assert any(rpc == "DeleteLoadBalancer" and req.cascade for rpc, req in memory.writes)


def test_sdk_validation_error_surfaces_field(conn):
    with pytest.raises(openstack.exceptions.BadRequestException) as err:
        conn.load_balancer.create_listener(
            load_balancer_id=SUBNET_ID, protocol="HTTP", protocol_port=70000
        )
    assert "protocol_port" in str(err.value)


def test_root_document_and_raw_calls(gateway_url):
    doc = httpx.get(gateway_url + "/").json()
    assert doc["versions"][-1]["status"] == "CURRENT"
    r = httpx.get(gateway_url + "/v2/lbaas/loadbalancers")
    assert r.status_code == 401 and r.json()["faultcode"] == "Client"
    r = httpx.get(gateway_url + "/v2/lbaas/loadbalancers", headers={"X-Auth-Token": ADMIN_TOKEN})
    assert r.status_code == 200 and "loadbalancers_links" in r.json()


def test_keystoneauth_version_discovery_on_root(gateway_url):
    """Deployments behind Keystone discover from GET /: the v2 link must serve both APIs."""
    from keystoneauth1 import discover, session

    disc = discover.Discover(session.Session(), gateway_url + "/")
    url = disc.url_for("2.0")
    assert url == gateway_url + "/v2"
    headers = {"X-Auth-Token": USER_TOKEN}
    assert httpx.get(url + "/lbaas/loadbalancers", headers=headers).status_code == 200
    assert httpx.get(url + "/subnets", headers=headers).json()["subnets"][0]["id"] == SUBNET_ID
