"""Every load-balancing resource through openstacksdk (conn.load_balancer.*) against a real
stack on the noop compute driver: create / show / list (filters, sort, pagination, fields,
tags) / update / unset / delete, status tree, statistics, failover, batch member update and
cascade delete. Each step checks Octavia's documented fields and values."""

from __future__ import annotations

import openstack.exceptions
import pytest

from tests.support.api import Api, wait_for
from tests.support.osclients import unique

pytestmark = pytest.mark.compat

STATS_KEYS = {"active_connections", "bytes_in", "bytes_out", "request_errors", "total_connections"}


def active(conn, lb_id: str):
    return conn.load_balancer.wait_for_load_balancer(
        lb_id, status="ACTIVE", failures=["ERROR"], interval=0.1, wait=60
    )


@pytest.fixture(scope="module")
def lb(conn, subnet_id):
    created = conn.load_balancer.create_load_balancer(
        name=unique("sdk-lb"), vip_subnet_id=subnet_id, description="first", tags=["blue", "x"]
    )
    yield active(conn, created.id)
    try:
        conn.load_balancer.delete_load_balancer(created.id, cascade=True, ignore_missing=True)
    except openstack.exceptions.SDKException:
        pass


def test_load_balancer_create_show_update_unset(conn, subnet_id):
    name = unique("sdk-lb")
    created = conn.load_balancer.create_load_balancer(
        name=name, vip_subnet_id=subnet_id, description="d1", tags=["t1", "t2"]
    )
    assert created.provisioning_status == "PENDING_CREATE"
    assert created.operating_status == "OFFLINE"
    assert created.name == name and created.description == "d1"
    assert created.vip_subnet_id == subnet_id and created.vip_address
    assert created.is_admin_state_up is True
    assert sorted(created.tags) == ["t1", "t2"]
    assert created.provider
    lb = active(conn, created.id)
    assert lb.operating_status == "ONLINE"
    assert lb.vip_port_id and lb.vip_network_id
    assert lb.created_at

    updated = conn.load_balancer.update_load_balancer(
        lb.id, name=name + "-2", description="d2", is_admin_state_up=False, tags=["t3"]
    )
    assert updated.name == name + "-2" and updated.description == "d2"
    lb = active(conn, lb.id)
    assert lb.is_admin_state_up is False and lb.tags == ["t3"] and lb.updated_at
    assert conn.load_balancer.find_load_balancer(name + "-2").id == lb.id

    # `unset`: null resets a field to its default.
    conn.load_balancer.update_load_balancer(lb.id, description=None, tags=[])
    lb = active(conn, lb.id)
    assert lb.description in ("", None) and lb.tags == []

    conn.load_balancer.delete_load_balancer(lb.id)
    conn.load_balancer.wait_for_delete(lb, interval=0.1, wait=60)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.load_balancer.get_load_balancer(lb.id)


