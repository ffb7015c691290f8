"""LBAAS_COMPUTE_DRIVER=remote through the launcher: amphorae run on the compute host, not in the
worker, so they serve on while the worker that built them is killed and restarted."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.support.api import Api, amphorae, wait_for
from tests.support.backends import Backend, free_port
from tests.support.stack import amphora_pids, running_stack, wait_restarted

pytestmark = pytest.mark.e2e
LISTENER_PORT = 8080


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def _agent_pid(run_dir: Path, amphora_id: str) -> int:
    (pid,) = [
        p
        for p in amphora_pids(run_dir, amphora_id)
        if b"amphora_agent" in Path(f"/proc/{p}/cmdline").read_bytes()
    ]
    return pid


def _serves(url: str) -> bool:
    try:
        r = httpx.get(url, headers={"Connection": "close"}, timeout=5)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and r.text == "backend-1"


def test_an_amphora_of_the_compute_host_outlives_the_worker_that_built_it():
    env = {
        "LBAAS_COMPUTE_DRIVER": "remote",
        "LBAAS_COMPUTE_HOST_ADDR": f"127.0.0.1:{free_port()}",
        "LBAAS_SPARE_POOL_SIZE": "0",
    }
    backend = Backend("backend-1").start()
    try:
        with running_stack("lbaas-e2e-", extra_env=env) as stack:
            api = Api(stack.api_url, stack.token("member"))
            admin = Api(stack.api_url, stack.token("admin"))
            try:
                subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
                lb = api.post(
                    "/v2/lbaas/loadbalancers",
                    {"loadbalancer": {"name": "remote", "vip_subnet_id": subnet}},
                )["loadbalancer"]
                api.wait_lb(lb["id"])
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
                api.post(
                    f"/v2/lbaas/pools/{pool['id']}/members",
                    {"member": {"address": backend.host, "protocol_port": backend.port}},
                )
                lb = api.wait_lb(lb["id"])
                url = f"http://{lb['vip_address']}:{LISTENER_PORT}/"
                wait_for(lambda: _serves(url), 30, "the VIP serving backend-1")

                # The compute host started the agent; the worker only asked for it.
                (amphora,) = amphorae(admin, lb["id"])
                agent = _agent_pid(stack.run_dir, amphora["id"])
                assert _parent(agent) == stack.service_pid("compute")
                assert amphora["lb_network_ip"] == "127.0.0.1"

                worker = stack.service_pid("orchestrator-worker")
                os.kill(worker, signal.SIGKILL)
                assert all(_serves(url) for _ in range(10))
                wait_restarted(stack, "orchestrator-worker", worker)
                assert _agent_pid(stack.run_dir, amphora["id"]) == agent
                assert _serves(url)

                # The restarted worker still manages it: a delete stops it on the compute host.
                api.delete(f"/v2/lbaas/loadbalancers/{lb['id']}?cascade=true")
                wait_for(
                    lambda: not amphora_pids(stack.run_dir, amphora["id"]),
                    60,
                    "the amphora's processes gone",
                )
            finally:
                api.close()
                admin.close()
    finally:
        backend.stop()
