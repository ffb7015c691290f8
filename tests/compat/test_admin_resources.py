"""The operator resources through openstacksdk and the `openstack loadbalancer` CLI, one noop
stack: flavor profiles, flavors, availability-zone profiles, availability zones, providers and
their capabilities, quotas (show / set / unset / reset / defaults) and the amphora admin API
(list / show / stats / configure / failover)."""

from __future__ import annotations

import json

import openstack.exceptions
import pytest

from tests.support.api import Api, wait_for
from tests.support.osclients import cli, cli_fails, unique

pytestmark = pytest.mark.compat

QUOTA_KEYS = {"load_balancer", "listener", "pool", "health_monitor", "member", "l7policy", "l7rule"}


def active(conn, lb_id: str):
    return conn.load_balancer.wait_for_load_balancer(
        lb_id, status="ACTIVE", failures=["ERROR"], interval=0.1, wait=60
    )


@pytest.fixture(scope="module")
def provider(conn) -> str:
    names = [p.name for p in conn.load_balancer.providers()]
    assert names, "no provider listed"
    return "amphora" if "amphora" in names else names[0]


def test_providers_and_capabilities(conn, noop_stack, provider, subnet_id):
    providers = list(conn.load_balancer.providers())
    assert all(p.name and p.description is not None for p in providers)
    lb = active(conn, conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id).id)
    assert lb.provider in {p.name for p in providers}  # the default provider is listed
    caps = list(conn.load_balancer.provider_flavor_capabilities(provider))
    assert caps and all(c.name and c.description for c in caps)
    cli_caps = cli(noop_stack, "loadbalancer", "provider", "capability", "list", provider)
    assert {c["name"] for c in cli_caps} >= {c.name for c in caps}
    az_caps = cli(noop_stack, "loadbalancer", "provider", "capability", "list",
                  "--availability-zone", provider)  # fmt: skip
    assert all(c.get("type") in (None, "availability_zone") for c in az_caps)
    cli_providers = cli(noop_stack, "loadbalancer", "provider", "list")
    assert {p["name"] for p in cli_providers} == {p.name for p in providers}
    missing = cli_fails(noop_stack, "loadbalancer", "provider", "capability", "list", "nope")
    assert "nope" in missing or "404" in missing or "not" in missing.lower()
    conn.load_balancer.delete_load_balancer(lb.id)


def test_flavor_profiles_and_flavors_sdk(conn, provider, subnet_id):
    data = json.dumps({"loadbalancer_topology": "SINGLE"})
    fp = conn.load_balancer.create_flavor_profile(
        name=unique("fp"), provider_name=provider, flavor_data=data
    )
    assert fp.provider_name == provider and json.loads(fp.flavor_data) == json.loads(data)
    fp = conn.load_balancer.update_flavor_profile(fp.id, name=fp.name + "-x")
    assert conn.load_balancer.get_flavor_profile(fp.id).name.endswith("-x")
    assert fp.id in {x.id for x in conn.load_balancer.flavor_profiles(name=fp.name)}

    flavor = conn.load_balancer.create_flavor(
        name=unique("fl"), flavor_profile_id=fp.id, description="small", is_enabled=True
    )
    assert flavor.flavor_profile_id == fp.id and flavor.is_enabled is True
    assert flavor.description == "small"
    flavor = conn.load_balancer.update_flavor(flavor.id, description="tiny", is_enabled=False)
    assert flavor.description == "tiny" and flavor.is_enabled is False
    assert [f.id for f in conn.load_balancer.flavors(name=flavor.name)] == [flavor.id]
    with pytest.raises(openstack.exceptions.BadRequestException):
        # Octavia: a disabled flavor cannot be used.
        conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id, flavor_id=flavor.id)
    conn.load_balancer.update_flavor(flavor.id, is_enabled=True)
    lb = conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id, flavor_id=flavor.id)
    assert lb.flavor_id == flavor.id
    active(conn, lb.id)
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.load_balancer.delete_flavor_profile(fp.id)  # in use by a flavor
    conn.load_balancer.delete_load_balancer(lb.id)
    conn.load_balancer.wait_for_delete(lb, interval=0.1, wait=60)
    conn.load_balancer.delete_flavor(flavor.id)
    conn.load_balancer.delete_flavor_profile(fp.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.load_balancer.get_flavor(flavor.id)


def test_availability_zones_sdk(conn, provider, subnet_id):
    azp = conn.load_balancer.create_availability_zone_profile(
        name=unique("azp"), provider_name=provider,
        availability_zone_data=json.dumps({"compute_zone": "az1"}),
    )  # fmt: skip
    assert azp.provider_name == provider
    assert json.loads(azp.availability_zone_data) == {"compute_zone": "az1"}
    conn.load_balancer.update_availability_zone_profile(azp.id, name=azp.name + "-y")
    assert conn.load_balancer.get_availability_zone_profile(azp.id).name == azp.name + "-y"
    az = conn.load_balancer.create_availability_zone(
        name=unique("az"), availability_zone_profile_id=azp.id, description="zone"
    )
    assert az.availability_zone_profile_id == azp.id and az.is_enabled is True
    az = conn.load_balancer.update_availability_zone(az.name, description="zone2")
    assert conn.load_balancer.get_availability_zone(az.name).description == "zone2"
    assert az.name in {x.name for x in conn.load_balancer.availability_zones()}
    lb = conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id, availability_zone=az.name)
    assert lb.availability_zone == az.name
    active(conn, lb.id)
    assert [x.id for x in conn.load_balancer.load_balancers(availability_zone=az.name)] == [lb.id]
    conn.load_balancer.delete_load_balancer(lb.id)
    conn.load_balancer.wait_for_delete(lb, interval=0.1, wait=60)
    conn.load_balancer.delete_availability_zone(az.name)
    conn.load_balancer.delete_availability_zone_profile(azp.id)
    assert az.name not in {x.name for x in conn.load_balancer.availability_zones()}


