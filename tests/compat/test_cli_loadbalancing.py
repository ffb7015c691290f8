"""Every load-balancing resource through the `openstack loadbalancer` CLI (python-octaviaclient,
`-f json`) against a real stack on the noop compute driver: create / show / list with filters /
set / unset / delete, L7 policies and rules, status, stats, failover and cascade delete."""

from __future__ import annotations

import json

import pytest

from tests.support.osclients import cli, cli_fails, unique

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def stack(noop_stack):
    return noop_stack


@pytest.fixture(scope="module")
def lb(stack, subnet_id):
    name = unique("cli-lb")
    created = cli(stack, "loadbalancer", "create", "--name", name, "--vip-subnet-id", subnet_id,
                  "--description", "cli", "--tag", "red", "--wait")  # fmt: skip
    yield created
    cli(stack, "loadbalancer", "delete", "--cascade", created["id"], parse=False)


def test_loadbalancer_create_show_list_set_unset(stack, lb, subnet_id):
    assert lb["provisioning_status"] == "ACTIVE" and lb["operating_status"] == "ONLINE"
    assert lb["description"] == "cli" and lb["vip_subnet_id"] == subnet_id
    assert lb["tags"] in (["red"], "red")
    shown = cli(stack, "loadbalancer", "show", lb["name"])
    assert shown["id"] == lb["id"] and shown["vip_address"] == lb["vip_address"]

    listed = cli(stack, "loadbalancer", "list", "--name", lb["name"])
    assert [x["id"] for x in listed] == [lb["id"]]
    assert cli(stack, "loadbalancer", "list", "--name", "no-such-lb") == []
    assert lb["id"] in {x["id"] for x in cli(stack, "loadbalancer", "list", "--tags", "red")}
    assert lb["id"] not in {
        x["id"] for x in cli(stack, "loadbalancer", "list", "--not-tags", "red")
    }
    assert lb["id"] in {
        x["id"] for x in cli(stack, "loadbalancer", "list", "--provisioning-status", "ACTIVE")
    }
    ordered = cli(stack, "loadbalancer", "list", "--sort-column", "name", "--sort-descending")
    assert [x["name"] for x in ordered] == sorted((x["name"] for x in ordered), reverse=True)

    cli(stack, "loadbalancer", "set", "--description", "changed", "--disable", "--wait", lb["id"],
        parse=False)  # fmt: skip
    shown = cli(stack, "loadbalancer", "show", lb["id"])
    assert shown["description"] == "changed" and shown["admin_state_up"] is False
    cli(stack, "loadbalancer", "unset", "--description", "--wait", lb["id"], parse=False)
    cli(stack, "loadbalancer", "set", "--enable", "--wait", lb["id"], parse=False)
    shown = cli(stack, "loadbalancer", "show", lb["id"])
    assert shown["description"] in ("", None) and shown["admin_state_up"] is True


