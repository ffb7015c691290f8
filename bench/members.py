"""Benchmark (issue 16): member changes through the whole stack (every service a process, real
haproxy, real HTTP on loopback).

- member add: from the POST of a member to the first request the new member serves (the moment
  that member receives it), p50 and p99 over --runs runs (each run adds one member to a pool of
  one and deletes it afterwards, untimed). Traffic: one client sends GET / over a kept-alive
  connection, one request every --pace-ms plus its round trip (about 1,000 a second here), as a
  busy service's clients would; the members answer from one asyncio thread and note when each
  first got a request. The client also reports when it saw the new member's answer
  (client_seen). The client runs on the machine it measures (2 cores on CI): a loop with no
  pause and a new connection per request took some 10 ms of CPU per 20 ms add, plus haproxy's
  for those requests, from the system it measured;
- batch: one PUT /pools/{id}/members naming --batch members, from the PUT to every member having
  served a request (and to the load balancer ACTIVE again).

Run: `python -m bench.members` (`make bench` runs it). Writes bench/results/members.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.api import Clients
from bench.lifecycle import percentile, wait_active
from tests.support.api import Api
from tests.support.host import host_settings_kept
from tests.support.stack import start_stack, stop_stack

PORT = 8080


def stats(values: list[float]) -> dict:
    return {
        "runs": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "min_ms": round(min(values) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


class ManyBackends:
    """One thread serving HTTP on `count` loopback ports; each answers with its port."""

    def __init__(self, count: int):
        self.count = count
        self.ports: list[int] = []
        # port -> time.perf_counter() when it first received a request (read from other threads).
        self.first_seen: dict[int, float] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _serve(self) -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            port = writer.get_extra_info("sockname")[1]
            try:
                await reader.readuntil(b"\r\n\r\n")
                self.first_seen.setdefault(port, time.perf_counter())
                body = str(port).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                pass
            finally:
                writer.close()

        self._servers = [
            await asyncio.start_server(answer, "127.0.0.1", 0) for _ in range(self.count)
        ]
        self.ports = [s.sockets[0].getsockname()[1] for s in self._servers]
        self._ready.set()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.run_forever()

    def start(self) -> ManyBackends:
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("backends did not start")
        return self

    def stop(self) -> None:
        def close() -> None:
            for s in self._servers:
                s.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(close)
        self._thread.join(timeout=30)


def _pool(api: Api, subnet: str, first: int) -> tuple[dict, dict]:
    lb = api.post(
        "/v2/lbaas/loadbalancers",
        {
            "loadbalancer": {
                "name": "bench-members",
                "vip_subnet_id": subnet,
                "listeners": [
                    {
                        "protocol": "HTTP",
                        "protocol_port": PORT,
                        "default_pool": {
                            "name": "p",
                            "protocol": "HTTP",
                            "lb_algorithm": "ROUND_ROBIN",
                            "members": [{"address": "127.0.0.1", "protocol_port": first}],
                        },
                    }
                ],
            }
        },
    )["loadbalancer"]
    wait_active(api, lb["id"])
    (pool,) = api.get(f"/v2/lbaas/pools?loadbalancer_id={lb['id']}")["pools"]
    return lb, pool


def bench_member_add(
    api: Api, lb: dict, pool: dict, runs: int, pace: float
) -> tuple[list[float], list[float]]:
    """(to first served at the member, to the client seeing that answer), one of each per run."""
    # The new members answer from one asyncio thread (ManyBackends) in microseconds, as the
    # first one does.
    extra = ManyBackends(runs).start()
    # bench.api's keep-alive client on a plain socket: httpx takes about 1 ms of CPU per request
    # on the machine it measures.
    client = Clients(f"http://{lb['vip_address']}:{PORT}", token="")
    members = f"/v2/lbaas/pools/{pool['id']}/members"
    served, seen = [], []
    try:
        for port in extra.ports:
            wanted = str(port).encode()
            t0 = time.perf_counter()
            member = api.post(members, {"member": {"address": "127.0.0.1", "protocol_port": port}})
            deadline = t0 + 60
            while time.perf_counter() < deadline:
                try:
                    if client.request("GET", "/") == (200, wanted):
                        break
                except (OSError, EOFError):
                    pass
                time.sleep(pace)
            else:
                raise TimeoutError(f"member {member['member']['id']} never served")
            seen.append(time.perf_counter() - t0)
            served.append(extra.first_seen[port] - t0)
            wait_active(api, lb["id"])
            api.delete(f"{members}/{member['member']['id']}")
            wait_active(api, lb["id"])
    finally:
        client.close()
        extra.stop()
    return served, seen


def bench_batch(api: Api, lb: dict, pool: dict, count: int) -> dict:
    many = ManyBackends(count).start()
    url = f"http://{lb['vip_address']}:{PORT}/"
    try:
        wanted = [{"address": "127.0.0.1", "protocol_port": p} for p in many.ports]
        t0 = time.perf_counter()
        r = api.http.put(f"/v2/lbaas/pools/{pool['id']}/members", json={"members": wanted})
        assert r.status_code == 202, r.text
        accepted = time.perf_counter() - t0
        seen: set[str] = set()
        deadline = t0 + 600
        with httpx.Client(timeout=5, headers={"Connection": "close"}) as http:
            while len(seen) < count and time.perf_counter() < deadline:
                try:
                    seen.add(http.get(url).text)
                except httpx.HTTPError:
                    pass
        if len(seen) < count:
            raise TimeoutError(f"{count - len(seen)} members never served")
        served = time.perf_counter() - t0
        wait_active(api, lb["id"])
        active = time.perf_counter() - t0
    finally:
        many.stop()
    return {
        "members": count,
        "put_answered_ms": round(accepted * 1000, 1),
        "all_served_ms": round(served * 1000, 1),
        "active_ms": round(active * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--pace-ms", type=float, default=0.5, help="pause between the member-add client's requests"
    )
    args = parser.parse_args()
    first = ManyBackends(1).start()
    with tempfile.TemporaryDirectory(prefix="lbaas-bench-") as tmp:
        stack = start_stack(Path(tmp) / "run")
        try:
            api = Api(stack.api_url, stack.token("member"))
            subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
            lb, pool = _pool(api, subnet, first.ports[0])
            served, seen = bench_member_add(api, lb, pool, args.runs, args.pace_ms / 1000)
            results = {
                "member_add_to_served": stats(served),
                "member_add_to_client_seen": stats(seen),
                "batch_update_to_all_served": bench_batch(api, lb, pool, args.batch),
            }
            api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
            api.close()
        finally:
            stop_stack(stack)
            first.stop()
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "members.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    with host_settings_kept():  # what the stack's agents change on the host
        main()
