"""Issue 16 end to end: member changes reach haproxy over its runtime API, with no reload.

Every service is a process and the amphora runs real haproxy; traffic is real HTTP on loopback.
A member add is served by the same haproxy processes (master and worker pids unchanged), weight
0 drains a member, a delete stops its traffic, and a SOURCE_IP stick table keeps its entries
across a member change (a reload would start a worker with an empty table)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import httpx
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from tests.support.api import Api
from tests.support.backends import Backend
from tests.support.haproxy_socket import ask, haproxy_pids
from tests.support.stack import RunningStack, leftover_pids, operator_channel, running_stack

PORT, STICKY_PORT = 8080, 8081


def _amphora_id(stack: RunningStack, lb_id: str) -> str:
    with operator_channel(stack, stack.env["LBAAS_ORCHESTRATOR_ADDR"], "orchestrator") as ch:
        resp = pb_grpc.OrchestratorServiceStub(ch).ListAmphorae(
            pb.ListAmphoraeRequest(loadbalancer_id=lb_id), timeout=10
        )
    (amphora,) = resp.amphorae
    return amphora.id


def _haproxy_pids(run_dir: Path, amphora_id: str) -> set[int]:
    return haproxy_pids(leftover_pids(run_dir), str(run_dir / "amphorae" / amphora_id).encode())


def _runtime(run_dir: Path, amphora_id: str, command: str) -> str:
    """One command on the amphora's haproxy admin socket."""
    (sock_path,) = (run_dir / "amphorae" / amphora_id).rglob("haproxy.sock")
    return ask(sock_path, command, time.monotonic() + 10)


def _answers(url: str, n: int) -> Counter:
    with httpx.Client(timeout=5, headers={"Connection": "close"}) as http:
        return Counter(http.get(url).text for _ in range(n))


def _until(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out: {what}")


def _sticky_entries(run_dir: Path, amphora_id: str, pool_id: str) -> dict[str, str]:
    """key -> server_id of the pool's stick table."""
    out = {}
    for line in _runtime(run_dir, amphora_id, f"show table {pool_id}").splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if "key" in fields:
            out[fields["key"]] = fields.get("server_id", "")
    return out


def _create(api: Api, backend: Backend) -> tuple[dict, dict[str, str]]:
    """A load balancer with a round-robin pool and a SOURCE_IP-persistent one, each of one
    member: (the load balancer, pool name -> id)."""
    subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
    member = {"address": backend.host, "protocol_port": backend.port}

    def listener(port: int, name: str, **pool: object) -> dict:
        return {
            "protocol": "HTTP",
            "protocol_port": port,
            "default_pool": {
                "name": name,
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
                "members": [member],
                **pool,
            },
        }

    body = {
        "loadbalancer": {
            "name": "runtime",
            "vip_subnet_id": subnet,
            "listeners": [
                listener(PORT, "rr"),
                listener(STICKY_PORT, "sticky", session_persistence={"type": "SOURCE_IP"}),
            ],
        }
    }
    lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
    lb = api.wait_lb(lb["id"], timeout=90)
    listed = api.get(f"/v2/lbaas/pools?loadbalancer_id={lb['id']}")["pools"]
    return lb, {p["name"]: p["id"] for p in listed}


def test_member_changes_are_made_without_a_reload():
    a, b, c = (Backend(name).start() for name in ("a", "b", "c"))
    try:
        with running_stack("lbaas-rt-") as stack:
            api = Api(stack.api_url, stack.token("member"))
            try:
                lb, pools = _create(api, a)
                url = f"http://{lb['vip_address']}:{PORT}/"
                sticky_url = f"http://{lb['vip_address']}:{STICKY_PORT}/"
                _until(lambda: _answers(url, 1) == Counter(a=1), what="first config serves")
                amphora = _amphora_id(stack, lb["id"])
                pids = _haproxy_pids(stack.run_dir, amphora)
                assert len(pids) >= 2, pids  # master and worker

                # The sticky pool learns this client, then gains a member: the entry stays.
                assert _answers(sticky_url, 3) == Counter(a=3)
                entries = _sticky_entries(stack.run_dir, amphora, pools["sticky"])
                assert entries, "the SOURCE_IP table has the client"
                members = f"/v2/lbaas/pools/{pools['sticky']}/members"
                api.post(members, {"member": {"address": c.host, "protocol_port": c.port}})
                api.wait_lb(lb["id"], timeout=60)
                assert _sticky_entries(stack.run_dir, amphora, pools["sticky"]) == entries
                assert _answers(sticky_url, 6) == Counter(a=6)

                # A member add is served by the same haproxy processes.
                members = f"/v2/lbaas/pools/{pools['rr']}/members"
                added = api.post(members, {"member": {"address": b.host, "protocol_port": b.port}})
                _until(lambda: "b" in _answers(url, 2), what="the new member serves")
                api.wait_lb(lb["id"], timeout=60)
                assert _haproxy_pids(stack.run_dir, amphora) == pids, "haproxy was reloaded"

                # Weight 0 drains: new requests go to the others only.
                (first,) = [
                    m
                    for m in api.get(members)["members"]
                    if m["address"] == a.host and m["protocol_port"] == a.port
                ]
                api.put(f"{members}/{first['id']}", {"member": {"weight": 0}})
                api.wait_lb(lb["id"], timeout=60)
                assert _answers(url, 10) == Counter(b=10)
                api.put(f"{members}/{first['id']}", {"member": {"weight": 1}})
                api.wait_lb(lb["id"], timeout=60)
                assert set(_answers(url, 10)) == {"a", "b"}

                # A delete stops the member's traffic.
                api.delete(f"{members}/{added['member']['id']}")
                api.wait_lb(lb["id"], timeout=60)
                assert _answers(url, 10) == Counter(a=10)
                assert f"{pools['rr']}" in _runtime(stack.run_dir, amphora, "show servers state")
                assert added["member"]["id"] not in _runtime(
                    stack.run_dir, amphora, f"show servers state {pools['rr']}"
                )
                assert _haproxy_pids(stack.run_dir, amphora) == pids, "haproxy was reloaded"
            finally:
                api.close()
    finally:
        for backend in (a, b, c):
            backend.stop()


def test_agents_without_runtime_plans_still_converge_by_reloading():
    """Agents one release behind (no "runtime_plan" capability) get full configs: the member
    change is served, through a reload (new haproxy processes)."""
    a, b = (Backend(name).start() for name in ("a", "b"))
    try:
        with running_stack("lbaas-rt0-", extra_env={"LBAAS_AGENT_RUNTIME_PLANS": "0"}) as stack:
            api = Api(stack.api_url, stack.token("member"))
            try:
                lb, pools = _create(api, a)
                url = f"http://{lb['vip_address']}:{PORT}/"
                _until(lambda: _answers(url, 1) == Counter(a=1), what="first config serves")
                amphora = _amphora_id(stack, lb["id"])
                pids = _haproxy_pids(stack.run_dir, amphora)
                members = f"/v2/lbaas/pools/{pools['rr']}/members"
                added = api.post(members, {"member": {"address": b.host, "protocol_port": b.port}})
                _until(lambda: "b" in _answers(url, 2), what="the new member serves")
                api.wait_lb(lb["id"], timeout=60)
                assert _haproxy_pids(stack.run_dir, amphora) != pids, "no reload happened"
                api.delete(f"{members}/{added['member']['id']}")
                api.wait_lb(lb["id"], timeout=60)
                _until(lambda: _answers(url, 10) == Counter(a=10), what="b's traffic stops")
            finally:
                api.close()
    finally:
        for backend in (a, b):
            backend.stop()
