"""Benchmark: API create and list latency/throughput with 1,000 load balancers present.

The whole stack runs as processes through the real launcher on the noop compute driver (no
amphora processes), so what is measured is the API path: gateway -> orchestrator -> database.

  sequential creates      one client, p50/p95 of POST /v2/lbaas/loadbalancers
  concurrent creates      16 clients until 1,000 load balancers exist, in two halves:
                          beside the worker   the creates share the machine with the reconcile
                                              passes they cause (one host, as `make run`)
                                              creates/s, p50/p95
                          API alone           the reconcile worker paused (SIGSTOP) while they
                                              run, as when workers run on other hosts: the
                                              API path's own throughput; the passes run after
  sequential list         one client, GET /v2/lbaas/loadbalancers (all 1,000), p50/p95
  concurrent list         16 clients, p50/p95 and lists/s
  list after a change     one client; before each (untimed) list one load balancer is renamed,
                          so every list misses the conditional-list caches (the cold path)
  CPU per create          CPU seconds each role (each service process, PostgreSQL, this load
                          generator) spent over the creates beside the worker and their
                          reconcile passes, per load balancer
  end to end              load balancers/s from the first create beside the worker until all
                          of those are ACTIVE (create and reconcile pass)

The orchestrator runs as the launcher runs it: an API process and a worker process.

Run: `python -m bench.api` (options: --total 1000 --sequential 200 --clients 16 --lists 100
--profile). Prints a table and writes bench/results/api.json. Targets: list p50 < 20 ms with
1,000 load balancers; >= 300 creates/s with 16 clients, judged on the API-alone half (the creates
beside the worker are printed beside it). --profile records the gateway and the orchestrator (API
and worker) with py-spy during the concurrent phases (bench/results/api-*.txt) when py-spy is
installed and allowed to attach.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.host import host_settings_kept
from tests.support.stack import (
    RunningStack,
    leftover_pids,
    short_run_dir,
    start_stack,
    stop_stack,
)

RESULTS = Path(__file__).resolve().parent / "results" / "api.json"
TARGET_LIST_P50_MS = 20.0
TARGET_CREATES_PER_S = 300.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float], elapsed: float | None = None) -> dict:
    out = {
        "requests": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }
    if elapsed:
        out["elapsed_s"] = round(elapsed, 2)
        out["per_s"] = round(len(values) / elapsed, 1)
    return out


class Clients:
    """One keep-alive HTTP/1.1 connection per thread on a plain socket: the request bytes are
    written at once and the response read by its Content-Length. The load generator shares the
    machine with the system it measures, so it is kept light (about 0.1 ms of CPU per request,
    against 0.4 ms for http.client and 2 ms for httpx)."""

    def __init__(self, base_url: str, token: str):
        parts = urlsplit(base_url)
        self._address = (parts.hostname, parts.port)
        self._head = (
            f"Host: {parts.hostname}:{parts.port}\r\nX-Auth-Token: {token}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self._local = threading.local()
        self._all: list[socket.socket] = []
        self._lock = threading.Lock()

    def _connection(self) -> socket.socket:
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.create_connection(self._address, timeout=60)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.sock, self._local.buffer = sock, b""
            with self._lock:
                self._all.append(sock)
        return sock

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        message = (
            f"{method} {path} HTTP/1.1\r\n".encode()
            + self._head
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        for attempt in (1, 2):
            sock = self._connection()
            try:
                sock.sendall(message)
                return self._response(sock)
            except (ConnectionError, EOFError):
                # The server closed this connection while it sat idle (keep-alive timeout):
                # the request never reached it, so it is sent again on a new connection.
                sock.close()
                self._local.sock = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _response(self, sock: socket.socket) -> tuple[int, bytes]:
        data = self._local.buffer
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._recv(sock)
        head = data[:end].decode("latin-1")
        status = int(head[9:12])
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
            elif name.strip().lower() == "transfer-encoding":
                raise RuntimeError(f"unexpected {line!r}: the gateway sends Content-Length")
        data = data[end + 4 :]
        while len(data) < length:
            data += self._recv(sock)
        self._local.buffer = data[length:]
        return status, data[:length]

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        chunk = sock.recv(262144)
        if not chunk:
            raise EOFError("connection closed by the server")
        return chunk

    def json(self, method: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
        status, payload = self.request(method, path, body)
        if status != expect:
            raise RuntimeError(f"{method} {path}: {status} {payload[:300]!r}")
        return json.loads(payload)

    def close(self) -> None:
        for sock in self._all:
            sock.close()


def create_one(clients: Clients, subnet: str, i: int) -> float:
    body = {"loadbalancer": {"name": f"bench-{i}", "vip_subnet_id": subnet}}
    t0 = time.perf_counter()
    status, payload = clients.request("POST", "/v2/lbaas/loadbalancers", body)
    took = time.perf_counter() - t0
    if status != 201:
        raise RuntimeError(f"create {i}: {status} {payload[:300]!r}")
    return took


def create_concurrently(
    clients: Clients, subnet: str, n_clients: int, first: int, count: int
) -> tuple[list[float], float]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(n_clients) as pool:
        took = list(pool.map(lambda i: create_one(clients, subnet, i), range(first, first + count)))
    return took, time.perf_counter() - t0


def list_once(clients: Clients, expect: int) -> float:
    t0 = time.perf_counter()
    status, payload = clients.request("GET", "/v2/lbaas/loadbalancers")
    took = time.perf_counter() - t0
    if status != 200:
        raise RuntimeError(f"list: {status} {payload[:300]!r}")
    n = len(json.loads(payload)["loadbalancers"])
    if n < expect:
        raise RuntimeError(f"list returned {n} load balancers, expected {expect}")
    return took


def cpu_by_role(run_dir: Path) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the stack's processes, by role: each service
    (named by the launcher's pid files: the orchestrator's API and worker apart), PostgreSQL (the
    postmaster names the run dir; its backends are its children) and this load generator."""
    tick = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, str, float]] = {}  # pid -> (parent, command, cpu seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(entry.name)] = (int(fields[1]), cmd, (int(fields[11]) + int(fields[12])) / tick)
    services = {}
    for pid_file in (run_dir / "pids").glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            services[int(pid_file.read_text())] = pid_file.stem
    ours = set(leftover_pids(run_dir))
    postmasters = {pid for pid in ours if "postgres" in procs.get(pid, (0, "", 0))[1]}
    out: dict[str, float] = {}
    for pid, (parent, _cmd, seconds) in procs.items():
        if pid in postmasters or parent in postmasters:
            role = "postgres"
        elif pid in services:
            role = services[pid]
        else:
            continue
        out[role] = out.get(role, 0.0) + seconds
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["load generator"] = usage.ru_utime + usage.ru_stime
    return out


