"""Benchmark: automatic failover and create with the spare pool, through the whole stack (every
service a process, real agents and haproxy, real HTTP).

  - failover: the agent and haproxy of a serving load balancer's amphora get SIGKILL at once;
    the time until a request through the VIP is served again (a fresh connection every 20 ms,
    0.5 s timeouts), with a ready spare (default settings, the spare READY before each kill) and
    without (a second stack with LBAAS_SPARE_POOL_SIZE=0). Beside it, the time from the kill to
    the health service's "failover started" log line (detection and the orchestrator's claim;
    the rest is the rebuild).
  - create: POST a plain load balancer, GET every 5 ms until ACTIVE; with a ready spare (the
    pool refilled before each run) and without. One create per stack is a warm-up, not counted.

Each run starts once the health service counts no stale amphora (the ones deleted or killed by
earlier runs are forgotten): otherwise the bench's own deletes, three within a few seconds, open
the failover circuit breaker, which then stays open (see _quiet).

Run: `make bench` (or `python -m bench.failover --runs 10`). Prints p50/p95 and writes JSON to
bench/results/failover.json. Targets (default settings): failover p50 <= 3 s, create with a
spare p50 <= 0.2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.lifecycle import summary, wait_active
from tests.support.api import Api, amphorae, first_served, ready_spares, wait_for
from tests.support.backends import Backend
from tests.support.host import host_settings_kept
from tests.support.stack import (
    RunningStack,
    health_settled,
    kill_amphora,
    start_stack,
    stop_stack,
)

PORT = 8080
# The log line the health service writes when it asks for a failover (services/health/domain/
# watch.py); its timestamp is the local wall clock with milliseconds.
_FAILOVER_STARTED = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*amphora (\S+) is silent .*failover started"
)


def _settled(member: Api, admin: Api, lb_id: str, spare: bool) -> dict:
    """Waits until the load balancer is ACTIVE and ONLINE with one ALLOCATED amphora (and, with
    spare, a READY spare in the pool); returns that amphora."""

    def check() -> dict | None:
        lb = member.lb(lb_id)
        if (lb["provisioning_status"], lb["operating_status"]) != ("ACTIVE", "ONLINE"):
            return None
        found = amphorae(admin, lb_id)
        if len(found) != 1 or found[0]["status"] != "ALLOCATED":
            return None
        if spare and not ready_spares(admin):
            return None
        return found[0]

    return wait_for(check, 120, "load balancer settled after a failover", interval=0.05)


def _quiet(stack: RunningStack, admin: Api) -> None:
    """Waits until the health service counts no amphora of an earlier run as stale (a deleted or
    killed amphora stays in its fleet, stale, until a failover request for it finds it gone): a
    run's own leftovers must not hold its failovers back (three stale at once open the
    breaker)."""
    wait_for(
        lambda: health_settled(stack, {a["id"] for a in amphorae(admin)}),
        60,
        "no stale amphora left in the health service",
        interval=0.05,
    )


def _failover_started_at(stack: RunningStack, amphora_id: str) -> float | None:
    """The wall-clock time (epoch seconds) of the health service's failover request."""
    for line in stack.log("health").splitlines():
        m = _FAILOVER_STARTED.match(line)
        if m and m.group(2) == amphora_id:
            return dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return None