def test_load_balancer_list_filters_sort_pagination_fields_tags(conn, rest: Api, subnet_id):
    prefix = unique("page")
    ids = []
    for i, tags in enumerate([["a"], ["a", "b"], ["b"], ["c"], []]):
        lb = conn.load_balancer.create_load_balancer(
            name=f"{prefix}-{i}", vip_subnet_id=subnet_id, tags=tags, description=prefix
        )
        ids.append(lb.id)
    for i in ids:
        active(conn, i)

    mine = [x for x in conn.load_balancer.load_balancers(description=prefix)]
    assert sorted(x.id for x in mine) == sorted(ids)
    assert [x.id for x in conn.load_balancer.load_balancers(name=f"{prefix}-3")] == [ids[3]]

    # SDK pagination follows loadbalancers_links; every item exactly once.
    paged = list(conn.load_balancer.load_balancers(description=prefix, limit=2))
    assert sorted(x.id for x in paged) == sorted(ids)

    # Raw: links, markers, sort and page_reverse.
    first = rest.get(f"/v2/lbaas/loadbalancers?description={prefix}&limit=2&sort=name:asc")
    assert [x["name"] for x in first["loadbalancers"]] == [f"{prefix}-0", f"{prefix}-1"]
    nxt = [link for link in first["loadbalancers_links"] if link["rel"] == "next"]
    assert nxt, first["loadbalancers_links"]
    seen = [x["name"] for x in first["loadbalancers"]]
    href = nxt[0]["href"]
    while href:
        page = rest.get(href[href.index("/v2") :])
        seen += [x["name"] for x in page["loadbalancers"]]
        nxt = [link for link in page["loadbalancers_links"] if link["rel"] == "next"]
        assert any(link["rel"] == "previous" for link in page["loadbalancers_links"])
        href = nxt[0]["href"] if nxt else None
    assert seen == [f"{prefix}-{i}" for i in range(5)]

    desc = rest.get(f"/v2/lbaas/loadbalancers?description={prefix}&sort_key=name&sort_dir=desc")
    assert [x["name"] for x in desc["loadbalancers"]] == [f"{prefix}-{i}" for i in range(4, -1, -1)]
    marker = rest.get(
        f"/v2/lbaas/loadbalancers?description={prefix}&sort=name:asc&limit=2&marker={ids[1]}"
    )
    assert [x["name"] for x in marker["loadbalancers"]] == [f"{prefix}-2", f"{prefix}-3"]

    fields = rest.get(f"/v2/lbaas/loadbalancers?description={prefix}&fields=id&fields=name")
    assert all(set(x) == {"id", "name"} for x in fields["loadbalancers"])

    def tagged(**query) -> list[str]:
        found = conn.load_balancer.load_balancers(description=prefix, **query)
        return sorted(x.name[len(prefix) + 1 :] for x in found)

    assert tagged(tags=["a"]) == ["0", "1"]
    assert tagged(tags=["a", "b"]) == ["1"]
    assert tagged(any_tags=["a", "b"]) == ["0", "1", "2"]
    assert tagged(not_tags=["a", "b"]) == ["0", "2", "3", "4"]
    assert tagged(not_any_tags=["a", "b"]) == ["3", "4"]

    for i in ids:
        conn.load_balancer.delete_load_balancer(i)


