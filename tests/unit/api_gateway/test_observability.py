"""Request ids and request metrics of the gateway, around the app with the in-memory port."""

from __future__ import annotations

import io
import json
import logging
import re

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.api_gateway.observability import ApiMetrics
from services.common import logs
from tests.support.memory_orchestrator import MemoryOrchestrator
from tests.unit.api_gateway.conftest import SUBNET_ID, USER

REQUEST_ID = re.compile(r"req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def requests(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("lbaas_api_requests_total", labels) or 0.0


def test_every_answer_carries_a_request_id_of_its_own(client: TestClient):
    ids = [client.get("/v2/lbaas/loadbalancers").headers["x-openstack-request-id"]]
    # Refused by the input guard before routing, and a route's own error: ids all the same.
    ids.append(
        client.post("/v2/lbaas/loadbalancers", content=b"x").headers["x-openstack-request-id"]
    )
    ids.append(client.get("/v2/lbaas/loadbalancers/nope").headers["x-openstack-request-id"])
    assert all(REQUEST_ID.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == 3


def test_log_lines_of_a_request_carry_its_id(client: TestClient):
    app = client.app
    app.add_api_route("/probe-log", lambda: logging.getLogger("lbaas.probe").warning("inside"))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("api-gateway"))
    probe = logging.getLogger("lbaas.probe")
    probe.addHandler(handler)
    try:
        response = client.get("/probe-log")
    finally:
        probe.removeHandler(handler)
    record = json.loads(stream.getvalue())
    assert record["request_id"] == response.headers["x-openstack-request-id"]
    assert logs.request_id.get() is None  # reset once the request is answered


def test_requests_are_counted_by_route_template_method_and_status(
    orch: MemoryOrchestrator, tokens_file
):
    app = ApiMetrics(bootstrap(Settings(tokens_file=tokens_file), orchestrator=orch))
    expected = {
        ("/v2/lbaas/loadbalancers", "POST", "201"): 1,
        ("/v2/lbaas/loadbalancers/{lb_id}", "GET", "200"): 2,
        ("/v2/lbaas/loadbalancers/{lb_id}", "GET", "404"): 1,
        ("/v2.0/lbaas/loadbalancers/{lb_id}", "GET", "200"): 1,
        ("/v2.0/subnets", "GET", "200"): 1,
        ("/", "GET", "200"): 1,
        ("(unmatched)", "GET", "404"): 1,
        ("(unmatched)", "OTHER", "404"): 1,
    }
    before = {key: requests(*key) for key in expected}
    with TestClient(app, headers={"X-Auth-Token": USER}) as client:
        body = {"loadbalancer": {"name": "lb1", "vip_subnet_id": SUBNET_ID}}
        lb_id = client.post("/v2/lbaas/loadbalancers", json=body).json()["loadbalancer"]["id"]
        for path in (f"/v2/lbaas/loadbalancers/{lb_id}",) * 2 + ("/v2/lbaas/loadbalancers/x",):
            client.get(path)
        client.get(f"/v2.0/lbaas/loadbalancers/{lb_id}")
        client.get("/v2.0/subnets")
        client.get("/")
        client.get("/no/such/route")
        client.request("BREW", "/coffee")
    assert {key: requests(*key) - before[key] for key in expected} == expected
    timed = REGISTRY.get_sample_value(
        "lbaas_api_request_duration_seconds_count",
        {"route": "/v2/lbaas/loadbalancers/{lb_id}", "method": "GET"},
    )
    assert timed is not None and timed >= 3
