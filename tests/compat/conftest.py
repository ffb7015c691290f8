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