def test_listener_pool_member_healthmonitor(conn, lb):
    listener = conn.load_balancer.create_listener(
        name="sdk-l", load_balancer_id=lb.id, protocol="HTTP", protocol_port=8081,
        connection_limit=100, tags=["l"],
    )  # fmt: skip
    assert listener.protocol == "HTTP" and listener.protocol_port == 8081
    assert listener.connection_limit == 100
    assert [x["id"] for x in listener.load_balancers] == [lb.id]
    assert listener.timeout_client_data == 50000 and listener.timeout_member_connect == 5000
    assert listener.provisioning_status in ("PENDING_CREATE", "ACTIVE")
    active(conn, lb.id)
    listener = conn.load_balancer.update_listener(listener.id, connection_limit=200, name="sdk-l2")
    assert listener.connection_limit == 200 and listener.name == "sdk-l2"
    active(conn, lb.id)
    listener = conn.load_balancer.update_listener(listener.id, connection_limit=None)
    active(conn, lb.id)
    assert conn.load_balancer.get_listener(listener.id).connection_limit == -1
    assert [x.id for x in conn.load_balancer.listeners(load_balancer_id=lb.id)] == [listener.id]
    assert [x.id for x in conn.load_balancer.listeners(protocol_port=8081, name="sdk-l2")] == [
        listener.id
    ]

    pool = conn.load_balancer.create_pool(
        name="sdk-p", listener_id=listener.id, protocol="HTTP", lb_algorithm="LEAST_CONNECTIONS",
        session_persistence={"type": "HTTP_COOKIE"},
    )  # fmt: skip
    assert pool.lb_algorithm == "LEAST_CONNECTIONS" and pool.protocol == "HTTP"
    assert pool.session_persistence["type"] == "HTTP_COOKIE"
    assert [x["id"] for x in pool.listeners] == [listener.id]
    assert [x["id"] for x in pool.loadbalancers] == [lb.id]
    active(conn, lb.id)
    assert conn.load_balancer.get_listener(listener.id).default_pool_id == pool.id
    pool = conn.load_balancer.update_pool(pool.id, lb_algorithm="ROUND_ROBIN", description="pd")
    assert pool.lb_algorithm == "ROUND_ROBIN" and pool.description == "pd"
    active(conn, lb.id)

    m1 = conn.load_balancer.create_member(
        pool, address="127.0.0.11", protocol_port=81, name="m1", weight=5, tags=["m"]
    )
    assert (m1.address, m1.protocol_port, m1.weight, m1.backup) == ("127.0.0.11", 81, 5, False)
    assert m1.is_admin_state_up is True and m1.monitor_address is None
    m2 = conn.load_balancer.create_member(pool, address="127.0.0.12", protocol_port=82, backup=True)
    assert m2.backup is True and m2.weight == 1
    active(conn, lb.id)
    m1 = conn.load_balancer.update_member(m1, pool, weight=7, is_admin_state_up=False)
    assert m1.weight == 7 and m1.is_admin_state_up is False
    active(conn, lb.id)
    conn.load_balancer.update_member(m1, pool, weight=None)
    active(conn, lb.id)
    assert conn.load_balancer.get_member(m1, pool).weight == 1
    assert [m.id for m in conn.load_balancer.members(pool, address="127.0.0.12")] == [m2.id]
    assert sorted(m.name for m in conn.load_balancer.members(pool)) == ["", "m1"]

    hm = conn.load_balancer.create_health_monitor(
        pool_id=pool.id, type="HTTP", delay=3, timeout=2, max_retries=2, url_path="/healthz",
        expected_codes="200-204", http_method="GET", name="sdk-hm",
    )  # fmt: skip
    assert (hm.type, hm.delay, hm.timeout, hm.max_retries) == ("HTTP", 3, 2, 2)
    assert hm.max_retries_down == 3 and hm.url_path == "/healthz"
    assert hm.expected_codes == "200-204" and [p["id"] for p in hm.pools] == [pool.id]
    active(conn, lb.id)
    assert conn.load_balancer.get_pool(pool.id).health_monitor_id == hm.id
    hm = conn.load_balancer.update_health_monitor(hm.id, delay=10, url_path="/other")
    assert hm.delay == 10 and hm.url_path == "/other"
    active(conn, lb.id)
    assert [x.id for x in conn.load_balancer.health_monitors(pool_id=pool.id)] == [hm.id]

    tree = conn.load_balancer.get(f"/lbaas/loadbalancers/{lb.id}/status").json()
    node = tree["statuses"]["loadbalancer"]
    assert node["id"] == lb.id and node["provisioning_status"] == "ACTIVE"
    assert node["listeners"][0]["id"] == listener.id
    assert node["listeners"][0]["pools"][0]["health_monitor"]["id"] == hm.id
    assert {m["id"] for m in node["listeners"][0]["pools"][0]["members"]} == {m1.id, m2.id}

    conn.load_balancer.delete_health_monitor(hm.id)
    active(conn, lb.id)
    conn.load_balancer.delete_member(m2, pool)
    active(conn, lb.id)
    assert [m.id for m in conn.load_balancer.members(pool)] == [m1.id]
    conn.load_balancer.delete_pool(pool.id)
    active(conn, lb.id)
    conn.load_balancer.delete_listener(listener.id)
    active(conn, lb.id)
    assert list(conn.load_balancer.listeners(load_balancer_id=lb.id)) == []


def test_listener_insert_headers_and_allowed_cidrs(conn, subnet_id):
    """Octavia's HTTP listener options that reach the haproxy config; own LB so an ERROR here
    does not block the other tests."""
    own = active(conn, conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id).id)
    listener = conn.load_balancer.create_listener(
        load_balancer_id=own.id, protocol="HTTP", protocol_port=8084,
        insert_headers={"X-Forwarded-For": "true", "X-Forwarded-Port": "true"},
        allowed_cidrs=["127.0.0.0/8"],
    )  # fmt: skip
    assert listener.insert_headers == {"X-Forwarded-For": "true", "X-Forwarded-Port": "true"}
    assert listener.allowed_cidrs == ["127.0.0.0/8"]
    active(conn, own.id)
    conn.load_balancer.delete_load_balancer(own.id, cascade=True)