def test_flavors_and_zones_cli(noop_stack, provider):
    s = noop_stack
    fp = cli(s, "loadbalancer", "flavorprofile", "create", "--name", unique("cfp"), "--provider",
             provider, "--flavor-data", '{"loadbalancer_topology": "SINGLE"}')  # fmt: skip
    assert fp["provider_name"] == provider and "SINGLE" in fp["flavor_data"]
    cli(s, "loadbalancer", "flavorprofile", "set", "--name", fp["name"] + "-2", fp["id"],
        parse=False)  # fmt: skip
    assert cli(s, "loadbalancer", "flavorprofile", "show", fp["id"])["name"] == fp["name"] + "-2"
    assert fp["id"] in {x["id"] for x in cli(s, "loadbalancer", "flavorprofile", "list")}
    fl = cli(s, "loadbalancer", "flavor", "create", "--name", unique("cfl"), "--flavorprofile",
             fp["id"], "--description", "d", "--enable")  # fmt: skip
    assert fl["flavor_profile_id"] == fp["id"] and fl["enabled"] is True
    cli(s, "loadbalancer", "flavor", "set", "--disable", fl["id"], parse=False)
    assert cli(s, "loadbalancer", "flavor", "show", fl["id"])["enabled"] is False
    cli(s, "loadbalancer", "flavor", "unset", "--description", fl["id"], parse=False)
    assert cli(s, "loadbalancer", "flavor", "show", fl["id"])["description"] in ("", None)
    assert [x["id"] for x in cli(s, "loadbalancer", "flavor", "list", "--name", fl["name"])] == [
        fl["id"]
    ]

    azp = cli(s, "loadbalancer", "availabilityzoneprofile", "create", "--name", unique("cazp"),
              "--provider", provider, "--availability-zone-data",
              '{"compute_zone": "nova"}')  # fmt: skip
    assert azp["provider_name"] == provider and "nova" in azp["availability_zone_data"]
    az = cli(s, "loadbalancer", "availabilityzone", "create", "--name", unique("caz"),
             "--availabilityzoneprofile", azp["id"], "--description", "z")  # fmt: skip
    assert az["availability_zone_profile_id"] == azp["id"] and az["enabled"] is True
    cli(s, "loadbalancer", "availabilityzone", "set", "--disable", "--description", "zz",
        az["name"], parse=False)  # fmt: skip
    shown = cli(s, "loadbalancer", "availabilityzone", "show", az["name"])
    assert shown["enabled"] is False and shown["description"] == "zz"
    cli(s, "loadbalancer", "availabilityzone", "unset", "--description", az["name"], parse=False)
    shown = cli(s, "loadbalancer", "availabilityzone", "show", az["name"])
    assert shown["description"] in ("", None)
    assert az["name"] in {x["name"] for x in cli(s, "loadbalancer", "availabilityzone", "list")}

    cli(s, "loadbalancer", "availabilityzone", "delete", az["name"], parse=False)
    cli(s, "loadbalancer", "availabilityzoneprofile", "delete", azp["id"], parse=False)
    cli(s, "loadbalancer", "flavor", "delete", fl["id"], parse=False)
    cli(s, "loadbalancer", "flavorprofile", "delete", fp["id"], parse=False)
    assert fl["id"] not in {x["id"] for x in cli(s, "loadbalancer", "flavor", "list")}


