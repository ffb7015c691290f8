"""The policy engine on its own: rule table, defaults, credentials and scope decisions."""

from __future__ import annotations

import pytest

from services.api_gateway.auth import Principal
from services.api_gateway.faults import ApiFault
from services.api_gateway.policy import PolicyEngine, normalize, route_table
from services.api_gateway.policy_rules import BASE_RULES, ENDPOINT_RULES


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine()


# Octavia's v2 API: every (method, path) that must have a rule.
OCTAVIA_API = [
    ("GET", "/v2/lbaas/loadbalancers"), ("POST", "/v2/lbaas/loadbalancers"),
    ("GET", "/v2/lbaas/loadbalancers/{id}"), ("PUT", "/v2/lbaas/loadbalancers/{id}"),
    ("DELETE", "/v2/lbaas/loadbalancers/{id}"), ("GET", "/v2/lbaas/loadbalancers/{id}/stats"),
    ("GET", "/v2/lbaas/loadbalancers/{id}/status"),
    ("PUT", "/v2/lbaas/loadbalancers/{id}/failover"),
    ("GET", "/v2/lbaas/listeners"), ("POST", "/v2/lbaas/listeners"),
    ("GET", "/v2/lbaas/listeners/{id}"), ("PUT", "/v2/lbaas/listeners/{id}"),
    ("DELETE", "/v2/lbaas/listeners/{id}"), ("GET", "/v2/lbaas/listeners/{id}/stats"),
    ("GET", "/v2/lbaas/pools"), ("POST", "/v2/lbaas/pools"), ("GET", "/v2/lbaas/pools/{id}"),
    ("PUT", "/v2/lbaas/pools/{id}"), ("DELETE", "/v2/lbaas/pools/{id}"),
    ("GET", "/v2/lbaas/pools/{id}/members"), ("POST", "/v2/lbaas/pools/{id}/members"),
    ("PUT", "/v2/lbaas/pools/{id}/members"), ("GET", "/v2/lbaas/pools/{id}/members/{m}"),
    ("PUT", "/v2/lbaas/pools/{id}/members/{m}"), ("DELETE", "/v2/lbaas/pools/{id}/members/{m}"),
    ("GET", "/v2/lbaas/healthmonitors"), ("POST", "/v2/lbaas/healthmonitors"),
    ("GET", "/v2/lbaas/healthmonitors/{id}"), ("PUT", "/v2/lbaas/healthmonitors/{id}"),
    ("DELETE", "/v2/lbaas/healthmonitors/{id}"),
    ("GET", "/v2/lbaas/l7policies"), ("POST", "/v2/lbaas/l7policies"),
    ("GET", "/v2/lbaas/l7policies/{id}"), ("PUT", "/v2/lbaas/l7policies/{id}"),
    ("DELETE", "/v2/lbaas/l7policies/{id}"),
    ("GET", "/v2/lbaas/l7policies/{id}/rules"), ("POST", "/v2/lbaas/l7policies/{id}/rules"),
    ("GET", "/v2/lbaas/l7policies/{id}/rules/{r}"), ("PUT", "/v2/lbaas/l7policies/{id}/rules/{r}"),
    ("DELETE", "/v2/lbaas/l7policies/{id}/rules/{r}"),
    ("GET", "/v2/lbaas/quotas"), ("GET", "/v2/lbaas/quotas/defaults"),
    ("GET", "/v2/lbaas/quotas/{p}"), ("PUT", "/v2/lbaas/quotas/{p}"),
    ("DELETE", "/v2/lbaas/quotas/{p}"), ("GET", "/v2/lbaas/quotas/{p}/default"),
    ("GET", "/v2/lbaas/providers"), ("GET", "/v2/lbaas/providers/{p}/flavor_capabilities"),
    ("GET", "/v2/lbaas/providers/{p}/availability_zone_capabilities"),
    ("GET", "/v2/lbaas/flavors"), ("POST", "/v2/lbaas/flavors"), ("GET", "/v2/lbaas/flavors/{f}"),
    ("PUT", "/v2/lbaas/flavors/{f}"), ("DELETE", "/v2/lbaas/flavors/{f}"),
    ("GET", "/v2/lbaas/flavorprofiles"), ("POST", "/v2/lbaas/flavorprofiles"),
    ("GET", "/v2/lbaas/flavorprofiles/{f}"), ("PUT", "/v2/lbaas/flavorprofiles/{f}"),
    ("DELETE", "/v2/lbaas/flavorprofiles/{f}"),
    ("GET", "/v2/lbaas/availabilityzones"), ("POST", "/v2/lbaas/availabilityzones"),
    ("GET", "/v2/lbaas/availabilityzones/{a}"), ("PUT", "/v2/lbaas/availabilityzones/{a}"),
    ("DELETE", "/v2/lbaas/availabilityzones/{a}"),
    ("GET", "/v2/lbaas/availabilityzoneprofiles"), ("POST", "/v2/lbaas/availabilityzoneprofiles"),
    ("GET", "/v2/lbaas/availabilityzoneprofiles/{a}"),
    ("PUT", "/v2/lbaas/availabilityzoneprofiles/{a}"),
    ("DELETE", "/v2/lbaas/availabilityzoneprofiles/{a}"),
    ("GET", "/v2/octavia/amphorae"), ("GET", "/v2/octavia/amphorae/{a}"),
    ("DELETE", "/v2/octavia/amphorae/{a}"), ("PUT", "/v2/octavia/amphorae/{a}/config"),
    ("PUT", "/v2/octavia/amphorae/{a}/failover"), ("GET", "/v2/octavia/amphorae/{a}/stats"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), OCTAVIA_API)
