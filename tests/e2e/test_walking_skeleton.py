"""The walking skeleton end to end: every service as a process, real haproxy, real HTTP traffic."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.api import Api, member_of, wait_for
from tests.support.backends import Backend
from tests.support.stack import (
    RunningStack,
    leftover_pids,
    restart_stack,
    running_stack,
    short_run_dir,
    start_stack,
    stop_stack,
)

pytestmark = pytest.mark.e2e
LISTENER_PORT = 8080


@pytest.fixture(scope="module")
def stack():
    with running_stack("lbaas-e2e-") as running:
        yield running


@pytest.fixture
def api(stack: RunningStack):
    client = Api(stack.api_url, stack.token("member"))
    yield client
    client.close()


@pytest.fixture
def backends():
    started: list[Backend] = []

    def make(name: str) -> Backend:
        b = Backend(name).start()
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


def vip_subnet(api: Api) -> str:
    subnets = api.get("/v2.0/subnets")["subnets"]
    assert len(subnets) == 1
    return subnets[0]["id"]


def fetch(url: str) -> tuple[int, str]:
    """One request on a fresh connection; a connection failure is status 0."""
    try:
        r = httpx.get(url, headers={"Connection": "close"}, timeout=5)
    except httpx.HTTPError as err:
        return 0, repr(err)
    return r.status_code, r.text


def answers(url: str, n: int) -> Counter:
    return Counter(text for status, text in (fetch(url) for _ in range(n)) if status == 200)


def haproxy_pids(run_dir: Path) -> list[int]:
    amphorae = str(run_dir / "amphorae").encode()
    pids = []
    for pid in leftover_pids(run_dir):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"haproxy" in cmd.split(b"\0")[0] and amphorae in cmd:
            pids.append(pid)
    return pids


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def build_lb(api: Api, backends: list[Backend], name: str) -> dict:
    """A load balancer with an HTTP listener, a round-robin pool, members and an HTTP monitor."""
    lb = api.post(
        "/v2/lbaas/loadbalancers",
        {"loadbalancer": {"name": name, "vip_subnet_id": vip_subnet(api)}},
    )["loadbalancer"]
    api.wait_lb(lb["id"])
    listener = api.post(
        "/v2/lbaas/listeners",
        {
            "listener": {
                "loadbalancer_id": lb["id"],
                "protocol": "HTTP",
                "protocol_port": LISTENER_PORT,
                "name": f"{name}-http",
            }
        },
    )["listener"]
    api.wait_lb(lb["id"])
    pool = api.post(
        "/v2/lbaas/pools",
        {
            "pool": {
                "listener_id": listener["id"],
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
            }
        },
    )["pool"]
    api.wait_lb(lb["id"])
    members = []
    for b in backends:
        members.append(
            api.post(
                f"/v2/lbaas/pools/{pool['id']}/members",
                {"member": {"address": b.host, "protocol_port": b.port, "name": b.name}},
            )["member"]
        )
    hm = api.post(
        "/v2/lbaas/healthmonitors",
        {
            "healthmonitor": {
                "pool_id": pool["id"],
                "type": "HTTP",
                "delay": 1,
                "timeout": 1,
                "max_retries": 1,
                "max_retries_down": 1,
                "url_path": "/",
                "expected_codes": "200",
            }
        },
    )["healthmonitor"]
    lb = api.wait_lb(lb["id"])
    return {"lb": lb, "listener": listener, "pool": pool, "members": members, "hm": hm}


def test_load_balancer_lifecycle_with_real_traffic(stack: RunningStack, api: Api, backends):
    b1, b2 = backends("backend-1"), backends("backend-2")
    graph = build_lb(api, [b1, b2], "web")
    lb = graph["lb"]
    vip = ipaddress.ip_address(lb["vip_address"])
    assert vip in ipaddress.ip_network("127.0.0.0/8")
    assert vip not in ipaddress.ip_network("127.0.0.0/24")
    url = f"http://{vip}:{LISTENER_PORT}/"

    def all_online() -> bool:
        tree = api.status_tree(lb["id"])
        return tree["operating_status"] == "ONLINE" and all(
            member_of(tree, m["id"])["operating_status"] == "ONLINE" for m in graph["members"]
        )

    wait_for(all_online, 30, "load balancer and members ONLINE")
    assert api.status_tree(lb["id"])["provisioning_status"] == "ACTIVE"

    seen = answers(url, 40)
    assert set(seen) == {"backend-1", "backend-2"}, seen
    assert sum(seen.values()) == 40

    # A third member starts answering.
    b3 = backends("backend-3")
    api.post(
        f"/v2/lbaas/pools/{graph['pool']['id']}/members",
        {"member": {"address": b3.host, "protocol_port": b3.port, "name": "backend-3"}},
    )
    wait_for(lambda: "backend-3" in answers(url, 6), 30, "backend-3 serving")
    api.wait_lb(lb["id"])

    # A dead backend goes ERROR in the status tree and traffic avoids it.
    b2.stop()
    m2 = graph["members"][1]["id"]
    wait_for(
        lambda: member_of(api.status_tree(lb["id"]), m2)["operating_status"] == "ERROR",
        30,
        "member 2 ERROR",
    )
    assert api.lb(lb["id"])["operating_status"] == "DEGRADED"
    seen = answers(url, 40)
    assert sum(seen.values()) == 40, seen
    assert set(seen) == {"backend-1", "backend-3"}, seen

    # Cascade delete: the VIP port closes and the amphora's haproxy is gone.
    assert haproxy_pids(stack.run_dir), "expected a running haproxy before delete"
    api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    wait_for(
        lambda: api.http.get(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 404,
        60,
        "load balancer deleted",
    )
    assert not port_open(str(vip), LISTENER_PORT)
    wait_for(lambda: not haproxy_pids(stack.run_dir), 15, "haproxy gone")


def test_bad_input_is_rejected_and_nothing_is_written(api: Api):
    before = api.get("/v2/lbaas/loadbalancers")["loadbalancers"]
    subnet = vip_subnet(api)
    cases = [
        ("/v2/lbaas/loadbalancers", {"loadbalancer": {"name": "x"}}, "vip_subnet_id"),
        (
            "/v2/lbaas/loadbalancers",
            {"loadbalancer": {"vip_subnet_id": "not-a-uuid"}},
            "vip_subnet_id",
        ),
        (
            "/v2/lbaas/loadbalancers",
            {"loadbalancer": {"vip_subnet_id": subnet, "admin_state_up": "maybe"}},
            "admin_state_up",
        ),
    ]
    for path, body, field in cases:
        r = api.http.post(path, json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        fault = r.json()
        assert fault["faultcode"] == "Client"
        assert field in fault["faultstring"], fault
    lb = api.post(
        "/v2/lbaas/loadbalancers", {"loadbalancer": {"name": "bad-input", "vip_subnet_id": subnet}}
    )["loadbalancer"]
    api.wait_lb(lb["id"])
    listener_cases = [
        ({"protocol": "HTTP"}, "protocol_port"),
        ({"protocol": "GOPHER", "protocol_port": 80}, "protocol"),
        ({"protocol": "HTTP", "protocol_port": 70000}, "protocol_port"),
        ({"protocol": "HTTP", "protocol_port": 80, "loadbalancer_id": "123"}, "loadbalancer_id"),
    ]
    for fields, field in listener_cases:
        body = {"listener": {"loadbalancer_id": lb["id"], **fields}}
        r = api.http.post("/v2/lbaas/listeners", json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert field in r.json()["faultstring"], r.json()
    assert api.get(f"/v2/lbaas/listeners?loadbalancer_id={lb['id']}")["listeners"] == []
    assert api.lb(lb["id"])["provisioning_status"] == "ACTIVE"
    api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    ids = {x["id"] for x in before} | {lb["id"]}
    wait_for(
        lambda: (
            {x["id"] for x in api.get("/v2/lbaas/loadbalancers")["loadbalancers"]}
            <= ids - {lb["id"]}
        ),
        60,
        "load balancer list back to where it was",
    )


def test_unauthenticated_requests_get_401(stack: RunningStack):
    r = httpx.get(f"{stack.api_url}/v2/lbaas/loadbalancers")
    assert r.status_code == 401
    r = httpx.get(f"{stack.api_url}/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "wrong"})
    assert r.status_code == 401
    assert "faultstring" in r.json()


def test_orchestrator_sigkill_while_pending_create(stack: RunningStack, api: Api, backends):
    b1 = backends("crash-backend")
    lb = api.post(
        "/v2/lbaas/loadbalancers",
        {"loadbalancer": {"name": "crash", "vip_subnet_id": vip_subnet(api)}},
    )["loadbalancer"]
    # Both orchestrator processes: the API one and the worker running the reconcile job.
    names = ("orchestrator-worker", "orchestrator")
    old_pids = {name: stack.service_pid(name) for name in names}
    assert api.lb(lb["id"])["provisioning_status"] == "PENDING_CREATE"
    for name in names:
        os.kill(old_pids[name], signal.SIGKILL)
    # The launcher restarts them, as a process supervisor would.
    for name in names:
        wait_for(lambda n=name: stack.service_pid(n) != old_pids[n], 30, f"{name} restarted")
    api.wait_lb(lb["id"], timeout=90)

    listener = api.post(
        "/v2/lbaas/listeners",
        {
            "listener": {
                "loadbalancer_id": lb["id"],
                "protocol": "HTTP",
                "protocol_port": LISTENER_PORT,
            }
        },
    )["listener"]
    pool = api.post(
        "/v2/lbaas/pools",
        {
            "pool": {
                "listener_id": listener["id"],
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
            }
        },
    )["pool"]
    api.post(
        f"/v2/lbaas/pools/{pool['id']}/members",
        {"member": {"address": b1.host, "protocol_port": b1.port}},
    )
    api.wait_lb(lb["id"], timeout=60)
    url = f"http://{lb['vip_address']}:{LISTENER_PORT}/"
    assert answers(url, 10) == Counter({"crash-backend": 10})
    api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
    wait_for(
        lambda: api.http.get(f"/v2/lbaas/loadbalancers/{lb['id']}").status_code == 404,
        60,
        "load balancer deleted",
    )


def test_state_survives_a_restart_of_the_whole_system(backends):
    """A stop and a second start find the load balancer, and its amphora carries traffic again."""
    run_dir = short_run_dir("lbaas-restart-")
    try:
        first = start_stack(run_dir)
        try:
            api = Api(first.api_url, first.token("member"))
            b1 = backends("survivor")
            lb = build_lb(api, [b1], "survivor")["lb"]
            url = f"http://{lb['vip_address']}:{LISTENER_PORT}/"
            assert answers(url, 5) == Counter({"survivor": 5})
            api.close()
        finally:
            stop_stack(first)
        assert leftover_pids(run_dir) == []
        assert not port_open(lb["vip_address"], LISTENER_PORT)

        second = restart_stack(first)
        try:
            api = Api(second.api_url, second.token("member"))
            assert api.lb(lb["id"])["name"] == "survivor"
            wait_for(
                lambda: answers(url, 5) == Counter({"survivor": 5}), 60, "traffic after restart"
            )
            api.close()
        finally:
            stop_stack(second)
        assert leftover_pids(run_dir) == []
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