def test_quotas_sdk_and_cli(conn, noop_stack, rest: Api):
    project = noop_stack.project("member")
    defaults = conn.load_balancer.get_quota_default()
    raw_defaults = rest.get("/v2/lbaas/quotas/defaults")["quota"]
    assert set(raw_defaults) >= QUOTA_KEYS
    assert defaults.load_balancers == raw_defaults["load_balancer"]
    cli_defaults = cli(noop_stack, "loadbalancer", "quota", "defaults", "show")
    assert cli_defaults["load_balancer"] == raw_defaults["load_balancer"]

    quota = conn.load_balancer.update_quota(project, load_balancers=7, listeners=3)
    assert quota.load_balancers == 7 and quota.listeners == 3
    shown = conn.load_balancer.get_quota(project)
    assert shown.load_balancers == 7 and shown.pools == raw_defaults["pool"]
    assert project in {q.project_id for q in conn.load_balancer.quotas()}

    out = cli(noop_stack, "loadbalancer", "quota", "set", "--pool", "4", "--member", "9", project)
    assert out["pool"] == 4 and out["member"] == 9 and out["load_balancer"] == 7
    shown = cli(noop_stack, "loadbalancer", "quota", "show", project)
    assert (shown["pool"], shown["member"], shown["listener"]) == (4, 9, 3)
    cli(noop_stack, "loadbalancer", "quota", "unset", "--pool", project, parse=False)
    assert cli(noop_stack, "loadbalancer", "quota", "show", project)["pool"] == raw_defaults["pool"]
    listed = cli(noop_stack, "loadbalancer", "quota", "list")
    assert project in {q["project_id"] for q in listed}

    cli(noop_stack, "loadbalancer", "quota", "reset", project, parse=False)
    shown = rest.get(f"/v2/lbaas/quotas/{project}")["quota"]
    assert {k: shown[k] for k in QUOTA_KEYS} == {k: raw_defaults[k] for k in QUOTA_KEYS}
    conn.load_balancer.update_quota(project, load_balancers=1)
    conn.load_balancer.delete_quota(project)  # SDK reset
    assert conn.load_balancer.get_quota(project).load_balancers == raw_defaults["load_balancer"]

    # A member may not change quotas (Octavia's default policy).
    r = Api(noop_stack.api_url, noop_stack.token("member"))
    try:
        resp = r.http.put(f"/v2/lbaas/quotas/{project}", json={"quota": {"load_balancer": 100}})
        assert resp.status_code == 403, resp.text
    finally:
        r.close()


def test_amphora_admin_sdk_and_cli(conn, noop_stack, subnet_id, rest: Api):
    lb = active(conn, conn.load_balancer.create_load_balancer(vip_subnet_id=subnet_id).id)
    amps = list(conn.load_balancer.amphorae(loadbalancer_id=lb.id))
    assert len(amps) == 1
    amp = conn.load_balancer.get_amphora(amps[0].id)
    assert amp.loadbalancer_id == lb.id and amp.status == "ALLOCATED"
    assert amp.role in ("STANDALONE", "MASTER", "BACKUP") and amp.compute_id
    assert amp.lb_network_ip

    cli_amps = cli(noop_stack, "loadbalancer", "amphora", "list", "--loadbalancer", lb.id)
    assert [a["id"] for a in cli_amps] == [amp.id]
    shown = cli(noop_stack, "loadbalancer", "amphora", "show", amp.id)
    assert shown["loadbalancer_id"] == lb.id and shown["compute_id"] == amp.compute_id
    assert amp.id in {
        a["id"] for a in cli(noop_stack, "loadbalancer", "amphora", "list", "--status", "ALLOCATED")
    }

    stats = rest.get(f"/v2/octavia/amphorae/{amp.id}/stats")["amphora_stats"]
    assert isinstance(stats, list)
    cli_stats = cli(noop_stack, "loadbalancer", "amphora", "stats", "show", amp.id)
    assert {"active_connections", "bytes_in", "bytes_out", "total_connections"} <= set(cli_stats)

    conn.load_balancer.configure_amphora(amp.id)  # 202
    cli(noop_stack, "loadbalancer", "amphora", "configure", "--wait", amp.id, parse=False)
    active(conn, lb.id)

    cli(noop_stack, "loadbalancer", "amphora", "failover", "--wait", amp.id, parse=False)

    def replaced():
        now = [a for a in conn.load_balancer.amphorae(loadbalancer_id=lb.id)
               if a.status == "ALLOCATED"]  # fmt: skip
        return now if now and now[0].id != amp.id else None

    new = wait_for(replaced, 60, "the failed-over amphora to be replaced")
    active(conn, lb.id)
    conn.load_balancer.failover_amphora(new[0].id)
    active(conn, lb.id)
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status == "ACTIVE"

    member = Api(noop_stack.api_url, noop_stack.token("member"))
    try:
        assert member.http.get("/v2/octavia/amphorae").status_code == 403
    finally:
        member.close()
    conn.load_balancer.delete_load_balancer(lb.id, cascade=True)
