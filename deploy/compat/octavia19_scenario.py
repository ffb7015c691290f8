"""The requests deploy/compat/record_octavia19.py sends Octavia 19, in order: every endpoint of
its v2 API, a fully populated create, lists with pagination and fields, and typical errors.

Paths and bodies name placeholders ({lb1}, {subnet}, ...): ids earlier steps made (capture) or
the recording's own (subnet, project). The replay (tests/compat/test_octavia19_bodies.py) reads
them from the recorded file, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Ids that never exist, for the 404 cases (fixed, so they are the same in the replay).
MISSING = "00000000-0000-4000-8000-000000000404"


@dataclass
class Step:
    """One request. path and body may name placeholders ({lb}, {subnet}, ...): ids made by
    earlier steps (capture) or given (subnet, project). wait: after the request, poll until
    `lb:<name>` is ACTIVE or `gone:<path>` answers 404 (not recorded; the replay waits too)."""

    name: str
    method: str
    path: str
    body: dict | None = None
    capture: dict[str, str] = field(default_factory=dict)
    wait: list[str] = field(default_factory=list)
    # First, Octavia's health manager code takes a heartbeat from {amp} with zero counters for
    # this listener (the noop amphora sends none, and Octavia's amphora stats are a 404 until
    # one came). Recorded with the case; the replay sends this API's amphora the same.
    heartbeat_listener: str = ""


def _lb(**extra) -> dict:
    return {"loadbalancer": {"vip_subnet_id": "{subnet}", **extra}}


FULL_LB = _lb(
    name="lb-full",
    description="fully populated",
    listeners=[
        {
            "name": "full-listener",
            "protocol": "HTTP",
            "protocol_port": 80,
            "default_pool": {
                "name": "full-pool",
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "members": [{"name": "full-member", "address": "192.0.2.20", "protocol_port": 80}],
                "healthmonitor": {
                    "name": "full-hm",
                    "type": "HTTP",
                    "delay": 5,
                    "timeout": 3,
                    "max_retries": 3,
                },
            },
            "l7policies": [
                {
                    "name": "full-policy",
                    "action": "REJECT",
                    "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/static"}],
                }
            ],
        }
    ],
)

LB = "/v2/lbaas/loadbalancers"
LISTENERS = "/v2/lbaas/listeners"
POOLS = "/v2/lbaas/pools"
HMS = "/v2/lbaas/healthmonitors"
POLICIES = "/v2/lbaas/l7policies"
QUOTAS = "/v2/lbaas/quotas"
FLAVORS = "/v2/lbaas/flavors"
FLAVOR_PROFILES = "/v2/lbaas/flavorprofiles"
AZS = "/v2/lbaas/availabilityzones"
AZ_PROFILES = "/v2/lbaas/availabilityzoneprofiles"
AMPHORAE = "/v2/octavia/amphorae"
W1 = ["lb:lb1"]

SCENARIO: list[Step] = [
    # --- versions
    Step("versions", "GET", "/"),
    Step("v2-root", "GET", "/v2"),
    Step("v2.0-root", "GET", "/v2.0"),
    # --- providers
    Step("providers-list", "GET", "/v2/lbaas/providers"),
    Step("provider-flavor-capabilities", "GET", "/v2/lbaas/providers/amphora/flavor_capabilities"),
    Step(
        "provider-az-capabilities",
        "GET",
        "/v2/lbaas/providers/amphora/availability_zone_capabilities",
    ),
    Step("provider-missing-capabilities", "GET", "/v2/lbaas/providers/bogus/flavor_capabilities"),
    # --- flavor profiles and flavors
    Step(
        "flavorprofile-create",
        "POST",
        FLAVOR_PROFILES,
        {
            "flavorprofile": {
                "name": "fp1",
                "provider_name": "amphora",
                "flavor_data": '{"loadbalancer_topology": "SINGLE"}',
            }
        },
        capture={"fp": "flavorprofile.id"},
    ),
    Step("flavorprofile-show", "GET", FLAVOR_PROFILES + "/{fp}"),
    Step("flavorprofile-list", "GET", FLAVOR_PROFILES),
    Step(
        "flavorprofile-update",
        "PUT",
        FLAVOR_PROFILES + "/{fp}",
        {"flavorprofile": {"name": "fp1-renamed"}},
    ),
    Step(
        "flavorprofile-create-bad-data",
        "POST",
        FLAVOR_PROFILES,
        {"flavorprofile": {"name": "bad", "provider_name": "amphora", "flavor_data": "not json"}},
    ),
    Step(
        "flavor-create",
        "POST",
        FLAVORS,
        {
            "flavor": {
                "name": "f1",
                "description": "flavor one",
                "flavor_profile_id": "{fp}",
                "enabled": True,
            }
        },
        capture={"flavor": "flavor.id"},
    ),
    Step("flavor-show", "GET", FLAVORS + "/{flavor}"),
    Step("flavor-list", "GET", FLAVORS),
    Step("flavor-list-fields", "GET", FLAVORS + "?fields=id&fields=name"),
    Step(
        "flavor-update",
        "PUT",
        FLAVORS + "/{flavor}",
        {"flavor": {"description": "flavor one, renamed", "enabled": False}},
    ),
    Step(
        "flavor-create-duplicate-name",
        "POST",
        FLAVORS,
        {"flavor": {"name": "f1", "flavor_profile_id": "{fp}"}},
    ),
    Step("flavorprofile-delete-in-use", "DELETE", FLAVOR_PROFILES + "/{fp}"),
    # --- availability zone profiles and availability zones
    Step(
        "azprofile-create",
        "POST",
        AZ_PROFILES,
        {
            "availability_zone_profile": {
                "name": "azp1",
                "provider_name": "amphora",
                "availability_zone_data": '{"compute_zone": "lbaas-zone-1"}',
            }
        },
        capture={"azp": "availability_zone_profile.id"},
    ),
    Step("azprofile-show", "GET", AZ_PROFILES + "/{azp}"),
    Step("azprofile-list", "GET", AZ_PROFILES),
    Step(
        "azprofile-update",
        "PUT",
        AZ_PROFILES + "/{azp}",
        {"availability_zone_profile": {"name": "azp1-renamed"}},
    ),
    Step(
        "az-create",
        "POST",
        AZS,
        {
            "availability_zone": {
                "name": "az1",
                "description": "zone one",
                "availability_zone_profile_id": "{azp}",
                "enabled": True,
            }
        },
    ),
    Step("az-show", "GET", AZS + "/az1"),
    Step("az-list", "GET", AZS),
    Step("az-list-fields", "GET", AZS + "?fields=name"),
    Step(
        "az-update",
        "PUT",
        AZS + "/az1",
        {"availability_zone": {"description": "zone one, changed", "enabled": False}},
    ),
    Step(
        "az-create-duplicate-name",
        "POST",
        AZS,
        {"availability_zone": {"name": "az1", "availability_zone_profile_id": "{azp}"}},
    ),
    # --- quotas
    Step("quota-defaults", "GET", QUOTAS + "/defaults"),
    Step("quota-show-default", "GET", QUOTAS + "/{project}"),
    Step(
        "quota-update",
        "PUT",
        QUOTAS + "/{project}",
        {
            "quota": {
                "loadbalancer": 10,
                "listener": 20,
                "member": 30,
                "pool": 40,
                "healthmonitor": 50,
                "l7policy": 60,
                "l7rule": 70,
            }
        },
    ),
    Step("quota-show", "GET", QUOTAS + "/{project}"),
    Step("quota-list", "GET", QUOTAS),
    Step("quota-update-bad-value", "PUT", QUOTAS + "/{project}", {"quota": {"loadbalancer": -2}}),
    # --- load balancers
    Step(
        "lb-create",
        "POST",
        LB,
        _lb(name="lb1", description="first", tags=["a", "b"]),
        capture={"lb1": "loadbalancer.id"},
        wait=W1,
    ),
    Step(
        "lb-create-fully-populated",
        "POST",
        LB,
        FULL_LB,
        capture={
            "lb2": "loadbalancer.id",
            "l2": "loadbalancer.listeners.0.id",
            "p2": "loadbalancer.pools.0.id",
            "hm2": "loadbalancer.pools.0.healthmonitor.id",
            "m3": "loadbalancer.pools.0.members.0.id",
            "pol2": "loadbalancer.listeners.0.l7policies.0.id",
            "rule2": "loadbalancer.listeners.0.l7policies.0.rules.0.id",
        },
        wait=["lb:lb2"],
    ),
    Step("lb-show", "GET", LB + "/{lb1}"),
    Step("lb-show-v2.0", "GET", "/v2.0/lbaas/loadbalancers/{lb1}"),
    Step("lb-show-fully-populated", "GET", LB + "/{lb2}"),
    Step("lb-show-fields", "GET", LB + "/{lb1}?fields=name&fields=vip_subnet_id"),
    Step("lb-list", "GET", LB),
    Step("lb-list-filter", "GET", LB + "?name=lb1"),
    Step("lb-list-fields", "GET", LB + "?fields=id&fields=name&fields=provisioning_status"),
    Step("lb-list-limit", "GET", LB + "?limit=1&sort=name:asc"),
    # Sorted by name, lb-full ({lb2}) comes before lb1. Octavia takes page_reverse only as
    # "True" (its own previous links write it so).
    Step("lb-list-marker", "GET", LB + "?limit=1&sort=name:asc&marker={lb2}"),
    Step(
        "lb-list-page-reverse",
        "GET",
        LB + "?limit=1&sort=name:asc&marker={lb1}&page_reverse=True",
    ),
    Step(
        "lb-update",
        "PUT",
        LB + "/{lb1}",
        {"loadbalancer": {"name": "lb1-renamed", "description": "changed"}},
        wait=W1,
    ),
    Step("lb-status-tree", "GET", LB + "/{lb2}/status"),
    Step("lb-stats", "GET", LB + "/{lb2}/stats"),
    Step("lb-missing", "GET", LB + "/" + MISSING),
    Step("lb-create-unknown-attribute", "POST", LB, _lb(bogus_attribute=1)),
    Step("lb-create-bad-subnet-id", "POST", LB, {"loadbalancer": {"vip_subnet_id": "nope"}}),
    Step("lb-create-no-vip", "POST", LB, {"loadbalancer": {"name": "novip"}}),
    # --- listeners
    Step(
        "listener-create",
        "POST",
        LISTENERS,
        {
            "listener": {
                "name": "l1",
                "loadbalancer_id": "{lb1}",
                "protocol": "HTTP",
                "protocol_port": 80,
            }
        },
        capture={"l1": "listener.id"},
        wait=W1,
    ),
    Step("listener-show", "GET", LISTENERS + "/{l1}"),
    Step("listener-list", "GET", LISTENERS),
    Step("listener-list-filter", "GET", LISTENERS + "?loadbalancer_id={lb1}"),
    Step("listener-list-limit", "GET", LISTENERS + "?limit=1&sort=name:asc"),
    Step("listener-list-fields", "GET", LISTENERS + "?fields=id&fields=protocol_port"),
    Step(
        "listener-show-fields", "GET", LISTENERS + "/{l1}?fields=protocol&fields=connection_limit"
    ),
    Step(
        "listener-update",
        "PUT",
        LISTENERS + "/{l1}",
        {"listener": {"description": "changed", "connection_limit": 100}},
        wait=W1,
    ),
    Step("listener-stats", "GET", LISTENERS + "/{l1}/stats"),
    Step(
        "listener-create-duplicate-port",
        "POST",
        LISTENERS,
        {"listener": {"loadbalancer_id": "{lb1}", "protocol": "TCP", "protocol_port": 80}},
    ),
    Step(
        "listener-create-bad-protocol",
        "POST",
        LISTENERS,
        {"listener": {"loadbalancer_id": "{lb1}", "protocol": "BOGUS", "protocol_port": 81}},
    ),
    Step(
        "listener-create-missing-lb",
        "POST",
        LISTENERS,
        {"listener": {"loadbalancer_id": MISSING, "protocol": "TCP", "protocol_port": 81}},
    ),
    Step("listener-missing", "GET", LISTENERS + "/" + MISSING),
    # --- pools
    Step(
        "pool-create",
        "POST",
        POOLS,
        {
            "pool": {
                "name": "p1",
                "listener_id": "{l1}",
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "session_persistence": {"type": "APP_COOKIE", "cookie_name": "sid"},
            }
        },
        capture={"p1": "pool.id"},
        wait=W1,
    ),
    Step("pool-show", "GET", POOLS + "/{p1}"),
    Step("pool-list", "GET", POOLS),
    Step("pool-list-limit", "GET", POOLS + "?limit=1&sort=name:asc"),
    Step("pool-list-fields", "GET", POOLS + "?fields=id&fields=lb_algorithm"),
    Step(
        "pool-update",
        "PUT",
        POOLS + "/{p1}",
        {"pool": {"lb_algorithm": "LEAST_CONNECTIONS", "description": "changed"}},
        wait=W1,
    ),
    Step(
        "pool-create-listener-has-default",
        "POST",
        POOLS,
        {"pool": {"listener_id": "{l1}", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}},
    ),
    Step("pool-update-bad-algorithm", "PUT", POOLS + "/{p1}", {"pool": {"lb_algorithm": "FAST"}}),
    # --- members
    Step(
        "member-create",
        "POST",
        POOLS + "/{p1}/members",
        {"member": {"name": "m1", "address": "192.0.2.10", "protocol_port": 8080}},
        capture={"m1": "member.id"},
        wait=W1,
    ),
    Step("member-show", "GET", POOLS + "/{p1}/members/{m1}"),
    Step("member-list", "GET", POOLS + "/{p1}/members"),
    Step("member-list-fields", "GET", POOLS + "/{p1}/members?fields=id&fields=address"),
    Step(
        "member-update",
        "PUT",
        POOLS + "/{p1}/members/{m1}",
        {"member": {"weight": 5, "name": "m1-renamed"}},
        wait=W1,
    ),
    Step(
        "member-create-duplicate",
        "POST",
        POOLS + "/{p1}/members",
        {"member": {"address": "192.0.2.10", "protocol_port": 8080}},
    ),
    Step(
        "member-batch-update",
        "PUT",
        POOLS + "/{p1}/members",
        {
            "members": [
                {"name": "m1", "address": "192.0.2.10", "protocol_port": 8080, "weight": 2},
                {"name": "m2", "address": "192.0.2.11", "protocol_port": 8080},
            ]
        },
        wait=W1,
    ),
    Step(
        "member-list-after-batch",
        "GET",
        POOLS + "/{p1}/members?sort=name:asc",
        capture={"m2": "members.1.id"},
    ),
    Step("member-missing", "GET", POOLS + "/{p1}/members/" + MISSING),
    # --- health monitors
    Step(
        "hm-create",
        "POST",
        HMS,
        {
            "healthmonitor": {
                "name": "hm1",
                "pool_id": "{p1}",
                "type": "HTTP",
                "delay": 5,
                "timeout": 3,
                "max_retries": 3,
            }
        },
        capture={"hm1": "healthmonitor.id"},
        wait=W1,
    ),
    Step("hm-show", "GET", HMS + "/{hm1}"),
    Step("hm-list", "GET", HMS),
    Step("hm-list-fields", "GET", HMS + "?fields=id&fields=type"),
    Step(
        "hm-update",
        "PUT",
        HMS + "/{hm1}",
        {"healthmonitor": {"delay": 10, "url_path": "/health", "expected_codes": "200-204"}},
        wait=W1,
    ),
    Step(
        "hm-create-second-on-pool",
        "POST",
        HMS,
        {
            "healthmonitor": {
                "pool_id": "{p1}",
                "type": "TCP",
                "delay": 5,
                "timeout": 3,
                "max_retries": 3,
            }
        },
    ),
    Step(
        "hm-create-bad-delay",
        "POST",
        HMS,
        {
            "healthmonitor": {
                "pool_id": "{p1}",
                "type": "TCP",
                "delay": "soon",
                "timeout": 3,
                "max_retries": 3,
            }
        },
    ),
    # --- L7 policies and rules
    Step(
        "l7policy-create",
        "POST",
        POLICIES,
        {
            "l7policy": {
                "name": "pol1",
                "listener_id": "{l1}",
                "action": "REDIRECT_TO_URL",
                "redirect_url": "http://example.com/",
            }
        },
        capture={"pol1": "l7policy.id"},
        wait=W1,
    ),
    Step("l7policy-show", "GET", POLICIES + "/{pol1}"),
    Step("l7policy-list", "GET", POLICIES),
    Step("l7policy-list-fields", "GET", POLICIES + "?fields=id&fields=action"),
    Step(
        "l7policy-update",
        "PUT",
        POLICIES + "/{pol1}",
        {"l7policy": {"action": "REDIRECT_TO_POOL", "redirect_pool_id": "{p1}"}},
        wait=W1,
    ),
    Step(
        "l7policy-create-bad-action",
        "POST",
        POLICIES,
        {"l7policy": {"listener_id": "{l1}", "action": "EXPLODE"}},
    ),
    Step(
        "l7rule-create",
        "POST",
        POLICIES + "/{pol1}/rules",
        {"rule": {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}},
        capture={"rule1": "rule.id"},
        wait=W1,
    ),
    Step("l7rule-show", "GET", POLICIES + "/{pol1}/rules/{rule1}"),
    Step("l7rule-list", "GET", POLICIES + "/{pol1}/rules"),
    Step(
        "l7rule-update",
        "PUT",
        POLICIES + "/{pol1}/rules/{rule1}",
        {"rule": {"value": "/v2", "invert": True}},
        wait=W1,
    ),
    Step(
        "l7rule-create-bad-compare-type",
        "POST",
        POLICIES + "/{pol1}/rules",
        {"rule": {"type": "PATH", "compare_type": "SOUNDS_LIKE", "value": "/x"}},
    ),
    Step("lb-status-tree-with-children", "GET", LB + "/{lb1}/status"),
    # --- amphorae
    Step(
        "amphora-list", "GET", AMPHORAE + "?loadbalancer_id={lb1}", capture={"amp": "amphorae.0.id"}
    ),
    Step(
        "amphora-list-other-lb",
        "GET",
        AMPHORAE + "?loadbalancer_id={lb2}",
        capture={"amp2": "amphorae.0.id"},
    ),
    # Allocated ones only: a spare amphora pool (this API's noop stack keeps one) is
    # configuration, not API.
    Step("amphora-list-allocated", "GET", AMPHORAE + "?status=ALLOCATED"),
    Step("amphora-show", "GET", AMPHORAE + "/{amp}"),
    Step("amphora-stats", "GET", AMPHORAE + "/{amp}/stats", heartbeat_listener="l1"),
    Step("amphora-config", "PUT", AMPHORAE + "/{amp}/config", wait=W1),
    Step("amphora-failover", "PUT", AMPHORAE + "/{amp}/failover", wait=W1),
    Step("amphora-missing", "GET", AMPHORAE + "/" + MISSING),
    # --- load balancer failover, delete with children, and the deletes
    Step("lb-failover", "PUT", LB + "/{lb1}/failover", wait=W1),
    Step("lb-delete-with-children", "DELETE", LB + "/{lb1}"),
    Step("l7rule-delete", "DELETE", POLICIES + "/{pol1}/rules/{rule1}", wait=W1),
    Step("l7policy-delete", "DELETE", POLICIES + "/{pol1}", wait=W1),
    Step("hm-delete", "DELETE", HMS + "/{hm1}", wait=W1),
    Step("member-delete", "DELETE", POOLS + "/{p1}/members/{m1}", wait=W1),
    Step("pool-delete", "DELETE", POOLS + "/{p1}", wait=W1),
    Step("listener-delete", "DELETE", LISTENERS + "/{l1}", wait=W1),
    Step("lb-delete", "DELETE", LB + "/{lb1}", wait=["gone:" + LB + "/{lb1}"]),
    Step("lb-delete-cascade", "DELETE", LB + "/{lb2}?cascade=true", wait=["gone:" + LB + "/{lb2}"]),
    Step("lb-list-empty", "GET", LB),
    Step("quota-reset", "DELETE", QUOTAS + "/{project}"),
    Step("az-delete", "DELETE", AZS + "/az1"),
    Step("azprofile-delete", "DELETE", AZ_PROFILES + "/{azp}"),
    Step("flavor-delete", "DELETE", FLAVORS + "/{flavor}"),
    Step("flavorprofile-delete", "DELETE", FLAVOR_PROFILES + "/{fp}"),
    Step("flavor-missing", "GET", FLAVORS + "/" + MISSING),
]
