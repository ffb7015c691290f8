"""Benchmark: what Prometheus metrics and JSON logs cost the API's create and list figures.

Runs bench.api (the whole stack through the launcher, noop compute driver) in two modes, taking
turns so that a slow spell of the shared machine falls on both:

  off   LBAAS_METRICS_ADDR=0 (no /metrics port, no gRPC interceptor, no request middleware;
        the pass, apply and render counters still count, as they always do) and text logs
  on    every process serving /metrics on a port of its own, LBAAS_LOG_FORMAT=json

and prints, for each figure, the median of each mode over the runs and on/off as a ratio
(latencies and CPU: above 1 is slower; rates: below 1 is slower). Tracing is the same in both
(--trace-exporter, default none, so that its own cost does not dilute the ratio). On a shared
machine the rates move by tens of percent from run to run whatever the mode; the CPU per create
is the steadier figure. So it first prints what each piece costs by itself, measured in this
process (micro): a REST request through the metrics middleware, a gRPC call through the metrics
interceptor, a log line as JSON and as text.

Run: `python -m bench.observability` (short runs by default: --runs 3 --total 400
--sequential 100 --lists 50 --cold-lists 10; --micro-only for the in-process costs alone).
Writes bench/results/observability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench import api

RESULTS = Path(__file__).resolve().parent / "results" / "observability.json"
MODES = {
    "off": {"LBAAS_METRICS_ADDR": "0", "LBAAS_LOG_FORMAT": "text"},
    "on": {"LBAAS_LOG_FORMAT": "json"},  # the stack gives each process a metrics port
}

# (name, how to read it from a bench.api result, True when higher is better)
FIGURES = (
    ("sequential create p50 ms", lambda r: r["sequential_create"]["p50_ms"], False),
    ("creates/s, 16 clients, API alone", lambda r: r["concurrent_create_api_alone"]["per_s"], True),
    ("creates/s, 16 clients, beside worker", lambda r: r["concurrent_create"]["per_s"], True),
    ("CPU ms per create, all processes", lambda r: sum(r["cpu_ms_per_create"].values()), False),
    ("CPU ms per create, gateway", lambda r: r["cpu_ms_per_create"].get("api_gateway", 0), False),
    (
        "CPU ms per create, orchestrator API",
        lambda r: r["cpu_ms_per_create"].get("orchestrator", 0),
        False,
    ),
    ("sequential list p50 ms", lambda r: r["sequential_list"]["p50_ms"], False),
    ("16-client lists/s", lambda r: r["concurrent_list"]["per_s"], True),
    (
        "list after a change p50 ms",
        lambda r: (r.get("list_after_change") or {}).get("p50_ms"),
        False,
    ),
)


def micro(n: int = 20000) -> dict[str, float]:
    """What each piece costs by itself, in this process, in microseconds (a stack's figures move
    with whatever else the machine runs; these do not): one REST request through ApiMetrics, one
    gRPC call through the server interceptor, and one log line as JSON and as text."""
    import asyncio
    import logging

    import grpc

    from services.api_gateway.observability import ApiMetrics
    from services.common import logs, metrics

    class Route:
        path = "/v2/lbaas/loadbalancers/{lb_id}"
        path_regex = re.compile(r"^/lbaas/loadbalancers/(?P<lb_id>[^/]+)$")

    async def app(scope: dict, receive: Any, send: Any) -> None:
        scope["route"] = Route
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def nothing(message: dict) -> None:
        return None

    def scope() -> dict:
        return {"type": "http", "method": "GET", "path": "/v2/lbaas/loadbalancers/x"}

    class Context:
        def code(self) -> None:
            return None

    async def unary(request: Any, context: Any) -> bytes:
        return b""

    async def timed(call: Any) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            await call()
        return (time.perf_counter() - t0) / n * 1e6

    async def measure() -> dict[str, float]:
        wrapped = ApiMetrics(app)
        bare_http = await timed(lambda: app(scope(), None, nothing))
        with_metrics = await timed(lambda: wrapped(scope(), None, nothing))
        details = SimpleNamespace(
            method="/lbaas.orchestrator.v1.OrchestratorService/GetLoadBalancer"
        )

        async def continuation(_: Any) -> Any:
            return grpc.unary_unary_rpc_method_handler(unary)

        handler = await metrics.GrpcServerMetrics().intercept_service(continuation, details)
        context = Context()
        bare_grpc = await timed(lambda: unary(b"", context))
        with_interceptor = await timed(lambda: handler.unary_unary(b"", context))
        return {
            "rest request, ApiMetrics us": round(with_metrics - bare_http, 2),
            "grpc call, server interceptor us": round(with_interceptor - bare_grpc, 2),
        }

    out = asyncio.run(measure())
    record = logging.LogRecord(
        "lbaas.bench", logging.INFO, __file__, 1, "pass %s %d", ("x", 1), None
    )
    for name, formatter in (
        ("log line, json us", logs.JsonFormatter("api-gateway")),
        (
            "log line, text us",
            logging.Formatter("%(asctime)s x %(levelname)s %(name)s: %(message)s"),
        ),
    ):
        t0 = time.perf_counter()
        for _ in range(n):
            formatter.format(record)
        out[name] = round((time.perf_counter() - t0) / n * 1e6, 2)
    return out


def compare(results: dict[str, list[dict]]) -> list[dict]:
    rows = []
    for name, read, higher_is_better in FIGURES:
        medians = {}
        for mode, runs in results.items():
            values = [v for v in (read(r) for r in runs) if v is not None]
            medians[mode] = statistics.median(values) if values else None
        off, on = medians.get("off"), medians.get("on")
        ratio = round(on / off, 3) if off and on is not None else None
        rows.append(
            {
                "figure": name,
                "off": off,
                "on": on,
                "ratio_on_off": ratio,
                "higher_is_better": higher_is_better,
            }
        )
    return rows


def print_table(rows: list[dict], runs: int) -> None:
    print(f"medians of {runs} run(s) per mode; ratio = on / off")
    print(f"{'figure':40} {'off':>10} {'on':>10} {'ratio':>8}")
    for row in rows:
        off = "-" if row["off"] is None else f"{row['off']:.2f}"
        on = "-" if row["on"] is None else f"{row['on']:.2f}"
        ratio = "-" if row["ratio_on_off"] is None else f"x{row['ratio_on_off']:.3f}"
        print(f"{row['figure']:40} {off:>10} {on:>10} {ratio:>8}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each mode, alternating")
    parser.add_argument("--total", type=int, default=400, help="load balancers per run")
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--lists", type=int, default=50)
    parser.add_argument("--cold-lists", type=int, default=10)
    parser.add_argument("--trace-exporter", default="none", help="LBAAS_TRACE_EXPORTER of both")
    parser.add_argument("--micro-only", action="store_true", help="only the in-process costs")
    args = parser.parse_args()
    costs = micro()
    for name, us in costs.items():
        print(f"{name:40} {us:8.2f}")
    if args.micro_only:
        return 0
    bench_args = argparse.Namespace(
        total=args.total,
        sequential=args.sequential,
        clients=args.clients,
        lists=args.lists,
        cold_lists=args.cold_lists,
        profile=False,
    )
    results: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for i in range(args.runs):
        # Which mode goes first alternates: the first run of a pair meets a cooler machine.
        order = list(MODES) if i % 2 == 0 else list(reversed(MODES))
        for mode in order:
            env = {**MODES[mode], "LBAAS_TRACE_EXPORTER": args.trace_exporter}
            started = time.monotonic()
            results[mode].append(api.run(bench_args, extra_env=env))
            print(f"run {i + 1}/{args.runs} {mode}: {time.monotonic() - started:.0f} s", flush=True)
    rows = compare(results)
    print_table(rows, args.runs)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python -m bench.observability " + " ".join(sys.argv[1:]),
                "figures": rows,
                "in_process_costs_us": costs,
                "runs": results,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