def bench_failover(
    stack: RunningStack, member: Api, admin: Api, subnet: str, runs: int, spare: bool
) -> tuple[list[float], list[float]]:
    """(kill -> served, kill -> failover requested) per run."""
    backend = Backend("bench-failover").start()
    try:
        body = {
            "loadbalancer": {
                "name": "bench-failover",
                "vip_subnet_id": subnet,
                "listeners": [
                    {
                        "name": "bench-failover-l",
                        "protocol": "HTTP",
                        "protocol_port": PORT,
                        "default_pool": {
                            "name": "bench-failover-p",
                            "protocol": "HTTP",
                            "lb_algorithm": "ROUND_ROBIN",
                            "members": [{"address": backend.host, "protocol_port": backend.port}],
                        },
                    }
                ],
            }
        }
        lb = member.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
        wait_active(member, lb["id"])
        url = f"http://{lb['vip_address']}:{PORT}/"
        first_served(url, backend.name)
        served, detected = [], []
        for _ in range(runs):
            amphora = _settled(member, admin, lb["id"], spare)
            _quiet(stack, admin)
            if not spare and ready_spares(admin):
                raise RuntimeError("a spare exists in the stack meant to have none")
            if not kill_amphora(stack.run_dir, amphora["id"]):
                raise RuntimeError(f"no process of amphora {amphora['id']} to kill")
            t0, wall0 = time.perf_counter(), time.time()
            served.append(first_served(url, backend.name, timeout=60) - t0)
            # The log line is written once the orchestrator answered; give it a moment.
            deadline = time.monotonic() + 5
            while (started_at := _failover_started_at(stack, amphora["id"])) is None:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            if started_at is not None:
                detected.append(started_at - wall0)
        _settled(member, admin, lb["id"], spare)
        member.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
        wait_for(
            lambda: member.http.get(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 404,
            60,
            "load balancer deleted",
        )
        return served, detected
    finally:
        backend.stop()


def bench_create(
    stack: RunningStack, member: Api, admin: Api, subnet: str, runs: int, spare: bool
) -> list[float]:
    times = []
    for i in range(runs + 1):  # the first one warms up
        if spare:
            wait_for(lambda: ready_spares(admin), 60, "a ready spare", interval=0.05)
        _quiet(stack, admin)
        t0 = time.perf_counter()
        lb = member.post(
            "/v2/lbaas/loadbalancers",
            {"loadbalancer": {"name": f"bench-create-{i}", "vip_subnet_id": subnet}},
        )["loadbalancer"]
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


def _keep_logs(stack: RunningStack) -> None:
    """Copies the services' and the agents' logs out of the run dir, which is removed."""
    kept = Path(tempfile.mkdtemp(prefix="lbaas-bench-failover-logs-"))
    shutil.copytree(stack.run_dir / "logs", kept / "logs", dirs_exist_ok=True)
    for log in (stack.run_dir / "amphorae").glob("*/*.log"):
        (kept / "amphorae" / log.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(log, kept / "amphorae" / log.parent.name / log.name)
    print(f"logs kept in {kept}", file=sys.stderr)


def run_stack(runs: int, spare: bool) -> dict[str, dict]:
    suffix = "with_spare" if spare else "without_spare"
    env = {} if spare else {"LBAAS_SPARE_POOL_SIZE": "0"}
    with tempfile.TemporaryDirectory(prefix="lbaas-bench-") as tmp:
        stack = start_stack(Path(tmp) / "run", extra_env=env)
        try:
            member = Api(stack.api_url, stack.token("member"))
            admin = Api(stack.api_url, stack.token("admin"))
            try:
                subnet = member.get("/v2.0/subnets")["subnets"][0]["id"]
                create = bench_create(stack, member, admin, subnet, runs, spare)
                served, detected = bench_failover(stack, member, admin, subnet, runs, spare)
            except Exception:
                _keep_logs(stack)
                raise
            finally:
                member.close()
                admin.close()
        finally:
            stop_stack(stack)
    results = {
        f"create_to_active_{suffix}": summary(create),
        f"failover_kill_to_served_{suffix}": summary(served),
    }
    if detected:  # from a log line: absent if its wording changed
        results[f"failover_kill_to_requested_{suffix}"] = summary(detected)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    results = {**run_stack(args.runs, spare=True), **run_stack(args.runs, spare=False)}
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "failover.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, s in results.items():
        print(
            f"{name:42s} runs={s['runs']} p50={s['p50_ms']} ms p95={s['p95_ms']} ms "
            f"(min {s['min_ms']}, max {s['max_ms']})"
        )


if __name__ == "__main__":
    with host_settings_kept():  # what the stack's agents change on the host
        main()
