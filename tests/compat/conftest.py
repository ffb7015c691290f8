"""Shared fixtures for the client-compatibility suites: one stack per module (noop compute
driver unless a module starts its own), and openstacksdk connections built from its clouds.yaml."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.osclients import NOOP_ENV, sdk, stop_fork_server
from tests.support.stack import RunningStack, running_stack


@pytest.fixture(scope="session", autouse=True)
def _cli_fork_server():
    """The CLI fork server (started by the first command) ends with the session."""
    yield
    stop_fork_server()


@pytest.fixture(scope="module")
def noop_stack():
    with running_stack("lbaas-cmp-", extra_env=NOOP_ENV) as running:
        yield running


@pytest.fixture(scope="module")
def conn(noop_stack: RunningStack):
    connection = sdk(noop_stack)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def demo_conn(noop_stack: RunningStack):
    connection = sdk(noop_stack, "lbaas-demo")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def rest(noop_stack: RunningStack):
    """Raw REST as the admin, for what no client exposes (links, sort, batch member update)."""
    client = Api(noop_stack.api_url, noop_stack.token("admin"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def subnet_id(rest: Api) -> str:
    subnets = rest.get("/v2.0/subnets")["subnets"]
    assert len(subnets) == 1
    return subnets[0]["id"]


@pytest.fixture(scope="module")
def tree(rest: Api, subnet_id: str) -> dict[str, str]:
    """A load balancer with an HTTP listener, a pool and a REJECT policy, for rule checks."""
    lb = rest.post("/v2/lbaas/loadbalancers", {"loadbalancer": {"vip_subnet_id": subnet_id}})
    lb_id = lb["loadbalancer"]["id"]
    listener = rest.post(
        "/v2/lbaas/listeners",
        {"listener": {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 80}},
    )["listener"]["id"]
    pool = rest.post(
        "/v2/lbaas/pools",
        {"pool": {"loadbalancer_id": lb_id, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}},
    )["pool"]["id"]
    policy = rest.post(
        "/v2/lbaas/l7policies", {"l7policy": {"listener_id": listener, "action": "REJECT"}}
    )["l7policy"]["id"]
    yield {"subnet": subnet_id, "lb": lb_id, "listener": listener, "pool": pool, "policy": policy}
    rest.wait_lb(lb_id)
    rest.delete(f"/v2/lbaas/loadbalancers/{lb_id}?cascade=true")
