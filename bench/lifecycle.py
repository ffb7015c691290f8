"""Benchmark: time from create to ACTIVE through the whole stack (every service a process, real
haproxy). Member add to the first request the new member serves: bench/members.py.

Run: `make bench` (or `python -m bench.lifecycle --runs 20`). Prints p50/p95 and writes JSON to
bench/results/lifecycle.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.api import Api
from tests.support.host import host_settings_kept
from tests.support.stack import start_stack, stop_stack


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {
        "runs": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 1),
        "p95_ms": round(percentile(values, 0.95) * 1000, 1),
        "min_ms": round(min(values) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
    }


def wait_active(api: Api, lb_id: str, poll: float = 0.005, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.lb(lb_id)["provisioning_status"]
        if status == "ACTIVE":
            return
        if status == "ERROR":
            raise RuntimeError(f"load balancer {lb_id} went ERROR")
        time.sleep(poll)
    raise TimeoutError(lb_id)


def bench_create(api: Api, subnet: str, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        t0 = time.perf_counter()
        lb = api.post(
            "/v2/lbaas/loadbalancers",
            {"loadbalancer": {"name": f"bench-{i}", "vip_subnet_id": subnet}},
        )["loadbalancer"]
        wait_active(api, lb["id"])
        times.append(time.perf_counter() - t0)
        api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lbaas-bench-") as tmp:
        stack = start_stack(Path(tmp) / "run")
        try:
            api = Api(stack.api_url, stack.token("member"))
            subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
            results = {
                "create_to_active": summary(bench_create(api, subnet, args.runs)),
            }
            api.close()
        finally:
            stop_stack(stack)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "lifecycle.json").write_text(json.dumps(results, indent=2))
    for name, s in results.items():
        print(
            f"{name:24s} runs={s['runs']} p50={s['p50_ms']} ms p95={s['p95_ms']} ms "
            f"(min {s['min_ms']}, max {s['max_ms']})"
        )


if __name__ == "__main__":
    with host_settings_kept():  # what the stack's agents change on the host
        main()
