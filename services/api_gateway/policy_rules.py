"""Octavia's default policy: base rules and one rule per v2 API endpoint (same names).

The base rules are the effective Octavia defaults with `enforce_new_defaults = False`:
each new-default persona (keystone `reader`/`member`/`admin`, system scope) OR-ed with the
deprecated Octavia advanced-RBAC role (`load-balancer_*`), so both sets of roles work.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "rule:load-balancer:admin"
READ = "rule:load-balancer:read"
READ_GLOBAL = "rule:load-balancer:read-global"
WRITE = "rule:load-balancer:write"
READ_QUOTA = "rule:load-balancer:read-quota"
READ_QUOTA_GLOBAL = "rule:load-balancer:read-quota-global"
WRITE_QUOTA = "rule:load-balancer:write-quota"

API = "os_load-balancer_api"

BASE_RULES: dict[str, str] = {
    # Keystone default personas.
    "system-admin": "role:admin and system_scope:all",
    "system-reader": "role:reader and system_scope:all",
    "project-member": "role:member and project_id:%(project_id)s",
    "project-reader": "role:reader and project_id:%(project_id)s",
    "context_is_admin": "role:admin or role:load-balancer_admin",
    "load-balancer:owner": "project_id:%(project_id)s",
    # API access roles ('is_admin:True' = the credentials' is_admin, i.e. context_is_admin).
    "load-balancer:admin": (
        "is_admin:True or role:admin or role:load-balancer_admin or rule:system-admin"
    ),
    "load-balancer:global_observer": (
        "role:admin or role:load-balancer_global_observer or rule:system-reader"
    ),
    "load-balancer:member_and_owner": (
        "rule:project-member or (role:load-balancer_member and rule:load-balancer:owner)"
    ),
    "load-balancer:observer_and_owner": (
        "rule:project-reader or (role:load-balancer_observer and rule:load-balancer:owner)"
    ),
    "load-balancer:quota-admin": "role:admin or role:load-balancer_quota_admin",
    # API access methods.
    "load-balancer:read": (
        "rule:load-balancer:observer_and_owner or rule:load-balancer:global_observer or "
        "rule:load-balancer:member_and_owner or rule:load-balancer:admin"
    ),
    "load-balancer:read-global": "rule:load-balancer:global_observer or rule:load-balancer:admin",
    "load-balancer:write": "rule:load-balancer:member_and_owner or rule:load-balancer:admin",
    "load-balancer:read-quota": (
        "rule:load-balancer:observer_and_owner or rule:load-balancer:global_observer or "
        "rule:load-balancer:member_and_owner or rule:load-balancer:quota-admin or "
        "rule:load-balancer:admin"
    ),
    "load-balancer:read-quota-global": (
        "rule:load-balancer:global_observer or rule:load-balancer:quota-admin or "
        "rule:load-balancer:admin"
    ),
    "load-balancer:write-quota": "rule:load-balancer:quota-admin or rule:load-balancer:admin",
}


@dataclass(frozen=True)
class EndpointRule:
    name: str
    check: str
    description: str
    operations: tuple[tuple[str, str], ...]  # (method, path under /v2), Octavia's spelling


def _crud(
    obj: str,
    base: str,
    item: str,
    label: str,
    *,
    global_list: bool = True,
    read: str = READ,
    write: str = WRITE,
    create: str | None = None,
    update: str | None = None,
    delete: str | None = None,
) -> list[EndpointRule]:
    one = f"{base}/{{{item}}}"
    rules = [
        EndpointRule(f"{API}:{obj}:get_all", read, f"List {label}s", (("GET", base),)),
    ]
    if global_list:
        rules.append(
            EndpointRule(
                f"{API}:{obj}:get_all-global",
                READ_GLOBAL,
                f"List {label}s including resources owned by others",
                (("GET", base),),
            )
        )
    rules += [
        EndpointRule(f"{API}:{obj}:post", create or write, f"Create a {label}", (("POST", base),)),
        EndpointRule(f"{API}:{obj}:get_one", read, f"Show {label} details", (("GET", one),)),
        EndpointRule(f"{API}:{obj}:put", update or write, f"Update a {label}", (("PUT", one),)),
        EndpointRule(
            f"{API}:{obj}:delete", delete or write, f"Remove a {label}", (("DELETE", one),)
        ),
    ]
    return rules


LB = "/v2/lbaas/loadbalancers"
LISTENERS = "/v2/lbaas/listeners"
MEMBERS = "/v2/lbaas/pools/{pool_id}/members"
L7RULES = "/v2/lbaas/l7policies/{l7policy_id}/rules"
QUOTAS = "/v2/lbaas/quotas"
AMPHORAE = "/v2/octavia/amphorae"
MANAGEMENT_LB = "/v2/octavia/loadbalancers"
PROVIDERS = "/v2/lbaas/providers"
CERTIFICATES = "/v2/lbaas/certificates"

ENDPOINT_RULES: list[EndpointRule] = [
    *_crud("loadbalancer", LB, "loadbalancer_id", "Load Balancer"),
    EndpointRule(
        f"{API}:loadbalancer:get_stats",
        READ,
        "Show Load Balancer statistics",
        (("GET", f"{LB}/{{loadbalancer_id}}/stats"),),
    ),
    EndpointRule(
        f"{API}:loadbalancer:get_status",
        READ,
        "Show Load Balancer status",
        (("GET", f"{LB}/{{loadbalancer_id}}/status"),),
    ),
    EndpointRule(
        f"{API}:loadbalancer:put_failover",
        ADMIN,
        "Failover a Load Balancer",
        (("PUT", f"{LB}/{{loadbalancer_id}}/failover"),),
    ),
    EndpointRule(
        f"{API}:loadbalancer:put_resize",
        ADMIN,
        "Resize a Load Balancer (move it to another flavor; an extension)",
        (("PUT", f"{LB}/{{loadbalancer_id}}/resize"),),
    ),
    *_crud("listener", LISTENERS, "listener_id", "Listener"),
    EndpointRule(
        f"{API}:listener:get_stats",
        READ,
        "Show Listener statistics",
        (("GET", f"{LISTENERS}/{{listener_id}}/stats"),),
    ),
    *_crud("pool", "/v2/lbaas/pools", "pool_id", "Pool"),
    *_crud("member", MEMBERS, "member_id", "Member", global_list=False),
    *_crud("healthmonitor", "/v2/lbaas/healthmonitors", "healthmonitor_id", "Health Monitor"),
    *_crud("l7policy", "/v2/lbaas/l7policies", "l7policy_id", "L7 Policy"),
    *_crud("l7rule", L7RULES, "l7rule_id", "L7 Rule", global_list=False),
    EndpointRule(f"{API}:quota:get_all", READ_QUOTA, "List Quotas", (("GET", QUOTAS),)),
    EndpointRule(
        f"{API}:quota:get_all-global",
        READ_QUOTA_GLOBAL,
        "List Quotas including resources owned by others",
        (("GET", QUOTAS),),
    ),
    EndpointRule(
        f"{API}:quota:get_one",
        READ_QUOTA,
        "Show Quota details",
        (("GET", f"{QUOTAS}/{{project_id}}"),),
    ),
    EndpointRule(
        f"{API}:quota:put", WRITE_QUOTA, "Update a Quota", (("PUT", f"{QUOTAS}/{{project_id}}"),)
    ),
    EndpointRule(
        f"{API}:quota:delete",
        WRITE_QUOTA,
        "Remove a Quota",
        (("DELETE", f"{QUOTAS}/{{project_id}}"),),
    ),
    EndpointRule(
        f"{API}:quota:get_defaults",
        READ_QUOTA,
        "Show Default Quota for a Project",
        (("GET", f"{QUOTAS}/{{project_id}}/default"),),
    ),
    EndpointRule(f"{API}:provider:get_all", READ, "List enabled providers", (("GET", PROVIDERS),)),
    EndpointRule(
        f"{API}:provider-flavor:get_all",
        ADMIN,
        "List the provider flavor capabilities.",
        (("GET", f"{PROVIDERS}/{{provider}}/flavor_capabilities"),),
    ),
    EndpointRule(
        f"{API}:provider-availability-zone:get_all",
        ADMIN,
        "List the provider availability zone capabilities.",
        (("GET", f"{PROVIDERS}/{{provider}}/availability_zone_capabilities"),),
    ),
    *_crud(
        "flavor",
        "/v2/lbaas/flavors",
        "flavor_id",
        "Flavor",
        global_list=False,
        create=ADMIN,
        update=ADMIN,
        delete=ADMIN,
    ),
    *_crud(
        "flavor-profile",
        "/v2/lbaas/flavorprofiles",
        "flavor_profile_id",
        "Flavor Profile",
        global_list=False,
        read=ADMIN,
        write=ADMIN,
    ),
    *_crud(
        "availability-zone",
        "/v2/lbaas/availabilityzones",
        "availability_zone_id",
        "Availability Zone",
        global_list=False,
        create=ADMIN,
        update=ADMIN,
        delete=ADMIN,
    ),
    *_crud(
        "availability-zone-profile",
        "/v2/lbaas/availabilityzoneprofiles",
        "availability_zone_profile_id",
        "Availability Zone Profile",
        global_list=False,
        read=ADMIN,
        write=ADMIN,
    ),
    EndpointRule(f"{API}:amphora:get_all", ADMIN, "List Amphorae", (("GET", AMPHORAE),)),
    EndpointRule(
        f"{API}:amphora:get_one",
        ADMIN,
        "Show Amphora details",
        (("GET", f"{AMPHORAE}/{{amphora_id}}"),),
    ),
    EndpointRule(
        f"{API}:amphora:delete",
        ADMIN,
        "Delete an Amphora",
        (("DELETE", f"{AMPHORAE}/{{amphora_id}}"),),
    ),
    EndpointRule(
        f"{API}:amphora:put_config",
        ADMIN,
        "Update Amphora Agent Configuration",
        (("PUT", f"{AMPHORAE}/{{amphora_id}}/config"),),
    ),
    EndpointRule(
        f"{API}:amphora:put_config_all",
        ADMIN,
        "Refresh the configuration of every amphora (minor update)",
        (("PUT", f"{AMPHORAE}/config"),),
    ),
    EndpointRule(
        f"{API}:amphora:put_failover",
        ADMIN,
        "Failover Amphora",
        (("PUT", f"{AMPHORAE}/{{amphora_id}}/failover"),),
    ),
    EndpointRule(
        f"{API}:amphora:get_stats",
        ADMIN,
        "Show Amphora statistics",
        (("GET", f"{AMPHORAE}/{{amphora_id}}/stats"),),
    ),
    # The management API (an extension): config preview and forced re-push of a load balancer,
    # an amphora's diagnostics and log tails.
    EndpointRule(
        f"{API}:loadbalancer:get_config_preview",
        ADMIN,
        "Show what the renderer would push to a Load Balancer's amphorae now (an extension)",
        (("GET", f"{MANAGEMENT_LB}/{{loadbalancer_id}}/config_preview"),),
    ),
    EndpointRule(
        f"{API}:loadbalancer:put_config",
        ADMIN,
        "Re-render and force-push a Load Balancer's configuration (an extension)",
        (("PUT", f"{MANAGEMENT_LB}/{{loadbalancer_id}}/config"),),
    ),
    EndpointRule(
        f"{API}:amphora:get_diagnostics",
        ADMIN,
        "Show an Amphora agent's diagnostics (an extension)",
        (("GET", f"{AMPHORAE}/{{amphora_id}}/diagnostics"),),
    ),
    EndpointRule(
        f"{API}:amphora:get_logs",
        ADMIN,
        "Show the last lines of an Amphora agent's and engine's logs (an extension)",
        (("GET", f"{AMPHORAE}/{{amphora_id}}/logs"),),
    ),
    # An extension: whether the health service holds automatic failover back, and why.
    EndpointRule(
        f"{API}:failover:get_status",
        ADMIN,
        "Show the state of automatic failover (circuit breaker, hold-off)",
        (("GET", "/v2/octavia/failover_status"),),
    ),
    # Certificates (an extension: Octavia reads them from Barbican); listener defaults, no PUT.
    *(
        r
        for r in _crud("certificate", CERTIFICATES, "certificate_id", "Certificate")
        if not r.name.endswith(":put")
    ),
]