def test_l7_policies_and_rules(conn, lb):
    listener = conn.load_balancer.create_listener(
        load_balancer_id=lb.id, protocol="HTTP", protocol_port=8082
    )
    pool = conn.load_balancer.create_pool(loadbalancer_id=lb.id, protocol="HTTP",
                                          lb_algorithm="ROUND_ROBIN")  # fmt: skip
    active(conn, lb.id)
    # openstacksdk's L7Policy has no redirect_http_code attribute (it neither sends nor exposes
    # it): the SDK gets Octavia's default for REDIRECT_TO_URL, 302, seen in the raw body.
    redirect = conn.load_balancer.create_l7_policy(
        listener_id=listener.id, action="REDIRECT_TO_URL", redirect_url="http://example.com/",
        name="to-url", position=1,
    )  # fmt: skip
    assert redirect.action == "REDIRECT_TO_URL" and redirect.redirect_url == "http://example.com/"
    assert redirect.position == 1 and redirect.rules == []
    raw = conn.load_balancer.get(f"/lbaas/l7policies/{redirect.id}").json()["l7policy"]
    assert raw["redirect_http_code"] == 302
    to_pool = conn.load_balancer.create_l7_policy(
        listener_id=listener.id, action="REDIRECT_TO_POOL", redirect_pool_id=pool.id, position=1
    )
    assert to_pool.redirect_pool_id == pool.id
    reject = conn.load_balancer.create_l7_policy(listener_id=listener.id, action="REJECT")
    active(conn, lb.id)
    # Inserting at position 1 moves the others down; a policy without a position goes last.
    positions = {p.id: p.position for p in conn.load_balancer.l7_policies(listener_id=listener.id)}
    assert positions == {to_pool.id: 1, redirect.id: 2, reject.id: 3}
    assert [p.id for p in conn.load_balancer.l7_policies(action="REJECT")] == [reject.id]

    rule = conn.load_balancer.create_l7_rule(
        to_pool, type="PATH", compare_type="STARTS_WITH", rule_value="/api"
    )
    # openstacksdk names the rule's "value" rule_value.
    assert (rule.type, rule.compare_type, rule.rule_value, rule.invert) == (
        "PATH", "STARTS_WITH", "/api", False
    )  # fmt: skip
    header = conn.load_balancer.create_l7_rule(
        to_pool, type="HEADER", compare_type="EQUAL_TO", key="X-Env", rule_value="prod", invert=True
    )
    assert header.key == "X-Env" and header.invert is True
    active(conn, lb.id)
    rule = conn.load_balancer.update_l7_rule(rule, to_pool, rule_value="/v2", compare_type="REGEX")
    assert rule.rule_value == "/v2" and rule.compare_type == "REGEX"
    active(conn, lb.id)
    assert {r.id for r in conn.load_balancer.l7_rules(to_pool)} == {rule.id, header.id}
    assert [r.id for r in conn.load_balancer.l7_rules(to_pool, type="HEADER")] == [header.id]
    assert {r["id"] for r in conn.load_balancer.get_l7_policy(to_pool.id).rules} == {
        rule.id, header.id
    }  # fmt: skip

    moved = conn.load_balancer.update_l7_policy(reject.id, position=1, name="rej")
    assert moved.position == 1 and moved.name == "rej"
    active(conn, lb.id)
    assert conn.load_balancer.get_l7_policy(to_pool.id).position == 2

    tree = conn.load_balancer.get(f"/lbaas/loadbalancers/{lb.id}/status").json()
    lnode = next(x for x in tree["statuses"]["loadbalancer"]["listeners"] if x["id"] == listener.id)
    # Octavia's status tree has no L7 policies (ListenerStatusResponse: id, name, statuses and
    # pools only); the listener's own node is what a client sees.
    assert lnode["provisioning_status"] == "ACTIVE" and lnode["operating_status"]

    conn.load_balancer.delete_l7_rule(header, to_pool)
    active(conn, lb.id)
    assert [r.id for r in conn.load_balancer.l7_rules(to_pool)] == [rule.id]
    conn.load_balancer.delete_l7_policy(redirect.id)
    active(conn, lb.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.load_balancer.get_l7_policy(redirect.id)


def test_statistics(conn, lb):
    listener = conn.load_balancer.create_listener(
        load_balancer_id=lb.id, protocol="TCP", protocol_port=8083
    )
    active(conn, lb.id)
    stats = conn.load_balancer.get_load_balancer_statistics(lb.id)
    raw = conn.load_balancer.get(f"/lbaas/loadbalancers/{lb.id}/stats").json()
    assert set(raw["stats"]) >= STATS_KEYS
    assert all(isinstance(raw["stats"][k], int) and raw["stats"][k] >= 0 for k in STATS_KEYS)
    assert stats.total_connections == raw["stats"]["total_connections"]
    lraw = conn.load_balancer.get(f"/lbaas/listeners/{listener.id}/stats").json()
    assert set(lraw["stats"]) >= STATS_KEYS
    assert conn.load_balancer.get_listener_statistics(listener.id).bytes_in >= 0


def test_batch_member_update(conn, rest: Api, lb):
    pool = conn.load_balancer.create_pool(loadbalancer_id=lb.id, protocol="TCP",
                                          lb_algorithm="ROUND_ROBIN")  # fmt: skip
    keep = conn.load_balancer.create_member(pool, address="127.0.0.21", protocol_port=80, weight=1)
    drop = conn.load_balancer.create_member(pool, address="127.0.0.22", protocol_port=80)
    active(conn, lb.id)
    body = {
        "members": [
            {"address": "127.0.0.21", "protocol_port": 80, "weight": 9, "name": "kept"},
            {"address": "127.0.0.23", "protocol_port": 80, "name": "new"},
        ]
    }
    r = rest.http.put(f"/v2/lbaas/pools/{pool.id}/members", json=body)
    assert r.status_code == 202, r.text
    active(conn, lb.id)
    members = {m.address: m for m in conn.load_balancer.members(pool)}
    assert set(members) == {"127.0.0.21", "127.0.0.23"}
    assert members["127.0.0.21"].id == keep.id and members["127.0.0.21"].weight == 9
    assert members["127.0.0.21"].name == "kept" and members["127.0.0.23"].name == "new"
    assert drop.id not in {m.id for m in members.values()}
    # An empty list removes every member.
    r = rest.http.put(f"/v2/lbaas/pools/{pool.id}/members", json={"members": []})
    assert r.status_code == 202, r.text
    active(conn, lb.id)
    assert list(conn.load_balancer.members(pool)) == []


def test_failover_load_balancer(conn, subnet_id):
    lb = active(conn, conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id).id)
    before = {a.id for a in conn.load_balancer.amphorae(loadbalancer_id=lb.id)}
    conn.load_balancer.failover_load_balancer(lb.id)
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status in (
        "PENDING_UPDATE", "ACTIVE"
    )  # fmt: skip
    active(conn, lb.id)

    def replaced():
        after = {a.id for a in conn.load_balancer.amphorae(loadbalancer_id=lb.id)
                 if a.status == "ALLOCATED"}  # fmt: skip
        return after and not (after & before)

    wait_for(replaced, 30, "failover to replace the amphora")
    conn.load_balancer.delete_load_balancer(lb.id, cascade=True)


