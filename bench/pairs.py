"""Benchmark: ACTIVE_STANDBY load balancers on the netns compute driver (root only), through the
whole stack (every service a process; agents, haproxy and keepalived in network namespaces).

  - create: POST a plain ACTIVE_STANDBY load balancer (a flavor with loadbalancer_topology
    ACTIVE_STANDBY), GET every 5 ms until ACTIVE; the spare pool is refilled before each run
    (LBAAS_SPARE_POOL_SIZE=haproxy=2 unless --spares says otherwise). One warm-up, not counted.
  - takeover: a client sends 50 requests/s through the VIP (a fresh connection each, 0.5 s
    timeouts); every process in the MASTER's namespace gets SIGKILL; the gap is the time from
    the last success before the kill to the first success after it. Each run starts with the
    pair whole again (MASTER + BACKUP, ALLOCATED) and the health service settled.
  - resize: the same client (5 s timeouts: a dropped SYN is retransmitted after 1 s) while the
    pair is resized, alternately to the "medium" and the "small" size; the time from the PUT
    to both amphorae of the new size ALLOCATED and the load balancer ACTIVE, the slowest
    request of the run, and the requests that failed.

Run: `make bench` (or `python -m bench.pairs --runs 10`). Prints p50/p95 and writes JSON to
bench/results/pairs.json. Target: takeover gap <= 1 s (Octavia's VRRP defaults: about 3 s).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.lifecycle import summary, wait_active
from services.orchestrator.domain.netns_layout import NetnsLayout
from tests.support.api import Api, amphorae, wait_for
from tests.support.backends import Backend
from tests.support.host import host_settings_kept
from tests.support.netns import Traffic, kill_namespace, netns_available, netns_env
from tests.support.stack import RunningStack, health_settled, start_stack, stop_stack

PORT = 8080


def _flavor(admin: Api, size: str = "") -> str:
    data = {"backend": "haproxy", "loadbalancer_topology": "ACTIVE_STANDBY"}
    if size:
        data["compute_flavor"] = size
    name = f"bench-pair{'-' + size if size else ''}"
    profile = admin.post(
        "/v2/lbaas/flavorprofiles",
        {"flavorprofile": {"name": name, "provider_name": "amphora",
                           "flavor_data": json.dumps(data)}},
    )["flavorprofile"]  # fmt: skip
    return admin.post(
        "/v2/lbaas/flavors",
        {"flavor": {"name": name, "flavor_profile_id": profile["id"], "enabled": True}},
    )["flavor"]["id"]


def _pair(admin: Api, lb_id: str) -> dict[str, dict] | None:
    found = amphorae(admin, lb_id)
    roles = {a["role"]: a for a in found}
    if len(found) == 2 and set(roles) == {"MASTER", "BACKUP"}:
        if all(a["status"] == "ALLOCATED" for a in found):
            return roles
    return None


def _ready_spares(admin: Api, count: int) -> bool:
    ready = [a for a in amphorae(admin) if a["status"] == "READY" and not a["loadbalancer_id"]]
    return len(ready) >= count


def _quiet(stack: RunningStack, admin: Api) -> None:
    wait_for(
        lambda: health_settled(stack, {a["id"] for a in amphorae(admin)}),
        60,
        "no stale amphora left in the health service",
        interval=0.05,
    )


def bench_create(
    stack: RunningStack, member: Api, admin: Api, subnet: str, flavor: str, runs: int, spares: int
) -> list[float]:
    times = []
    for i in range(runs + 1):
        wait_for(lambda: _ready_spares(admin, spares), 90, "ready spares", interval=0.05)
        _quiet(stack, admin)
        t0 = time.perf_counter()
        lb = member.post(
            "/v2/lbaas/loadbalancers",
            {"loadbalancer": {"name": f"bench-pair-{i}", "vip_subnet_id": subnet,
                              "flavor_id": flavor}},
        )["loadbalancer"]  # fmt: skip
        wait_active(member, lb["id"])
        if i:
            times.append(time.perf_counter() - t0)
        member.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
        wait_for(
            lambda lb_id=lb["id"]: (
                member.http.get(f"/v2/lbaas/loadbalancers/{lb_id}").status_code == 404
            ),
            60,
            "load balancer deleted",
            interval=0.05,
        )
    return times


def bench_takeover(
    stack: RunningStack, member: Api, admin: Api, subnet: str, flavor: str, runs: int
) -> tuple[list[float], int]:
    """(gap per run, requests failed after a takeover, over every run)."""
    layout = NetnsLayout(stack.env["LBAAS_NETNS_CIDR"])
    backend = Backend("bench-pair", host=layout.host_address).start()
    traffic = None
    try:
        pool = {
            "name": "bench-pair-p",
            "protocol": "HTTP",
            "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": backend.host, "protocol_port": backend.port}],
        }
        body = {
            "loadbalancer": {
                "name": "bench-pair-takeover",
                "vip_subnet_id": subnet,
                "flavor_id": flavor,
                "listeners": [{"name": "bench-pair-l", "protocol": "HTTP",
                               "protocol_port": PORT, "default_pool": pool}],
            }
        }  # fmt: skip
        lb = member.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
        wait_active(member, lb["id"])
        traffic = Traffic(lb["vip_address"], PORT, [layout.host_address], max_seconds=1800)
        traffic.start()
        gaps, failed = [], 0
        for run in range(runs):
            roles = wait_for(lambda: _pair(admin, lb["id"]), 120, "the pair whole", interval=0.05)
            wait_active(member, lb["id"])
            _quiet(stack, admin)
            wait_for(lambda: traffic.successes_after(time.perf_counter() - 0.5), 30, "serving")
            kill_namespace(f"lbaas-amp-{roles['MASTER']['id']}")
            t_kill = time.perf_counter()
            wait_for(lambda t=t_kill: traffic.successes_after(t), 30, "the VIP served again")
            wait_for(
                lambda old=roles["MASTER"]["id"]: (
                    (p := _pair(admin, lb["id"])) and old not in {a["id"] for a in p.values()}
                ),
                120,
                "the pair rebuilt",
                interval=0.05,
            )
            time.sleep(1.0)
            gap, lost = traffic.gap(t_kill)
            gaps.append(gap)
            failed += len(lost)
            print(f"run {run + 1}: takeover gap {gap * 1000:.0f} ms", file=sys.stderr)
        return gaps, failed
    finally:
        if traffic is not None:
            traffic.stop()
        backend.stop()


def bench_resize(
    stack: RunningStack, member: Api, admin: Api, subnet: str, runs: int
) -> tuple[list[float], list[float], int]:
    """(resize time per run, slowest request per run, requests failed over every run)."""
    layout = NetnsLayout(stack.env["LBAAS_NETNS_CIDR"])
    backend = Backend("bench-resize", host=layout.host_address).start()
    flavors = {size: _flavor(admin, size) for size in ("small", "medium")}
    traffic = None
    try:
        pool = {
            "name": "bench-resize-p",
            "protocol": "HTTP",
            "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": backend.host, "protocol_port": backend.port}],
        }
        body = {
            "loadbalancer": {
                "name": "bench-resize",
                "vip_subnet_id": subnet,
                "flavor_id": flavors["small"],
                "listeners": [{"name": "bench-resize-l", "protocol": "HTTP",
                               "protocol_port": PORT, "default_pool": pool}],
            }
        }  # fmt: skip
        lb = member.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
        wait_active(member, lb["id"])
        traffic = Traffic(
            lb["vip_address"], PORT, [layout.host_address], timeout=5.0, max_seconds=1800
        )
        traffic.start()
        times, slowest = [], []
        for run in range(runs):
            size = "medium" if run % 2 == 0 else "small"
            wait_for(lambda: _pair(admin, lb["id"]), 120, "the pair whole", interval=0.05)
            wait_active(member, lb["id"])
            _quiet(stack, admin)
            old = {a["id"] for a in amphorae(admin, lb["id"])}
            t0 = time.perf_counter()
            r = admin.http.put(
                f"/v2/lbaas/loadbalancers/{lb['id']}/resize",
                json={"loadbalancer": {"flavor_id": flavors[size]}},
            )
            assert r.status_code == 202, (r.status_code, r.text)
            wait_for(
                lambda old=old, size=size: (
                    (p := _pair(admin, lb["id"]))
                    and not old & {a["id"] for a in p.values()}
                    and all(a["compute_flavor"] == size for a in p.values())
                    and member.lb(lb["id"])["provisioning_status"] == "ACTIVE"
                ),
                180,
                "resized",
                interval=0.05,
            )
            times.append(time.perf_counter() - t0)
            slowest.append(max(r.took for r in traffic.results if r.at >= t0))
            print(
                f"run {run + 1}: resized to {size} in {times[-1]:.2f} s, slowest request "
                f"{slowest[-1] * 1000:.0f} ms",
                file=sys.stderr,
            )
        time.sleep(1.0)
        return times, slowest, sum(not r.ok for r in traffic.results)
    finally:
        if traffic is not None:
            traffic.stop()
        backend.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--spares", type=int, default=2)
    args = parser.parse_args()
    if not netns_available():
        print("bench.pairs: skipped (needs root, iproute2 and keepalived)")
        return
    env = {**netns_env(), "LBAAS_SPARE_POOL_SIZE": f"haproxy={args.spares}"}
    with tempfile.TemporaryDirectory(prefix="lbaas-bench-") as tmp:
        stack = start_stack(Path(tmp) / "run", extra_env=env)
        try:
            member = Api(stack.api_url, stack.token("member"))
            admin = Api(stack.api_url, stack.token("admin"))
            subnet = member.get("/v2.0/subnets")["subnets"][0]["id"]
            flavor = _flavor(admin)
            create = bench_create(stack, member, admin, subnet, flavor, args.runs, args.spares)
            gaps, failed = bench_takeover(stack, member, admin, subnet, flavor, args.runs)
            resizes, slowest, resize_failed = bench_resize(stack, member, admin, subnet, args.runs)
        finally:
            stop_stack(stack)
    results = {
        f"active_standby_create_to_active_{args.spares}_spares": summary(create),
        "active_standby_takeover_gap": summary(gaps),
        "active_standby_resize": summary(resizes),
        "resize_slowest_request": summary(slowest),
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "pairs.json").write_text(
        json.dumps(
            {**results, "failed_after_takeover": failed, "failed_during_resize": resize_failed},
            indent=2,
        )
        + "\n"
    )
    for name, s in results.items():
        print(
            f"{name:42s} runs={s['runs']} p50={s['p50_ms']} ms p95={s['p95_ms']} ms "
            f"(min {s['min_ms']}, max {s['max_ms']})"
        )
    print(f"requests failed after a takeover: {failed}; during resizes: {resize_failed}")


if __name__ == "__main__":
    with host_settings_kept():  # what the stack's agents change on the host
        main()