def test_listener_pool_member_healthmonitor(stack, lb):
    listener = cli(stack, "loadbalancer", "listener", "create", "--name", "cl-l", "--protocol",
                   "TCP", "--protocol-port", "9100", "--connection-limit", "50", "--wait",
                   lb["id"])  # fmt: skip
    assert listener["protocol"] == "TCP" and listener["protocol_port"] == 9100
    assert listener["connection_limit"] == 50
    cli(stack, "loadbalancer", "listener", "set", "--timeout-client-data", "1000",
        "--name", "cl-l2", "--wait", listener["id"], parse=False)  # fmt: skip
    shown = cli(stack, "loadbalancer", "listener", "show", listener["id"])
    assert shown["timeout_client_data"] == 1000 and shown["name"] == "cl-l2"
    cli(stack, "loadbalancer", "listener", "unset", "--connection-limit", "--timeout-client-data",
        "--wait", listener["id"], parse=False)  # fmt: skip
    shown = cli(stack, "loadbalancer", "listener", "show", listener["id"])
    assert shown["connection_limit"] == -1 and shown["timeout_client_data"] == 50000
    listed = cli(stack, "loadbalancer", "listener", "list", "--loadbalancer", lb["id"])
    assert listener["id"] in {x["id"] for x in listed}
    assert (
        cli(stack, "loadbalancer", "listener", "list", "--name", "cl-l2")[0]["id"] == listener["id"]
    )

    pool = cli(stack, "loadbalancer", "pool", "create", "--name", "cl-p", "--listener",
               listener["id"], "--protocol", "TCP", "--lb-algorithm", "SOURCE_IP",
               "--session-persistence", "type=SOURCE_IP", "--wait")  # fmt: skip
    assert pool["lb_algorithm"] == "SOURCE_IP" and "SOURCE_IP" in str(pool["session_persistence"])
    cli(stack, "loadbalancer", "pool", "set", "--lb-algorithm", "ROUND_ROBIN", "--description",
        "pd", "--wait", pool["id"], parse=False)  # fmt: skip
    shown = cli(stack, "loadbalancer", "pool", "show", pool["id"])
    assert shown["lb_algorithm"] == "ROUND_ROBIN" and shown["description"] == "pd"
    cli(stack, "loadbalancer", "pool", "unset", "--description", "--wait", pool["id"], parse=False)
    assert cli(stack, "loadbalancer", "pool", "show", pool["id"])["description"] in ("", None)

    member = cli(stack, "loadbalancer", "member", "create", "--name", "cm", "--address",
                 "127.0.0.41", "--protocol-port", "80", "--weight", "3", "--wait",
                 pool["id"])  # fmt: skip
    assert member["address"] == "127.0.0.41" and member["weight"] == 3
    cli(stack, "loadbalancer", "member", "set", "--weight", "8", "--enable-backup", "--wait",
        pool["id"], member["id"], parse=False)  # fmt: skip
    shown = cli(stack, "loadbalancer", "member", "show", pool["id"], member["id"])
    assert shown["weight"] == 8 and shown["backup"] is True
    cli(stack, "loadbalancer", "member", "unset", "--weight", "--backup", "--wait",
        pool["id"], member["id"], parse=False)  # fmt: skip
    shown = cli(stack, "loadbalancer", "member", "show", pool["id"], member["id"])
    assert shown["weight"] == 1 and shown["backup"] is False
    assert [m["id"] for m in cli(stack, "loadbalancer", "member", "list", pool["id"])] == [
        member["id"]
    ]

    hm = cli(stack, "loadbalancer", "healthmonitor", "create", "--delay", "5", "--timeout", "3",
             "--max-retries", "2", "--type", "TCP", "--name", "chm", "--wait",
             pool["id"])  # fmt: skip
    assert hm["type"] == "TCP" and hm["delay"] == 5 and hm["max_retries_down"] == 3
    cli(stack, "loadbalancer", "healthmonitor", "set", "--delay", "7", "--wait", hm["id"],
        parse=False)  # fmt: skip
    assert cli(stack, "loadbalancer", "healthmonitor", "show", hm["id"])["delay"] == 7
    cli(stack, "loadbalancer", "healthmonitor", "unset", "--name", "--wait", hm["id"], parse=False)
    assert cli(stack, "loadbalancer", "healthmonitor", "show", hm["id"])["name"] in ("", None)
    assert hm["id"] in {x["id"] for x in cli(stack, "loadbalancer", "healthmonitor", "list")}

    tree = json.loads(cli(stack, "loadbalancer", "status", "show", lb["id"], parse=False))
    pool_node = tree["loadbalancer"]["listeners"][0]["pools"][0]
    assert pool_node["id"] == pool["id"] and pool_node["health_monitor"]["id"] == hm["id"]
    assert pool_node["members"][0]["id"] == member["id"]

    stats = cli(stack, "loadbalancer", "listener", "stats", "show", listener["id"])
    assert {"active_connections", "bytes_in", "bytes_out", "total_connections"} <= set(stats)
    stats = cli(stack, "loadbalancer", "stats", "show", lb["id"])
    assert {"active_connections", "bytes_in", "bytes_out", "request_errors"} <= set(stats)

    for args in (
        ["healthmonitor", "delete", hm["id"]],
        ["member", "delete", pool["id"], member["id"]],
        ["pool", "delete", pool["id"]],
        ["listener", "delete", listener["id"]],
    ):
        cli(stack, "loadbalancer", *args, "--wait", parse=False)
    # octaviaclient resolves the id through a filtered list first, so a deleted listener is
    # "Unable to locate ..." (as against Octavia) rather than the API's 404 text.
    gone = cli_fails(stack, "loadbalancer", "listener", "show", listener["id"]).lower()
    assert f"unable to locate {listener['id']}" in gone or "not found" in gone, gone


