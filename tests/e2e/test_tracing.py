"""One tenant call, one trace: a fully populated load balancer create, every service a process,
and the spans read back from the file exporter. The gateway's REST request is the root; the
orchestrator API, the worker's reconcile pass (through the job's trace context), the renderer
and the amphora agent all add spans to that same trace."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.support.api import Api, amphorae, wait_for
from tests.support.backends import Backend
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e

GATEWAY, API, WORKER, RENDERER, AGENT = (
    "api-gateway",
    "orchestrator-api",
    "orchestrator-worker",
    "renderer-haproxy",
    "amphora-agent",
)
ROOT_NAME = "POST /v2/lbaas/loadbalancers"


@pytest.fixture(scope="module")
def stack():
    with pytest.MonkeyPatch.context() as mp:
        # Spans to the default files whatever the caller's environment says, written every
        # 200 ms instead of every 5 s.
        for name in ("LBAAS_TRACE_FILE", "OTEL_SDK_DISABLED", "OTEL_TRACES_SAMPLER"):
            mp.delenv(name, raising=False)
        extra = {"LBAAS_TRACE_EXPORTER": "file", "OTEL_BSP_SCHEDULE_DELAY": "200"}
        with running_stack("lbaas-trace-", extra_env=extra) as running:
            yield running


@pytest.fixture
def backend():
    b = Backend("traced").start()
    yield b
    b.stop()


def read_spans(run_dir: Path) -> list[dict]:
    """Every span exported so far by every process (a line still being written is skipped)."""
    spans = []
    for path in sorted((run_dir / "traces").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                spans.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return spans


def create_trace(run_dir: Path) -> list[dict] | None:
    """The spans of the trace whose root is the gateway's POST /v2/lbaas/loadbalancers, once it
    is whole: spans from the five processes, and every span's parent exported too (the
    reconcile span ends after its children)."""
    spans = read_spans(run_dir)
    roots = [
        s
        for s in spans
        if s["service"] == GATEWAY and s["name"] == ROOT_NAME and s["parent_span_id"] is None
    ]
    if len(roots) != 1:
        return None
    trace = [s for s in spans if s["trace_id"] == roots[0]["trace_id"]]
    ids = {s["span_id"] for s in trace}
    services = {s["service"] for s in trace}
    whole = all(s["parent_span_id"] in ids for s in trace if s is not roots[0])
    if not whole or not {GATEWAY, API, WORKER, RENDERER, AGENT} <= services:
        return None
    return trace


def describe(run_dir: Path) -> str:
    """The traces that have a span from the gateway, one line per span, for a failure."""
    spans = read_spans(run_dir)
    traced = {s["trace_id"] for s in spans if s["service"] == GATEWAY}
    return "\n".join(
        f"{s['trace_id'][:8]} {s['service']:20} {s['kind']:8} {s['name']}"
        for s in sorted(spans, key=lambda s: (s["trace_id"], s["start_ns"]))
        if s["trace_id"] in traced
    )


def test_one_create_is_one_trace_across_all_five_processes(stack: RunningStack, backend: Backend):
    api = Api(stack.api_url, stack.token("member"))
    admin = Api(stack.api_url, stack.token("admin"))
    try:
        subnet = api.get("/v2.0/subnets")["subnets"][0]["id"]
        body = {
            "loadbalancer": {
                "name": "traced",
                "vip_subnet_id": subnet,
                "listeners": [
                    {
                        "name": "http",
                        "protocol": "HTTP",
                        "protocol_port": 8080,
                        "default_pool": {
                            "name": "pool",
                            "protocol": "HTTP",
                            "lb_algorithm": "ROUND_ROBIN",
                            "members": [{"address": backend.host, "protocol_port": backend.port}],
                        },
                    }
                ],
            }
        }
        lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
        api.wait_lb(lb["id"])
        (amphora,) = amphorae(admin, lb["id"])
    finally:
        api.close()
        admin.close()

    # Bounded: each process writes its spans within 200 ms of their end, on a loaded machine
    # later; nothing here depends on how long that takes.
    try:
        trace = wait_for(lambda: create_trace(stack.run_dir), 60, "the create's trace")
    except AssertionError:
        raise AssertionError(f"no whole trace of the create:\n{describe(stack.run_dir)}") from None

    by_id = {s["span_id"]: s for s in trace}
    counts = Counter(s["service"] for s in trace)
    root = next(s for s in trace if s["parent_span_id"] is None)
    assert (root["service"], root["kind"]) == (GATEWAY, "SERVER"), root
    assert sum(1 for s in trace if s["parent_span_id"] is None) == 1, counts

    def parent(span: dict) -> dict:
        return by_id[span["parent_span_id"]]

    # The gateway's gRPC call is the orchestrator API's parent.
    create = next(s for s in trace if s["service"] == API and s["kind"] == "SERVER")
    assert create["name"].endswith("/CreateLoadBalancer"), create["name"]
    assert parent(create)["service"] == GATEWAY and parent(create)["kind"] == "CLIENT"
    # The worker's pass continues the call that deferred its job (the job's trace context).
    passes = [s for s in trace if s["service"] == WORKER and s["name"] == "reconcile"]
    assert passes, counts
    assert parent(passes[0])["service"] == API, parent(passes[0])
    assert passes[0]["attributes"]["lbaas.loadbalancer_id"] == lb["id"]
    # The pass renders (the API asked the renderer too: Describe, for the feature gate) and
    # pushes to the agent.
    renders = [s for s in trace if s["service"] == RENDERER and s["name"].endswith("/Render")]
    assert renders, counts
    assert all(parent(s)["service"] == WORKER for s in renders)
    agent_spans = [s for s in trace if s["service"] == AGENT]
    assert all(parent(s)["service"] == WORKER for s in agent_spans if s["kind"] == "SERVER")
    assert {s["resource"]["service.instance.id"] for s in agent_spans} == {amphora["id"]}
