"""Automatic failover end to end: the agent and haproxy of a load balancer's amphora are killed
with SIGKILL, again and again; each time the health service finds the amphora silent, the
orchestrator replaces it (with the ready spare), traffic through the VIP comes back, and the dead
amphora leaves no process and no directory behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.api import Api, amphorae, first_served, ready_spares, wait_for
from tests.support.backends import Backend
from tests.support.stack import (
    RunningStack,
    amphora_pids,
    failover_status,
    health_settled,
    kill_amphora,
    process_start_time,
    running_stack,
)

pytestmark = pytest.mark.e2e
PORT = 8080
ROUNDS = 10


def _kill(stack: RunningStack, amphora_id: str) -> dict[int, int]:
    """Kills the amphora's agent and haproxy processes at once; returns {pid: start time}."""
    agent = int((stack.run_dir / "amphorae" / amphora_id / "agent.pid").read_text())
    pids = amphora_pids(stack.run_dir, amphora_id)
    assert agent in pids, (agent, pids)
    haproxy = [p for p in pids if b"haproxy" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert haproxy, f"no haproxy process of amphora {amphora_id} among {pids}"
    killed = kill_amphora(stack.run_dir, amphora_id)
    assert {agent, *haproxy} <= set(killed), (agent, haproxy, killed)
    return killed


def _total_connections(api: Api, lb_id: str) -> int:
    return api.get(f"/v2/lbaas/loadbalancers/{lb_id}/stats")["stats"]["total_connections"]


def _counted_at_least(api: Api, lb_id: str, floor: int) -> int | None:
    """The load balancer's total once it reached floor (statistics come with heartbeats)."""
    total = _total_connections(api, lb_id)
    return total if total >= floor else None


def _serving_amphora(admin: Api, lb_id: str, not_id: str) -> dict | None:
    """The load balancer's one amphora once it is ALLOCATED and not not_id."""
    found = amphorae(admin, lb_id)
    if len(found) == 1 and found[0]["id"] != not_id and found[0]["status"] == "ALLOCATED":
        return found[0]
    return None


@pytest.mark.timeout(900)
def test_killed_amphora_is_replaced_and_traffic_comes_back():
    backend = Backend("failover-backend").start()
    try:
        with running_stack("lbaas-fo-") as stack:
            member = Api(stack.api_url, stack.token("member"))
            admin = Api(stack.api_url, stack.token("admin"))
            try:
                subnet = member.get("/v2.0/subnets")["subnets"][0]["id"]
                body = {
                    "loadbalancer": {
                        "name": "failing-over",
                        "vip_subnet_id": subnet,
                        "listeners": [
                            {
                                "name": "failing-over-l",
                                "protocol": "HTTP",
                                "protocol_port": PORT,
                                "default_pool": {
                                    "name": "failing-over-p",
                                    "protocol": "HTTP",
                                    "lb_algorithm": "ROUND_ROBIN",
                                    "members": [
                                        {"address": backend.host, "protocol_port": backend.port}
                                    ],
                                },
                            }
                        ],
                    }
                }
                lb = member.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
                lb = member.wait_lb(lb["id"], timeout=90)
                url = f"http://{lb['vip_address']}:{PORT}/"
                first_served(url, backend.name, timeout=30)
                (amphora,) = amphorae(admin, lb["id"])

                timings = []
                for round_ in range(1, ROUNDS + 1):
                    # Every round starts from the same state: serving, a ready spare, and no
                    # amphora of an earlier round still counted (stale) by the health service.
                    spare = wait_for(lambda: ready_spares(admin), 60, "a ready spare")[0]
                    wait_for(
                        lambda: health_settled(stack, {a["id"] for a in amphorae(admin)}),
                        60,
                        "no stale amphora left in the health service",
                    )
                    wait_for(
                        lambda: member.lb(lb["id"])["operating_status"] == "ONLINE",
                        30,
                        "load balancer ONLINE before the kill",
                    )
                    # Statistics are cumulative: what the dying amphora counted stays.
                    before = _total_connections(member, lb["id"])
                    old_id = amphora["id"]
                    claimed = failover_status(stack).failovers_claimed
                    killed = _kill(stack, old_id)
                    t0 = time.perf_counter()
                    served_at = first_served(url, backend.name, timeout=60)
                    timings.append(served_at - t0)
                    print(
                        f"round {round_}: amphora {old_id} killed ({len(killed)} processes), "
                        f"VIP served again after {served_at - t0:.3f} s"
                    )

                    amphora = wait_for(
                        lambda o=old_id: _serving_amphora(admin, lb["id"], o),
                        60,
                        f"one new ALLOCATED amphora replacing {old_id}",
                    )
                    assert amphora["id"] == spare["id"], "the failover did not take the spare"
                    wait_for(
                        lambda: (
                            (x := member.lb(lb["id"]))["provisioning_status"] == "ACTIVE"
                            and x["operating_status"] == "ONLINE"
                        ),
                        60,
                        "load balancer ACTIVE and ONLINE after the failover",
                    )
                    assert all(process_start_time(p) != s for p, s in killed.items()), (
                        "killed pids live"
                    )
                    assert amphora_pids(stack.run_dir, old_id) == []
                    assert not (stack.run_dir / "amphorae" / old_id).exists()
                    first_served(url, backend.name, timeout=5)
                    # Replaced because the health service found it silent and asked for it.
                    assert failover_status(stack).failovers_claimed == claimed + 1
                    assert _total_connections(member, lb["id"]) >= before, "stats went back"

                # A config push reloads haproxy (its new workers count from zero): the totals
                # go on from where they were, and count what the new workers serve.
                before = wait_for(
                    lambda: _counted_at_least(member, lb["id"], 1), 30, "counted connections"
                )
                member.put(
                    f"/v2/lbaas/listeners/{lb['listeners'][0]['id']}",
                    {"listener": {"timeout_client_data": 40000}},
                )
                member.wait_lb(lb["id"])
                for _ in range(5):
                    first_served(url, backend.name, timeout=5)
                after = wait_for(
                    lambda: _counted_at_least(member, lb["id"], before + 5),
                    30,
                    f"at least {before + 5} connections counted after the reload",
                )
                assert after >= before + 5

                # An operator's failover (the admin API) takes the same path, with a live
                # amphora: replaced by the spare, the old one stopped and removed.
                old_id = wait_for(
                    lambda: _serving_amphora(admin, lb["id"], ""), 30, "a serving amphora"
                )["id"]
                wait_for(lambda: ready_spares(admin), 60, "a ready spare")
                r = admin.http.put(f"/v2/octavia/amphorae/{old_id}/failover")
                assert r.status_code == 202, r.text
                wait_for(lambda: _serving_amphora(admin, lb["id"], old_id), 60, "replaced by hand")
                member.wait_lb(lb["id"])
                first_served(url, backend.name, timeout=30)
                wait_for(lambda: not amphora_pids(stack.run_dir, old_id), 30, "old one stopped")
                assert not (stack.run_dir / "amphorae" / old_id).exists()

                print(
                    "kill -> served (s): " + ", ".join(f"{t:.3f}" for t in timings),
                    f"| max {max(timings):.3f}",
                )
            finally:
                member.close()
                admin.close()
    finally:
        backend.stop()
