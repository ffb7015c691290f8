"""Benchmark: in-process haproxy render time.

  large load balancer   one graph with 10 listeners (HTTP, TERMINATED_HTTPS with SNI and client
                        authentication, TCP), 10 pools x 100 members (HTTP/TCP monitors, one
                        re-encrypting pool), L7 policies; p50/p95 over repeated renders
  fleet re-render       1,000 typical load balancers (2 listeners, 2 pools x 4 members, a
                        monitor, an L7 policy), each rendered as a minor update would: total time

Run: `python -m bench.render` (options: --runs 50 --fleet 1000 --profile). Prints a table and
writes bench/results/render.json. Targets: large p50 < 50 ms; fleet < 30 s. --profile prints the
top functions of the large render (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from services.renderer.backends.haproxy.renderer import HaproxyRenderer
from tests.unit.renderer import tls_samples as ts

RESULTS = Path(__file__).resolve().parent / "results" / "render.json"
TARGET_LARGE_P50_MS = 50.0
TARGET_FLEET_S = 30.0


def _uuid(kind: int, lb: int, index: int) -> str:
    return f"{kind:08x}-{lb >> 16:04x}-4{lb & 0xFFF:03x}-8000-{index:012x}"


def _meta(id_: str) -> graph_pb2.ResourceMeta:
    return graph_pb2.ResourceMeta(id=id_, admin_state_up=True)


def _monitor(lb: int, index: int, kind: str) -> graph_pb2.HealthMonitor:
    return graph_pb2.HealthMonitor(
        meta=_meta(_uuid(4, lb, index)), type=kind, delay=5, timeout=3, max_retries=3,
        url_path="/healthz", expected_codes="200-299", http_method="GET",
    )  # fmt: skip


def _pool(lb: int, index: int, members: int, protocol: str, monitor: str) -> graph_pb2.Pool:
    return graph_pb2.Pool(
        meta=_meta(_uuid(2, lb, index)),
        protocol=protocol,
        lb_algorithm="ROUND_ROBIN",
        healthmonitor=_monitor(lb, index, monitor),
        members=[
            graph_pb2.Member(
                meta=_meta(_uuid(3, lb, index * 1000 + m)),
                address=f"10.{index % 256}.{m // 250}.{m % 250 + 1}",
                protocol_port=8080,
                weight=1 + m % 3,
                backup=m == members - 1,
            )
            for m in range(members)
        ],
    )


def _policies(lb: int, listener: int, target_pool: str) -> list[graph_pb2.L7Policy]:
    return [
        graph_pb2.L7Policy(
            meta=_meta(_uuid(6, lb, listener * 10 + p)),
            action="REDIRECT_TO_POOL" if p else "REJECT",
            position=p + 1,
            redirect_pool_id=target_pool if p else "",
            rules=[
                graph_pb2.L7Rule(
                    meta=_meta(_uuid(7, lb, listener * 100 + p * 10 + r)),
                    type="PATH" if r else "HEADER",
                    compare_type="STARTS_WITH",
                    key="" if r else "X-Tenant",
                    value=f"/api/v{p}" if r else "blocked",
                )
                for r in range(2)
            ],
        )
        for p in range(3)
    ]


def large_lb() -> graph_pb2.LoadBalancer:
    """10 listeners, 10 pools x 100 members: 6 HTTP (one TERMINATED_HTTPS), 4 TCP."""
    listeners, pools = [], []
    for i in range(10):
        http = i < 6
        pool = _pool(0, i, 100, "HTTP" if http else "TCP", "HTTP" if http else "TCP")
        if i == 1:  # re-encrypting, verified
            pool.tls_enabled = True
            pool.ca_tls_container_ref = ts.BACKEND_CA_REF
            pool.tls_container_ref = ts.BACKEND_CLIENT_REF
            pool.healthmonitor.type = "HTTPS"
        pools.append(pool)
        listener = graph_pb2.Listener(
            meta=_meta(_uuid(1, 0, i)),
            protocol="HTTP" if http else "TCP",
            protocol_port=8000 + i,
            connection_limit=-1,
            default_pool_id=pool.meta.id,
        )
        if i == 0:
            tls = ts.terminated_lb().listeners[0]
            listener.protocol = "TERMINATED_HTTPS"
            for name in ("default_tls_container_ref", "client_authentication",
                         "client_ca_tls_container_ref", "client_crl_container_ref",
                         "tls_ciphers", "hsts_max_age"):  # fmt: skip
                setattr(listener, name, getattr(tls, name))
            listener.sni_container_refs[:] = tls.sni_container_refs
            listener.tls_versions[:] = tls.tls_versions
            listener.alpn_protocols[:] = tls.alpn_protocols
            listener.insert_headers.update(tls.insert_headers)
        if http:
            listener.insert_headers["X-Forwarded-For"] = "true"
            listener.l7policies.extend(_policies(0, i, _uuid(2, 0, (i + 1) % 6)))
        listeners.append(listener)
    return graph_pb2.LoadBalancer(
        meta=_meta(_uuid(5, 0, 0)), vip=graph_pb2.Vip(address="203.0.113.10"),
        listeners=listeners, pools=pools,
    )  # fmt: skip


def typical_lb(n: int) -> graph_pb2.LoadBalancer:
    web = _pool(n, 0, 4, "HTTP", "HTTP")
    api = _pool(n, 1, 4, "HTTP", "TCP")
    listeners = [
        graph_pb2.Listener(
            meta=_meta(_uuid(1, n, 0)), protocol="HTTP", protocol_port=80,
            connection_limit=-1, default_pool_id=web.meta.id,
            l7policies=_policies(n, 0, api.meta.id)[1:2],
        ),
        graph_pb2.Listener(
            meta=_meta(_uuid(1, n, 1)), protocol="TCP", protocol_port=5000,
            connection_limit=10000,
        ),
    ]  # fmt: skip
    return graph_pb2.LoadBalancer(
        meta=_meta(_uuid(5, n, 0)), vip=graph_pb2.Vip(address=f"198.51.{n // 250}.{n % 250 + 1}"),
        listeners=listeners, pools=[web, api],
    )  # fmt: skip


def _target() -> renderer_service_pb2.Target:
    return renderer_service_pb2.Target(
        amphora_id="5e5e5e5e-0000-4000-8000-000000000001",
        haproxy_version="2.6.12",
        openssl_version="3.0.19",
        runtime_dir="/var/lib/lbaas/run",
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--fleet", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    renderer = HaproxyRenderer()
    target = _target()
    materials = ts.materials()
    large = large_lb()
    members = sum(len(p.members) for p in large.pools)
    rendering = renderer.render(large, target, materials)  # warm-up (template compile, caches)
    size = sum(len(f.content) for f in rendering.files)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        renderer.render(large, target, materials)
        times.append((time.perf_counter() - start) * 1000)
    p50, p95 = statistics.median(times), _percentile(times, 0.95)

    fleet = [typical_lb(n) for n in range(args.fleet)]
    start = time.perf_counter()
    for lb in fleet:
        # A minor update: one member's weight changes, then the whole graph is rendered.
        lb.pools[0].members[0].weight = lb.pools[0].members[0].weight % 10 + 1
        renderer.render(lb, target)
    fleet_s = time.perf_counter() - start

    rows = [
        ("large LB render p50 (ms)", f"{p50:.1f}", f"< {TARGET_LARGE_P50_MS:.0f}",
         p50 < TARGET_LARGE_P50_MS),
        ("large LB render p95 (ms)", f"{p95:.1f}", "", True),
        (f"re-render {args.fleet} LBs (s)", f"{fleet_s:.2f}", f"< {TARGET_FLEET_S:.0f}",
         fleet_s < TARGET_FLEET_S),
        ("per typical LB (ms)", f"{fleet_s * 1000 / max(1, args.fleet):.2f}", "", True),
    ]  # fmt: skip
    print(f"haproxy render: {len(large.listeners)} listeners, {members} members, "
          f"{len(rendering.files)} files, {size} bytes; {args.runs} runs")  # fmt: skip
    print(f"{'measure':32} {'value':>10} {'target':>8}  ok")
    for name, value, goal, ok in rows:
        print(f"{name:32} {value:>10} {goal:>8}  {'yes' if ok else 'NO'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "large": {
                    "listeners": len(large.listeners),
                    "members": members,
                    "runs": args.runs,
                    "p50_ms": round(p50, 2),
                    "p95_ms": round(p95, 2),
                    "target_p50_ms": TARGET_LARGE_P50_MS,
                },
                "fleet": {
                    "loadbalancers": args.fleet,
                    "total_s": round(fleet_s, 3),
                    "target_s": TARGET_FLEET_S,
                },
            },  # fmt: skip
            indent=2,
        )
        + "\n"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            renderer.render(large, target, materials)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