def rename(clients: Clients, lb_id: str, name: str) -> None:
    clients.json("PUT", f"/v2/lbaas/loadbalancers/{lb_id}", {"loadbalancer": {"name": name}})


def wait_settled(clients: Clients, total: int, timeout: float = 600) -> float:
    """Waits until every load balancer is ACTIVE, so lists are measured on a quiet system."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        items = clients.json("GET", "/v2/lbaas/loadbalancers")["loadbalancers"]
        if len(items) >= total and all(x["provisioning_status"] == "ACTIVE" for x in items):
            return time.monotonic() - t0
        time.sleep(0.5)
    raise TimeoutError("load balancers did not all become ACTIVE")


class Profiler:
    def __init__(self, stack: RunningStack, enabled: bool):
        self.procs: list[subprocess.Popen] = []
        self.stack, self.enabled = stack, enabled
        self.pyspy = shutil.which("py-spy", path=str(Path(sys.executable).parent))

    def start(self, phase: str, seconds: int) -> None:
        if not (self.enabled and self.pyspy):
            return
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        for svc in ("api_gateway", "orchestrator", "orchestrator-worker"):
            out = RESULTS.parent / f"api-{phase}-{svc}.txt"
            self.procs.append(
                subprocess.Popen(
                    [
                        self.pyspy,
                        "record",
                        "--pid",
                        str(self.stack.service_pid(svc)),
                        "-d",
                        str(seconds),
                        "--gil",  # samples of the thread holding the GIL: where CPU goes
                        "-f",
                        "raw",
                        "-o",
                        str(out),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )  # fmt: skip
            )

    def stop(self) -> None:
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.terminate()
        self.procs.clear()


def run(args: argparse.Namespace, extra_env: dict[str, str] | None = None) -> dict:
    """extra_env: settings of the stack's services (bench.observability: metrics and logs)."""
    run_dir = short_run_dir("lbaas-bench-api-")
    try:
        stack = start_stack(
            run_dir, extra_env={"LBAAS_COMPUTE_DRIVER": "noop", **(extra_env or {})}
        )
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    profiler = Profiler(stack, args.profile)
    try:
        clients = Clients(stack.api_url, stack.token("admin"))
        subnet = clients.json("GET", "/v2.0/subnets")["subnets"][0]["id"]
        for i in range(5):  # warm-up (connections, caches, first-query plans)
            create_one(clients, subnet, -1 - i)
        done = 5

        seq = [create_one(clients, subnet, done + i) for i in range(args.sequential)]
        done += args.sequential

        remaining = max(0, args.total - done)
        beside = remaining // 2
        # First half: the creates share the machine with the reconcile passes they cause (as
        # `make run` deploys on one host). CPU and end-to-end figures are taken over this half.
        profiler.start("create", 5)
        cpu_before = cpu_by_role(run_dir)
        conc, conc_elapsed = create_concurrently(clients, subnet, args.clients, done, beside)
        profiler.stop()
        done += beside
        settle = wait_settled(clients, done)
        cpu_after = cpu_by_role(run_dir)
        cpu_per_create = {
            role: round(1000 * (cpu_after[role] - cpu_before.get(role, 0.0)) / max(beside, 1), 2)
            for role in sorted(cpu_after)
        }
        # Second half: the API path alone (gateway, orchestrator API, PostgreSQL), the reconcile
        # worker paused with SIGSTOP, as when workers run on other hosts. Its passes run after.
        worker = stack.service_pid("orchestrator-worker")
        os.kill(worker, signal.SIGSTOP)
        try:
            alone, alone_elapsed = create_concurrently(
                clients, subnet, args.clients, done, remaining - beside
            )
        finally:
            os.kill(worker, signal.SIGCONT)
        done += remaining - beside
        wait_settled(clients, done)
        list_seq = [list_once(clients, done) for _ in range(args.lists)]
        profiler.start("list", 8)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list_conc = list(pool.map(lambda _: list_once(clients, done),
                                      range(args.lists * 2)))  # fmt: skip
        list_elapsed = time.perf_counter() - t0
        profiler.stop()
        cold = []
        ids = [x["id"] for x in clients.json("GET", "/v2/lbaas/loadbalancers")["loadbalancers"]]
        for i in range(args.cold_lists):
            rename(clients, ids[i % len(ids)], f"renamed-{i}")
            cold.append(list_once(clients, done))
        clients.close()
    finally:
        stop_stack(stack)
        shutil.rmtree(run_dir, ignore_errors=True)

    return {
        "load_balancers": done,
        "clients": args.clients,
        "sequential_create": summary(seq),
        "concurrent_create": summary(conc, conc_elapsed),
        "concurrent_create_api_alone": summary(alone, alone_elapsed),
        "settle_to_all_active_s": round(settle, 1),
        # From the first concurrent create beside the worker until all of those are ACTIVE: the
        # rate at which the whole pipeline (create + reconcile pass) finishes load balancers.
        "pipeline_per_s": round(beside / (conc_elapsed + settle), 1) if beside else None,
        # CPU each role spent per load balancer over the creates beside the worker and their
        # reconcile passes (until all were ACTIVE): what bounds creates/s on this machine.
        "cpu_ms_per_create": cpu_per_create,
        "sequential_list": summary(list_seq),
        "concurrent_list": summary(list_conc, list_elapsed),
        "list_after_change": summary(cold) if cold else None,
        "targets": {
            "list_p50_ms_lt": TARGET_LIST_P50_MS,
            "creates_per_s_ge": TARGET_CREATES_PER_S,
            "list_p50_met": percentile(list_seq, 0.5) * 1000 < TARGET_LIST_P50_MS,
            # The API's throughput: the creates with the worker paused.
            "creates_per_s_met": len(alone) / alone_elapsed >= TARGET_CREATES_PER_S,
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def print_table(res: dict) -> None:
    rows = [
        ("sequential create", res["sequential_create"]),
        (f"{res['clients']}-client create, beside worker", res["concurrent_create"]),
        (f"{res['clients']}-client create, API alone", res["concurrent_create_api_alone"]),
        (f"sequential list ({res['load_balancers']} LBs)", res["sequential_list"]),
        (f"{res['clients']}-client list ({res['load_balancers']} LBs)", res["concurrent_list"]),
    ]
    if res.get("list_after_change"):
        rows.append(("list after a change (cold)", res["list_after_change"]))
    print(f"{'phase':34} {'n':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'per s':>8}")
    for name, s in rows:
        per_s = f"{s['per_s']:.1f}" if "per_s" in s else "-"
        print(f"{name:34} {s['requests']:>6} {s['p50_ms']:>9.2f} {s['p95_ms']:>9.2f} "
              f"{s['max_ms']:>9.2f} {per_s:>8}")  # fmt: skip
    cpu = res.get("cpu_ms_per_create") or {}
    if cpu:
        parts = ", ".join(f"{role} {ms:.1f}" for role, ms in cpu.items())
        print(f"CPU ms per created load balancer (create + reconcile): {parts}; "
              f"total {sum(cpu.values()):.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    if res.get("pipeline_per_s"):
        print(f"all ACTIVE {res['settle_to_all_active_s']} s after the last create returned: "
              f"{res['pipeline_per_s']} load balancers/s end to end")  # fmt: skip
    t = res["targets"]
    print(f"targets: list p50 < {t['list_p50_ms_lt']} ms: {'met' if t['list_p50_met'] else 'MISSED'};"
          f" >= {t['creates_per_s_ge']} creates/s (API alone): "
          f"{'met' if t['creates_per_s_met'] else 'MISSED'}; beside the worker "
          f"{res['concurrent_create']['per_s']}/s")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=1000, help="load balancers to create")
    parser.add_argument("--sequential", type=int, default=200, help="sequential creates")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--lists", type=int, default=100, help="sequential list requests")
    parser.add_argument("--cold-lists", type=int, default=30, help="lists after a change")
    parser.add_argument("--profile", action="store_true", help="py-spy the services")
    args = parser.parse_args()
    res = run(args)
    print_table(res)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    with host_settings_kept():  # what the stack's agents change on the host
        code = main()
    sys.exit(code)
