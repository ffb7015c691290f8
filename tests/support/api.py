"""A thin REST client for the Octavia-compatible API, and polling helpers for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx


class Api:
    def __init__(self, base_url: str, token: str):
        self.http = httpx.Client(base_url=base_url, headers={"X-Auth-Token": token}, timeout=30)

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, body: dict) -> dict:
        r = self.http.post(path, json=body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()

    def get(self, path: str) -> dict:
        r = self.http.get(path)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def put(self, path: str, body: dict) -> dict:
        r = self.http.put(path, json=body)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def delete(self, path: str) -> None:
        r = self.http.delete(path)
        assert r.status_code == 204, (r.status_code, r.text)

    def lb(self, lb_id: str) -> dict:
        return self.get(f"/v2/lbaas/loadbalancers/{lb_id}")["loadbalancer"]

    def status_tree(self, lb_id: str) -> dict:
        return self.get(f"/v2/lbaas/loadbalancers/{lb_id}/status")["statuses"]["loadbalancer"]

    def wait_lb(self, lb_id: str, provisioning: str = "ACTIVE", timeout: float = 60) -> dict:
        def check() -> dict | None:
            lb = self.lb(lb_id)
            assert lb["provisioning_status"] != "ERROR", lb
            return lb if lb["provisioning_status"] == provisioning else None

        return wait_for(check, timeout, f"load balancer {lb_id} {provisioning}")


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """Polls check until it returns something truthy; fails with what after timeout seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def member_of(status_tree: dict, member_id: str) -> dict:
    for listener in status_tree["listeners"]:
        for pool in listener["pools"]:
            for member in pool["members"]:
                if member["id"] == member_id:
                    return member
    raise KeyError(member_id)


def amphorae(admin: Api, lb_id: str | None = None) -> list[dict]:
    """The admin amphora list: one load balancer's amphorae, or all of them (spares too)."""
    query = f"?loadbalancer_id={lb_id}" if lb_id else ""
    return admin.get(f"/v2/octavia/amphorae{query}")["amphorae"]


def ready_spares(admin: Api) -> list[dict]:
    """Spare amphorae that a create or a failover can take now: READY, serving nothing."""
    return [a for a in amphorae(admin) if a["status"] == "READY" and not a["loadbalancer_id"]]


def first_served(
    url: str,
    expect: str,
    *,
    timeout: float = 60,
    interval: float = 0.02,
    request_timeout: float = 0.5,
) -> float:
    """Sends GET url on a fresh connection every interval until one answers 200 with the body
    expect; returns time.perf_counter() when that answer arrived. AssertionError after timeout."""
    deadline = time.perf_counter() + timeout
    last = ""
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(timeout=request_timeout, limits=limits) as client:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                r = client.get(url, headers={"Connection": "close"})
                if r.status_code == 200 and r.text == expect:
                    return time.perf_counter()
                last = f"{r.status_code} {r.text[:80]!r}"
            except httpx.HTTPError as err:
                last = repr(err)
            time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    raise AssertionError(f"{url} not served {expect!r} within {timeout}s (last: {last})")
