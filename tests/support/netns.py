"""Helpers for end-to-end tests on the `netns` compute driver (root only): a bridge and subnet of
their own, a paced HTTP client with chosen source addresses, and a check that nothing is left."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

from services.orchestrator.domain.netns_layout import NetnsLayout
from tests.support.backends import free_port


def netns_available() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("ip")) and bool(shutil.which("keepalived"))


def netns_env() -> dict[str, str]:
    """A bridge name and a /22 subnet of this test's own, so it does not meet a `make run` or
    another test on the same host; heartbeats come to the host's bridge address."""
    n = secrets.randbelow(6 * 64)
    cidr = f"10.{243 + n // 64}.{(n % 64) * 4}.0/22"
    layout = NetnsLayout(cidr)
    return {
        "LBAAS_COMPUTE_DRIVER": "netns",
        "LBAAS_NETNS_BRIDGE": f"lbe-{secrets.token_hex(3)}",
        "LBAAS_NETNS_CIDR": cidr,
        "LBAAS_HEALTH_UDP_ADDR": f"{layout.host_address}:{free_port()}",
    }


def member_host(env: dict[str, str]) -> str:
    """Where a test's members listen so that the stack's amphorae reach them: the host's bridge
    address on netns, loopback otherwise."""
    if env.get("LBAAS_COMPUTE_DRIVER") == "netns":
        return NetnsLayout(env["LBAAS_NETNS_CIDR"]).host_address
    return "127.0.0.1"


def _ip(*args: str) -> str:
    return subprocess.run(
        ["ip", *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


def namespaces() -> set[str]:
    return {line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()}


def link_exists(name: str) -> bool:
    return (
        subprocess.run(["ip", "link", "show", name], capture_output=True, timeout=10).returncode
        == 0
    )


def namespace_pids(namespace: str) -> list[int]:
    return [int(p) for p in _ip("netns", "pids", namespace).split()]


def kill_namespace(namespace: str) -> list[int]:
    """SIGKILLs every process in the namespace at once (the amphora dies as a machine would)."""
    pids = namespace_pids(namespace)
    for pid in pids:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    return pids


def add_host_addresses(bridge: str, layout: NetnsLayout, count: int) -> list[str]:
    """Extra host addresses on the bridge (block 0, from .11), for clients with distinct source
    addresses; they go with the bridge."""
    base = NetnsLayout(layout.cidr).network.network_address
    out = []
    for i in range(count):
        address = str(base + 11 + i)
        _ip("addr", "add", f"{address}/{layout.prefix_length}", "dev", bridge)
        out.append(address)
    return out


@dataclass
class Result:
    at: float  # time.perf_counter() when the answer (or the error) came
    source: str
    ok: bool
    body: str
    took: float = 0.0  # seconds from connect() to the answer (or the error)


@dataclass
class Traffic:
    """GET http://vip:port/ every 1/rate seconds, on a fresh connection each, cycling through
    the source addresses. Bounded: stops by itself after max_seconds."""

    vip: str
    port: int
    sources: list[str]
    rate: float = 50.0
    timeout: float = 0.5
    max_seconds: float = 300.0
    results: list[Result] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _one(self, source: str) -> Result:
        started = time.perf_counter()
        try:
            with socket.create_connection(
                (self.vip, self.port), timeout=self.timeout, source_address=(source, 0)
            ) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            # A response cut short (the server died while sending it) is not a success.
            length = next(
                (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                 if line.lower().startswith(b"content-length:")),
                -1,
            )  # fmt: skip
            ok = head.startswith(b"HTTP/1.1 200") and length == len(body)
            now = time.perf_counter()
            return Result(now, source, ok, body.decode(errors="replace"), now - started)
        except OSError as err:
            now = time.perf_counter()
            return Result(now, source, False, repr(err), now - started)

    def _run(self) -> None:
        interval = 1.0 / self.rate
        end = time.perf_counter() + self.max_seconds
        i = 0
        next_at = time.perf_counter()
        while not self._stop.is_set() and time.perf_counter() < end:
            self.results.append(self._one(self.sources[i % len(self.sources)]))
            i += 1
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_at = time.perf_counter()

    def start(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def successes_after(self, t: float) -> list[Result]:
        return [r for r in list(self.results) if r.ok and r.at > t]

    def gap(self, t: float) -> tuple[float, list[Result]]:
        """The outage an event at t caused: (the longest time between two successes from just
        before t on, the failures after that outage ended). A request already under way when
        the event came may still succeed after t: the outage is the longest gap, not the one
        that starts at t."""
        results = list(self.results)
        before = [r.at for r in results if r.ok and r.at <= t]
        after = [r.at for r in results if r.ok and r.at > t]
        if not before or not after:
            raise AssertionError("no success before or after the event")
        times = [before[-1], *after]
        longest, ended = max(
            ((b - a, b) for a, b in zip(times, times[1:], strict=False)), key=lambda x: x[0]
        )
        failed = [r for r in results if not r.ok and r.at > ended]
        return longest, failed