def test_l7policy_l7rule(stack, lb):
    listener = cli(stack, "loadbalancer", "listener", "create", "--protocol", "HTTP",
                   "--protocol-port", "9101", "--wait", lb["id"])  # fmt: skip
    pool = cli(stack, "loadbalancer", "pool", "create", "--loadbalancer", lb["id"], "--protocol",
               "HTTP", "--lb-algorithm", "ROUND_ROBIN", "--wait")  # fmt: skip
    policy = cli(stack, "loadbalancer", "l7policy", "create", "--action", "REDIRECT_TO_POOL",
                 "--redirect-pool", pool["id"], "--name", "cp", "--wait",
                 listener["id"])  # fmt: skip
    assert policy["action"] == "REDIRECT_TO_POOL" and policy["redirect_pool_id"] == pool["id"]
    assert policy["position"] == 1
    url = cli(stack, "loadbalancer", "l7policy", "create", "--action", "REDIRECT_PREFIX",
              "--redirect-prefix", "https://example.org", "--redirect-http-code", "308",
              "--wait", listener["id"])  # fmt: skip
    assert url["redirect_prefix"] == "https://example.org" and url["redirect_http_code"] == 308
    assert url["position"] == 2
    cli(stack, "loadbalancer", "l7policy", "set", "--position", "1", "--wait", url["id"],
        parse=False)  # fmt: skip
    assert cli(stack, "loadbalancer", "l7policy", "show", policy["id"])["position"] == 2

    rule = cli(stack, "loadbalancer", "l7rule", "create", "--type", "HOST_NAME",
               "--compare-type", "ENDS_WITH", "--value", ".example.com", "--wait",
               policy["id"])  # fmt: skip
    assert rule["type"] == "HOST_NAME" and rule["value"] == ".example.com"
    assert rule["invert"] is False
    cli(stack, "loadbalancer", "l7rule", "set", "--value", ".example.net", "--invert", "--wait",
        policy["id"], rule["id"], parse=False)  # fmt: skip
    shown = cli(stack, "loadbalancer", "l7rule", "show", policy["id"], rule["id"])
    assert shown["value"] == ".example.net" and shown["invert"] is True
    rules = cli(stack, "loadbalancer", "l7rule", "list", policy["id"])
    assert [r["id"] for r in rules] == [rule["id"]]
    policies = cli(stack, "loadbalancer", "l7policy", "list", "--listener", listener["id"])
    assert {p["id"] for p in policies} == {policy["id"], url["id"]}
    cli(stack, "loadbalancer", "l7rule", "delete", "--wait", policy["id"], rule["id"], parse=False)
    assert cli(stack, "loadbalancer", "l7rule", "list", policy["id"]) == []
    cli(stack, "loadbalancer", "l7policy", "unset", "--name", "--wait", policy["id"], parse=False)
    assert cli(stack, "loadbalancer", "l7policy", "show", policy["id"])["name"] in ("", None)
    cli(stack, "loadbalancer", "l7policy", "delete", "--wait", url["id"], parse=False)
    assert [p["id"] for p in cli(stack, "loadbalancer", "l7policy", "list")] == [policy["id"]]


def test_failover_and_cascade_delete(stack, subnet_id):
    name = unique("cli-fo")
    lb = cli(stack, "loadbalancer", "create", "--name", name, "--vip-subnet-id", subnet_id,
             "--wait")  # fmt: skip
    amps = cli(stack, "loadbalancer", "amphora", "list", "--loadbalancer", lb["id"])
    assert len(amps) >= 1
    cli(stack, "loadbalancer", "failover", "--wait", lb["id"], parse=False)
    shown = cli(stack, "loadbalancer", "show", lb["id"])
    assert shown["provisioning_status"] == "ACTIVE"
    after = cli(stack, "loadbalancer", "amphora", "list", "--loadbalancer", lb["id"])
    assert {a["id"] for a in after if a["status"] == "ALLOCATED"}.isdisjoint(
        {a["id"] for a in amps}
    )
    cli(stack, "loadbalancer", "listener", "create", "--protocol", "HTTP", "--protocol-port",
        "80", "--wait", lb["id"])  # fmt: skip
    assert "400" in cli_fails(stack, "loadbalancer", "delete", lb["id"])  # has children
    cli(stack, "loadbalancer", "delete", "--cascade", "--wait", lb["id"], parse=False)
    assert cli(stack, "loadbalancer", "list", "--name", name) == []
