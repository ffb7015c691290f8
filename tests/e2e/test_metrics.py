"""Metrics and JSON logs of every service, as the launcher runs them.

One create / update / listener / list / delete cycle through the REST API, with every service's
/metrics scraped before and after it and parsed with Prometheus's own text parser. What the test
itself caused is asserted exactly: the gateway's requests by route, method and status, and its
calls to the orchestrator by method and code (both counted by the test as it sends them), the
orchestrator's server-side counts of the methods only the gateway calls, and renders of the
backends no load balancer of the test uses. What other actors add to (the health service's calls,
reconcile passes the sweep or a drift check may run, heartbeats) is asserted as "at least", or
through relations that hold inside one scrape. The stack logs JSON lines (LBAAS_LOG_FORMAT=json):
every line of every service parses, and a request's id and trace id lead from the gateway's
access line to the worker's reconcile pass.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import wait_for
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e

# Every process the launcher runs here (its defaults: local amphorae, a renderer per backend).
SERVICES = {
    "api_gateway": "api-gateway",
    "orchestrator": "orchestrator-api",
    "orchestrator-worker": "orchestrator-worker",
    "renderer-haproxy": "renderer-haproxy",
    "renderer-nginx": "renderer-nginx",
    "renderer-f5-as3": "renderer-f5-as3",
    "health": "health",
}
ORCHESTRATOR_SERVICE = "lbaas.orchestrator.v1.OrchestratorService"
LB_ROUTE = "/v2/lbaas/loadbalancers"
LB_ITEM_ROUTE = "/v2/lbaas/loadbalancers/{lb_id}"
LISTENER_ROUTE = "/v2/lbaas/listeners"
# The orchestrator methods no one but the gateway calls: their server-side counts are exact.
GATEWAY_ONLY = (
    "CreateLoadBalancer",
    "UpdateLoadBalancer",
    "DeleteLoadBalancer",
    "CreateListener",
    "ListLoadBalancers",
)
JSON_FIELDS = {"timestamp", "level", "service", "logger", "message"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(stack: RunningStack, name: str) -> Samples:
    """Every sample of one service's /metrics, by name and labels."""
    response = httpx.get(stack.metrics_url(name), timeout=10)
    assert response.status_code == 200, (name, response.status_code)
    assert response.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def moved(before: Samples, after: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """label set -> increase, of every series of `name` that moved."""
    return {
        labels: v - before.get((n, labels), 0.0)
        for (n, labels), v in after.items()
        if n == name and v != before.get((n, labels), 0.0)
    }


@dataclass
class Cycle:
    before: dict[str, Samples]
    after: dict[str, Samples]
    # (route template, method, status) -> requests the test sent
    requests: Counter = field(default_factory=Counter)
    # (orchestrator method, gRPC code) -> the gateway's calls those requests made
    calls: Counter = field(default_factory=Counter)
    # the create's response: its request id
    create_request_id: str = ""
    lb_id: str = ""


class CountingClient:
    """Sends REST requests and counts each by route template, method and status, with the
    orchestrator call the gateway makes for it (each of these routes makes exactly one)."""

    def __init__(self, stack: RunningStack, cycle: Cycle):
        self.http = httpx.Client(
            base_url=stack.api_url, headers={"X-Auth-Token": stack.token("member")}, timeout=30
        )
        self.cycle = cycle

    def send(
        self, method: str, path: str, route: str, rpc: str, body: dict | None = None
    ) -> httpx.Response:
        response = self.http.request(method, path, json=body)
        self.cycle.requests[(route, method, str(response.status_code))] += 1
        code = {404: "NOT_FOUND"}.get(response.status_code, "OK")
        self.cycle.calls[(rpc, code)] += 1
        assert response.headers["x-openstack-request-id"].startswith("req-")
        return response

    def lb(self, lb_id: str) -> httpx.Response:
        return self.send("GET", f"{LB_ROUTE}/{lb_id}", LB_ITEM_ROUTE, "GetLoadBalancer")

    def wait_active(self, lb_id: str) -> None:
        def active() -> bool:
            r = self.lb(lb_id)
            assert r.status_code == 200, r.text
            lb = r.json()["loadbalancer"]
            assert lb["provisioning_status"] != "ERROR", lb
            return lb["provisioning_status"] == "ACTIVE"

        wait_for(active, 90, f"load balancer {lb_id} ACTIVE", interval=0.2)

    def wait_gone(self, lb_id: str) -> None:
        wait_for(lambda: self.lb(lb_id).status_code == 404, 90, f"{lb_id} deleted", 0.2)


@pytest.fixture(scope="module")
def stack():
    # JSON logs, and spans (for the trace ids in them) in the run dir's files.
    env = {"LBAAS_LOG_FORMAT": "json", "LBAAS_TRACE_EXPORTER": "file"}
    with running_stack("lbaas-metrics-", extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def cycle(stack: RunningStack) -> Cycle:
    http = httpx.Client(base_url=stack.api_url, headers={"X-Auth-Token": stack.token("member")})
    subnet = http.get("/v2.0/subnets").json()["subnets"][0]["id"]
    http.close()
    result = Cycle(before={n: scrape(stack, n) for n in SERVICES}, after={})
    client = CountingClient(stack, result)
    body = {"loadbalancer": {"name": "metrics", "vip_subnet_id": subnet}}
    created = client.send("POST", LB_ROUTE, LB_ROUTE, "CreateLoadBalancer", body)
    assert created.status_code == 201, created.text
    result.create_request_id = created.headers["x-openstack-request-id"]
    lb_id = result.lb_id = created.json()["loadbalancer"]["id"]
    client.wait_active(lb_id)
    body = {"loadbalancer": {"name": "metrics-renamed"}}
    renamed = client.send("PUT", f"{LB_ROUTE}/{lb_id}", LB_ITEM_ROUTE, "UpdateLoadBalancer", body)
    assert renamed.status_code == 200, renamed.text
    client.wait_active(lb_id)
    body = {"listener": {"loadbalancer_id": lb_id, "protocol": "HTTP", "protocol_port": 8080}}
    listener = client.send("POST", LISTENER_ROUTE, LISTENER_ROUTE, "CreateListener", body)
    assert listener.status_code == 201, listener.text
    client.wait_active(lb_id)
    listed = client.send("GET", LB_ROUTE, LB_ROUTE, "ListLoadBalancers")
    assert [x["id"] for x in listed.json()["loadbalancers"]] == [lb_id]
    path = f"{LB_ROUTE}/{lb_id}?cascade=true"
    deleted = client.send("DELETE", path, LB_ITEM_ROUTE, "DeleteLoadBalancer")
    assert deleted.status_code == 204, deleted.text
    client.wait_gone(lb_id)
    client.http.close()

    # The worker records a pass once it has ended, just after the API shows its result: wait
    # (bounded) for the four passes the changes asked for, then take the final scrape.
    def passes_recorded() -> bool:
        worker = scrape(stack, "orchestrator-worker")
        passes = delta(
            result.before["orchestrator-worker"],
            worker,
            "lbaas_reconcile_passes_total",
            outcome="succeeded",
        )
        return passes >= 4

    wait_for(passes_recorded, 30, "the cycle's reconcile passes in the worker's metrics", 0.2)
    result.after = {n: scrape(stack, n) for n in SERVICES}
    return result


def test_every_service_serves_its_metrics(cycle: Cycle):
    for name, service in SERVICES.items():
        assert value(cycle.after[name], "lbaas_service_info", service=service) == 1.0, name
        # prometheus_client's process collector: the scrape is the process's own.
        assert value(cycle.after[name], "process_cpu_seconds_total") > 0, name


def test_the_gateway_counts_each_request_by_route_method_and_status(cycle: Cycle):
    before, after = cycle.before["api_gateway"], cycle.after["api_gateway"]
    counted = {
        (dict(labels)["route"], dict(labels)["method"], dict(labels)["status"]): n
        for labels, n in moved(before, after, "lbaas_api_requests_total").items()
    }
    assert counted == dict(cycle.requests)
    # Every request was timed, under its route and method.
    for (route, method, _), _n in cycle.requests.items():
        sent = sum(n for (r, m, _), n in cycle.requests.items() if (r, m) == (route, method))
        timed = delta(
            before, after, "lbaas_api_request_duration_seconds_count", route=route, method=method
        )
        assert timed == sent, (route, method)
    assert cycle.requests[(LB_ITEM_ROUTE, "GET", "404")] == 1


def test_the_gateway_counts_its_orchestrator_calls_by_method_and_code(cycle: Cycle):
    before, after = cycle.before["api_gateway"], cycle.after["api_gateway"]
    counted = {
        (dict(labels)["grpc_method"], dict(labels)["grpc_code"]): n
        for labels, n in moved(before, after, "lbaas_grpc_client_handled_total").items()
    }
    assert counted == dict(cycle.calls)


def test_the_orchestrator_counts_the_calls_it_served(cycle: Cycle):
    before, after = cycle.before["orchestrator"], cycle.after["orchestrator"]

    def served(method: str, code: str = "OK") -> float:
        return delta(
            before,
            after,
            "lbaas_grpc_server_handled_total",
            grpc_service=ORCHESTRATOR_SERVICE,
            grpc_method=method,
            grpc_code=code,
        )

    for method in GATEWAY_ONLY:
        assert served(method) == cycle.calls[(method, "OK")] == 1, method
    # The health service asks for load balancers too (the graph of an amphora's heartbeat).
    assert served("GetLoadBalancer") >= cycle.calls[("GetLoadBalancer", "OK")] > 0
    assert served("GetLoadBalancer", "NOT_FOUND") >= 1
    # Probes (grpc.health.v1) are not counted: the launcher's readiness checks left no series.
    assert not [k for k in after if "grpc.health.v1" in str(k)]


def test_the_worker_counts_its_passes_and_applies(cycle: Cycle):
    before, after = cycle.before["orchestrator-worker"], cycle.after["orchestrator-worker"]
    passes = {
        outcome: delta(before, after, "lbaas_reconcile_passes_total", outcome=outcome)
        for outcome in ("succeeded", "failed", "retried", "gone")
    }
    # create, rename, listener, delete: one pass each at least (a sweep or a drift push may add).
    assert passes["succeeded"] >= 4
    assert passes["failed"] == 0
    # Every pass was timed (one scrape: the two move together).
    timed = delta(before, after, "lbaas_reconcile_pass_duration_seconds_count")
    assert timed == sum(passes.values())
    # The load balancer's config went to its agent twice at least (its first config and the one
    # with the listener), each reloading haproxy; no apply was refused.
    assert delta(before, after, "lbaas_agent_applies_total", result="applied") >= 2
    assert delta(before, after, "lbaas_agent_reloads_total", result="succeeded") >= 2
    for bad in ("invalid", "rolled_back", "broken"):
        assert delta(before, after, "lbaas_agent_applies_total", result=bad) == 0, bad
    for state in ("due", "scheduled", "doing", "failed"):
        assert ("lbaas_reconcile_queue_jobs", (("state", state),)) in after, state


def test_renderers_time_their_renders_per_backend(cycle: Cycle):
    before, after = cycle.before["renderer-haproxy"], cycle.after["renderer-haproxy"]
    rendered = delta(before, after, "lbaas_renderer_render_seconds_count", backend="haproxy")
    answered = delta(
        before,
        after,
        "lbaas_grpc_server_handled_total",
        grpc_service="lbaas.renderer.v1.RendererService",
        grpc_method="Render",
        grpc_code="OK",
    )
    assert rendered == answered >= 3  # create, rename, listener (a delete renders nothing)
    for backend in ("nginx", "f5-as3"):  # no load balancer of theirs: exactly nothing
        samples = cycle.before[f"renderer-{backend}"], cycle.after[f"renderer-{backend}"]
        assert delta(*samples, "lbaas_renderer_render_seconds_count", backend=backend) == 0
        assert value(samples[1], "lbaas_service_info", service=f"renderer-{backend}") == 1


def test_the_health_service_counts_heartbeats_and_failovers(cycle: Cycle):
    before, after = cycle.before["health"], cycle.after["health"]
    received = delta(before, after, "lbaas_health_heartbeats_received_total")
    accepted = delta(before, after, "lbaas_health_heartbeats_accepted_total")
    dropped = moved(before, after, "lbaas_health_heartbeats_dropped_total")
    assert received >= 1 and accepted >= 1
    assert dropped == {}  # every heartbeat of a healthy system passes
    assert value(after, "lbaas_health_heartbeats_received_total") == value(
        after, "lbaas_health_heartbeats_accepted_total"
    ) + sum(v for (n, _), v in after.items() if n == "lbaas_health_heartbeats_dropped_total")
    assert delta(before, after, "lbaas_health_heartbeat_batches_total") >= 1
    assert delta(before, after, "lbaas_health_heartbeat_write_lag_seconds_count") >= 1
    assert delta(before, after, "lbaas_health_failovers_requested_total") == 0
    assert value(after, "lbaas_health_failover_breaker_open") == 0
    assert ("lbaas_health_stale_amphorae", ()) in after


def _json_lines(stack: RunningStack, name: str) -> list[dict]:
    lines = [line for line in stack.log(name).splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{name}: a log line that is not JSON: {line[:300]!r}")
    return records


def test_every_service_logs_json_lines(stack: RunningStack, cycle: Cycle):
    for name, service in SERVICES.items():
        records = _json_lines(stack, name)
        assert records, name
        for record in records:
            assert JSON_FIELDS <= set(record), (name, record)
            assert record["service"] == service, (name, record)
            assert TIMESTAMP.match(record["timestamp"]), record["timestamp"]
            assert record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def test_a_request_id_and_its_trace_lead_from_the_gateway_to_the_worker(
    stack: RunningStack, cycle: Cycle
):
    gateway = _json_lines(stack, "api_gateway")
    access = [r for r in gateway if r.get("request_id") == cycle.create_request_id]
    assert [r["logger"] for r in access] == ["uvicorn.access"], access
    assert "POST /v2/lbaas/loadbalancers" in access[0]["message"]
    trace_id = access[0]["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    # The create's reconcile pass runs in the trace of the request that deferred it.
    applied = [
        r
        for r in _json_lines(stack, "orchestrator-worker")
        if f"load balancer {cycle.lb_id} version 1 applied" in r["message"]
    ]
    assert [r.get("trace_id") for r in applied] == [trace_id], applied
    # No request id outside the gateway: it lives only in the request the gateway serves.
    assert all("request_id" not in r for r in _json_lines(stack, "orchestrator-worker"))
