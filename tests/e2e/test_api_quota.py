"""Quota enforcement under contention: 20 parallel creates against a project quota of 5 leave
exactly 5 load balancers; every other request gets Octavia's 403 quota fault."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.api import Api
from tests.support.osclients import NOOP_ENV
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack():
    with running_stack("lbaas-quota-", extra_env=NOOP_ENV) as running:
        yield running


def test_parallel_creates_respect_project_quota(stack: RunningStack):
    admin = Api(stack.api_url, stack.token("admin"))
    project = stack.project("member")
    subnet = admin.get("/v2.0/subnets")["subnets"][0]["id"]
    r = admin.http.put(f"/v2/lbaas/quotas/{project}", json={"quota": {"load_balancer": 5}})
    assert r.status_code == 202, r.text  # Octavia: 202 Accepted
    assert r.json()["quota"]["load_balancer"] == 5

    token = stack.token("member")

    def create(i: int) -> httpx.Response:
        with httpx.Client(base_url=stack.api_url, headers={"X-Auth-Token": token}) as c:
            body = {"loadbalancer": {"name": f"q-{i}", "vip_subnet_id": subnet}}
            return c.post("/v2/lbaas/loadbalancers", json=body, timeout=60)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(create, range(20)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 5, codes
    assert codes.count(403) == 15, codes
    for r in results:
        if r.status_code == 403:
            fault = r.json()
            assert fault["faultcode"] == "Client", fault
            assert "quota" in fault["faultstring"].lower(), fault
    member = Api(stack.api_url, token)
    listed = member.get("/v2/lbaas/loadbalancers")["loadbalancers"]
    assert len(listed) == 5
    assert {x["id"] for x in listed} == {r.json()["loadbalancer"]["id"] for r in results
                                         if r.status_code == 201}  # fmt: skip
    # Usage frees up on delete: one more create then fits.
    member.delete(f"/v2/lbaas/loadbalancers/{listed[0]['id']}")

    def freed() -> bool:
        return len(member.get("/v2/lbaas/loadbalancers")["loadbalancers"]) == 4

    from tests.support.api import wait_for

    wait_for(freed, 60, "the deleted load balancer to be gone")
    assert create(99).status_code == 201
    assert create(100).status_code == 403
    member.close()
    admin.close()
