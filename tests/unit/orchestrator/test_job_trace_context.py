"""The reconcile job carries the W3C trace context of the call that deferred it, and the worker's
pass is a span under it: inject (job_queue) and extract (jobs/worker.py), without a database."""

from __future__ import annotations

import asyncio
import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common import tracing
from services.orchestrator.adapters.job_queue import (
    RECONCILE_TASK,
    TRACE_CONTEXT_ARG,
    _job,
    reconcile_kwargs,
)
from services.orchestrator.jobs.worker import build_worker_app

LB = "5f0ad2b2-7a43-4a8e-9c61-3b1f7f2f0b11"


@pytest.fixture
def spans(monkeypatch) -> InMemorySpanExporter:
    """A tracer provider of this test's own (the process-wide one is left alone): job_span
    uses it, and the test starts its 'deferring call' spans from it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    return exporter


class RecordingReconciler:
    """Records, for each pass, the span that was current while it ran."""

    def __init__(self) -> None:
        self.current: list[trace.SpanContext] = []

    async def run(self, lb_id: str) -> None:
        self.current.append(trace.get_current_span().get_span_context())


def run_job(reconciler: RecordingReconciler, kwargs: dict) -> None:
    # What the worker gets: the arguments as stored (JSON in procrastinate_jobs.args).
    stored = json.loads(json.dumps(kwargs))
    app = build_worker_app("postgresql://127.0.0.1:1/unused", reconciler)  # type: ignore[arg-type]
    asyncio.run(app.tasks[RECONCILE_TASK].func(**stored))


def test_without_a_traced_call_the_arguments_are_as_before():
    assert reconcile_kwargs(LB) == {"loadbalancer_id": LB}
    assert _job(LB).task_kwargs == {"loadbalancer_id": LB}


def test_a_job_deferred_in_a_traced_call_carries_its_traceparent(spans):
    tracer = tracing._provider.get_tracer("test")
    with tracer.start_as_current_span("CreateLoadBalancer") as call:
        job = _job(LB, delay=5)
    context = call.get_span_context()
    carried = job.task_kwargs[TRACE_CONTEXT_ARG]
    flags = int(context.trace_flags)
    assert flags & trace.TraceFlags.SAMPLED
    assert carried["traceparent"] == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags:02x}"
    )
    assert job.task_kwargs["loadbalancer_id"] == LB


def test_the_pass_is_a_child_of_the_deferring_call(spans):
    tracer = tracing._provider.get_tracer("test")
    with tracer.start_as_current_span("CreateLoadBalancer") as call:
        kwargs = reconcile_kwargs(LB)
    reconciler = RecordingReconciler()
    run_job(reconciler, kwargs)

    (deferring, reconcile) = spans.get_finished_spans()
    assert reconcile.name == "reconcile"
    assert reconcile.parent is not None
    assert reconcile.parent.span_id == call.get_span_context().span_id
    assert reconcile.context.trace_id == call.get_span_context().trace_id
    assert reconcile.attributes["lbaas.loadbalancer_id"] == LB
    # The pass's own calls (renderer, agent) are made under the reconcile span.
    assert reconciler.current == [reconcile.context]


def test_tracestate_is_carried_through(spans):
    parent = trace.SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        trace_state=trace.TraceState([("vendor", "opaque")]),
    )
    with trace.use_span(trace.NonRecordingSpan(parent)):
        kwargs = reconcile_kwargs(LB)
    assert kwargs[TRACE_CONTEXT_ARG]["tracestate"] == "vendor=opaque"
    run_job(RecordingReconciler(), kwargs)
    (reconcile,) = spans.get_finished_spans()
    assert reconcile.parent.span_id == parent.span_id
    assert reconcile.context.trace_state.get("vendor") == "opaque"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"loadbalancer_id": LB},  # a job deferred before the argument existed
        {"loadbalancer_id": LB, TRACE_CONTEXT_ARG: None},
        {"loadbalancer_id": LB, TRACE_CONTEXT_ARG: {"traceparent": "not a traceparent"}},
        {"loadbalancer_id": LB, TRACE_CONTEXT_ARG: ["not", "a", "mapping"]},
    ],
)
def test_a_job_without_a_usable_context_still_runs_in_a_trace_of_its_own(spans, kwargs):
    reconciler = RecordingReconciler()
    # Not under whatever span happens to be current where the worker runs it.
    with tracing._provider.get_tracer("test").start_as_current_span("unrelated"):
        run_job(reconciler, kwargs)
    reconcile, _ = spans.get_finished_spans()
    assert reconcile.name == "reconcile"
    assert reconcile.parent is None
    assert reconciler.current == [reconcile.context]
