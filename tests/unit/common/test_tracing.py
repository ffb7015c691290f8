"""services/common/tracing.py without a process: which exporter, which file, what a line holds."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.common import tracing


@pytest.mark.parametrize(
    ("env", "choice"),
    [
        ({}, "file"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "LBAAS_TRACE_EXPORTER": "file"}, "file"),
        ({"LBAAS_TRACE_EXPORTER": " Console "}, "console"),
        ({"LBAAS_TRACE_EXPORTER": "none"}, "none"),
        ({"OTEL_SDK_DISABLED": "true", "LBAAS_TRACE_EXPORTER": "file"}, "none"),
    ],
)
def test_exporter_choice(env, choice):
    assert tracing.exporter_choice(env) == choice


def test_an_unknown_exporter_is_refused():
    with pytest.raises(ValueError, match="LBAAS_TRACE_EXPORTER"):
        tracing.exporter_choice({"LBAAS_TRACE_EXPORTER": "jaeger"})


def test_trace_file_default_and_overrides():
    env = {"LBAAS_RUN_DIR": "/srv/lbaas"}
    assert tracing.trace_file("health", None, env) == Path("/srv/lbaas/traces/health.jsonl")
    agent_default = Path("/amp/traces.jsonl")
    assert tracing.trace_file("amphora-agent", agent_default, env) == agent_default
    env["LBAAS_TRACE_FILE"] = "/tmp/all.jsonl"
    assert tracing.trace_file("amphora-agent", agent_default, env) == Path("/tmp/all.jsonl")


def test_setup_with_tracing_off_changes_nothing():
    assert tracing.setup_tracing("x", environ={"LBAAS_TRACE_EXPORTER": "none"}) is False
    assert tracing._provider is None


def test_one_json_object_per_span_per_line():
    stream = io.StringIO()
    provider = TracerProvider(resource=Resource.create({"service.name": "orchestrator-api"}))
    provider.add_span_processor(SimpleSpanProcessor(tracing.JsonLinesSpanExporter(stream)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
        with tracer.start_as_current_span("child", attributes={"n": 1, "tags": ("a", "b")}) as c:
            c.add_event("retry", {"attempt": 2})
            c.set_status(Status(StatusCode.ERROR, "agent unreachable"))
    lines = stream.getvalue().splitlines()
    child, outer = (json.loads(line) for line in lines)
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    assert outer["trace_id"] == child["trace_id"] == trace_id
    assert outer["parent_span_id"] is None
    assert (
        child["parent_span_id"] == outer["span_id"] == f"{parent.get_span_context().span_id:016x}"
    )
    assert (outer["name"], outer["kind"], outer["service"]) == (
        "parent",
        "SERVER",
        "orchestrator-api",
    )
    assert child["attributes"] == {"n": 1, "tags": ["a", "b"]}
    assert child["events"][0]["name"] == "retry"
    assert (child["status"], child["status_description"]) == ("ERROR", "agent unreachable")
    assert child["start_ns"] <= child["end_ns"]


def test_a_trace_file_that_cannot_be_written_leaves_the_service_untraced(tmp_path, caplog):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    env = {"LBAAS_TRACE_EXPORTER": "file", "LBAAS_TRACE_FILE": str(not_a_dir / "x.jsonl")}
    assert tracing.setup_tracing("x", environ=env) is False
    assert tracing._provider is None
    assert "tracing off" in caplog.text