def test_cascade_delete(conn, subnet_id):
    lb = conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id, name=unique("casc"))
    active(conn, lb.id)
    listener = conn.load_balancer.create_listener(load_balancer_id=lb.id, protocol="HTTP",
                                                  protocol_port=80)  # fmt: skip
    pool = conn.load_balancer.create_pool(listener_id=listener.id, protocol="HTTP",
                                          lb_algorithm="ROUND_ROBIN")  # fmt: skip
    member = conn.load_balancer.create_member(pool, address="127.0.0.31", protocol_port=80)
    hm = conn.load_balancer.create_health_monitor(pool_id=pool.id, type="TCP", delay=1,
                                                  timeout=1, max_retries=1)  # fmt: skip
    policy = conn.load_balancer.create_l7_policy(listener_id=listener.id, action="REJECT")
    active(conn, lb.id)
    with pytest.raises(openstack.exceptions.BadRequestException, match="it has children"):
        conn.load_balancer.delete_load_balancer(lb.id)  # children present, no cascade: 400
    conn.load_balancer.delete_load_balancer(lb.id, cascade=True)
    conn.load_balancer.wait_for_delete(lb, interval=0.1, wait=60)
    for getter, rid in [
        (conn.load_balancer.get_listener, listener.id),
        (conn.load_balancer.get_pool, pool.id),
        (conn.load_balancer.get_health_monitor, hm.id),
        (conn.load_balancer.get_l7_policy, policy.id),
    ]:
        with pytest.raises(openstack.exceptions.NotFoundException):
            getter(rid)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.load_balancer.get_member(member.id, pool.id)


def test_member_project_scope(conn, demo_conn, subnet_id):
    """A member-role project sees its own load balancers only; the admin sees all."""
    mine = demo_conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id, name="demo-own")
    assert mine.project_id
    ids_demo = {x.id for x in demo_conn.load_balancer.load_balancers()}
    ids_admin = {x.id for x in conn.load_balancer.load_balancers()}
    assert mine.id in ids_demo and mine.id in ids_admin
    assert all(x.project_id == mine.project_id for x in demo_conn.load_balancer.load_balancers())
    active(conn, mine.id)
    demo_conn.load_balancer.delete_load_balancer(mine.id)