def test_every_octavia_endpoint_has_a_rule(method, path):
    assert (method, normalize(path)) in route_table()
    assert (method, normalize(path.replace("/v2/", "/v2.0/"))) in route_table()


def test_rule_names_are_octavias_and_defaults_registered(engine):
    names = {r.name for r in ENDPOINT_RULES}
    assert "os_load-balancer_api:loadbalancer:get_all" in names
    assert "os_load-balancer_api:loadbalancer:get_all-global" in names
    assert "os_load-balancer_api:quota:get_defaults" in names
    assert "os_load-balancer_api:amphora:put_config" in names
    for name in [*BASE_RULES, *names]:
        assert name in engine.enforcer.registered_rules


def test_normalize():
    assert normalize("/v2.0/lbaas/pools/{pool_id}/members/") == "/lbaas/pools/{}/members"
    assert normalize("/v2/lbaas/quotas/defaults") == "/lbaas/quotas/defaults"


@pytest.mark.parametrize(
    ("roles", "is_admin"),
    [(("admin",), True), (("load-balancer_admin",), True), (("member",), False), ((), False)],
)
def test_is_admin_credential_is_context_is_admin(engine, roles, is_admin):
    assert engine.credentials(Principal("p", roles))["is_admin"] is is_admin


def test_system_scoped_reader_is_global_observer(engine):
    p = Principal("", ("reader",), system_scope="all")
    out = engine.decide(p, "GET", "/v2/lbaas/loadbalancers/{lb_id}")
    assert out.is_admin and out.scope().all_projects
    with pytest.raises(ApiFault) as err:
        engine.decide(p, "POST", "/v2/lbaas/loadbalancers")
    assert err.value.status == 403


def test_system_admin(engine):
    p = Principal("", ("admin",), system_scope="all")
    assert engine.decide(p, "PUT", "/v2/octavia/amphorae/{a}/failover").is_admin


def test_scope_decision(engine):
    member = Principal("pa", ("member",))
    out = engine.decide(member, "GET", "/v2/lbaas/loadbalancers/{x}")
    assert not out.is_admin and out.scope().project_id == "pa"
    admin = Principal("pa", ("admin",))
    assert engine.decide(admin, "DELETE", "/v2/lbaas/pools/{x}").scope().all_projects


def test_unmapped_route_is_authentication_only(engine):
    p = Principal("pa", ())
    assert engine.decide(p, "GET", "/v2.0/networks") is p


def test_allowed_helper(engine):
    assert engine.allowed("load-balancer:write", Principal("pa", ("load-balancer_member",)))
    assert not engine.allowed(
        "load-balancer:write", Principal("pa", ("load-balancer_member",)), "pb"
    )
