"""Updates to a busy load balancer: ten changes fired without waiting are all accepted (no 409,
unlike Octavia's PENDING_UPDATE lock), folded into reconcile passes, and the last of each lands
in the amphora's live haproxy configuration and in real traffic."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.api import Api, wait_for
from tests.support.backends import Backend
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e
PORT = 8090


@pytest.fixture(scope="module")
def stack():
    with running_stack("lbaas-busy-") as running:
        yield running


def live_configs(run_dir: Path) -> list[str]:
    return [p.read_text() for p in (run_dir / "amphorae").glob("*/**/conf/haproxy.cfg")]


def test_ten_updates_without_waiting_all_land(stack: RunningStack):
    api = Api(stack.api_url, stack.token("member"))
    b1, b2 = Backend("busy-1").start(), Backend("busy-2").start()
    try:
        subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
        lb = api.post("/v2/lbaas/loadbalancers", {"loadbalancer": {"vip_subnet_id": subnet}})
        lb_id = lb["loadbalancer"]["id"]
        api.wait_lb(lb_id)
        listener = api.post(
            "/v2/lbaas/listeners",
            {"listener": {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": PORT}},
        )["listener"]
        pool = api.post("/v2/lbaas/pools", {"pool": {
            "listener_id": listener["id"], "protocol": "HTTP",
            "lb_algorithm": "ROUND_ROBIN"}})["pool"]  # fmt: skip
        m1, m2 = (
            api.post(f"/v2/lbaas/pools/{pool['id']}/members", {"member": {
                "address": b.host, "protocol_port": b.port, "name": b.name}})["member"]
            for b in (b1, b2)
        )  # fmt: skip
        api.wait_lb(lb_id)
        vip = api.lb(lb_id)["vip_address"]
        url = f"http://{vip}:{PORT}/"

        def answers(n: int) -> Counter:
            return Counter(
                httpx.get(url, headers={"Connection": "close"}, timeout=5).text for _ in range(n)
            )

        wait_for(lambda: set(answers(6)) == {"busy-1", "busy-2"}, 30, "both backends serving")

        updates = [
            ("/v2/lbaas/listeners/" + listener["id"], {"listener": {"connection_limit": 101}}),
            (f"/v2/lbaas/pools/{pool['id']}/members/{m1['id']}", {"member": {"weight": 2}}),
            ("/v2/lbaas/listeners/" + listener["id"], {"listener": {"connection_limit": 102}}),
            (f"/v2/lbaas/pools/{pool['id']}/members/{m1['id']}", {"member": {"weight": 3}}),
            ("/v2/lbaas/listeners/" + listener["id"], {"listener": {"timeout_client_data": 7000}}),
            (f"/v2/lbaas/pools/{pool['id']}/members/{m1['id']}", {"member": {"weight": 4}}),
            ("/v2/lbaas/listeners/" + listener["id"], {"listener": {"connection_limit": 103}}),
            (f"/v2/lbaas/pools/{pool['id']}/members/{m1['id']}", {"member": {"weight": 5}}),
            ("/v2/lbaas/listeners/" + listener["id"], {"listener": {"connection_limit": 104}}),
            (f"/v2/lbaas/pools/{pool['id']}/members/{m2['id']}",
             {"member": {"admin_state_up": False}}),
        ]  # fmt: skip
        # In order, without waiting for the load balancer to leave PENDING_UPDATE...
        codes = [api.http.put(path, json=body).status_code for path, body in updates[:7]]
        # ...and the rest concurrently. They touch distinct fields: two concurrent writes to the
        # same field have no defined winner, here as in any API.
        with ThreadPoolExecutor(3) as ex:
            codes += list(ex.map(lambda u: api.http.put(u[0], json=u[1]).status_code, updates[7:]))
        assert codes == [200] * 10, codes

        api.wait_lb(lb_id, timeout=60)
        shown = api.get("/v2/lbaas/listeners/" + listener["id"])["listener"]
        assert shown["connection_limit"] == 104 and shown["timeout_client_data"] == 7000
        member1 = api.get(f"/v2/lbaas/pools/{pool['id']}/members/{m1['id']}")["member"]
        assert member1["weight"] == 5
        member2 = api.get(f"/v2/lbaas/pools/{pool['id']}/members/{m2['id']}")["member"]
        assert member2["admin_state_up"] is False

        def applied() -> str | None:
            for cfg in live_configs(stack.run_dir):
                if re.search(r"\bmaxconn 104\b", cfg) and re.search(r"\btimeout client 7000", cfg):
                    return cfg
            return None

        cfg = wait_for(applied, 30, "maxconn 104 / timeout client 7000 in haproxy.cfg")
        server1 = next(line for line in cfg.splitlines() if m1["id"] in line and "server" in line)
        assert re.search(r"\bweight 5\b", server1), server1
        server2 = next(line for line in cfg.splitlines() if m2["id"] in line and "server" in line)
        assert "disabled" in server2, server2
        # The disabled member takes no traffic.
        wait_for(lambda: set(answers(8)) == {"busy-1"}, 30, "only busy-1 serving")
        api.delete(f"/v2/lbaas/loadbalancers/{lb_id}?cascade=true")
    finally:
        b1.stop()
        b2.stop()
        api.close()
