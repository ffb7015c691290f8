"""services/common/logs.py: the text and JSON formats, without a process."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider

from services.common import logs


def _record(msg: str = "hello %s", args: tuple = ("world",), **extra) -> logging.LogRecord:
    record = logging.LogRecord("lbaas.test", logging.WARNING, __file__, 1, msg, args, None)
    for key, val in extra.items():
        setattr(record, key, val)
    return record


def test_a_json_line_has_the_fields_operations_md_lists():
    line = logs.JsonFormatter("health").format(_record())
    assert "\n" not in line
    record = json.loads(line)
    assert record == {
        "timestamp": record["timestamp"],
        "level": "WARNING",
        "service": "health",
        "logger": "lbaas.test",
        "message": "hello world",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])


def test_request_id_trace_ids_static_and_extra_fields():
    formatter = logs.JsonFormatter("amphora-agent", {"amphora_id": "amp-1"})
    tracer = TracerProvider().get_tracer("test")
    token = logs.request_id.set("req-1234")
    try:
        with tracer.start_as_current_span("op") as span:
            line = formatter.format(_record(listener="l-1", color_message="\x1b[1mx"))
        context = span.get_span_context()
    finally:
        logs.request_id.reset(token)
    record = json.loads(line)
    assert record["request_id"] == "req-1234"
    assert record["trace_id"] == format(context.trace_id, "032x")
    assert record["span_id"] == format(context.span_id, "016x")
    assert record["amphora_id"] == "amp-1"
    assert record["listener"] == "l-1"  # an extra= field
    assert "color_message" not in record  # uvicorn's coloured copy of the message
    # Outside a request and a span: neither field.
    assert {"request_id", "trace_id"}.isdisjoint(json.loads(formatter.format(_record())))


def test_a_traceback_and_a_multiline_message_stay_on_one_line():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "a\nb", (), None)
        record.exc_info = sys.exc_info()
    line = logs.JsonFormatter("orchestrator-worker").format(record)
    assert len(line.splitlines()) == 1
    parsed = json.loads(line)
    assert parsed["message"] == "a\nb"
    assert "RuntimeError: boom" in parsed["exception"]


def test_values_json_cannot_hold_are_written_as_text():
    line = logs.JsonFormatter("x").format(_record(big=2**80, obj=object(), keyed={1: "a"}))
    record = json.loads(line)
    assert record["big"] == str(2**80)
    assert record["obj"].startswith("<object object")


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def _emit(root: logging.Logger) -> str:
    stream = io.StringIO()
    root.handlers[0].setStream(stream)
    logging.getLogger("lbaas.test").info("started on port %d", 9)
    return stream.getvalue()


def test_configure_json(root_logger):
    logs.configure("renderer-nginx", env={"LBAAS_LOG_FORMAT": "JSON", "LBAAS_LOG_LEVEL": "info"})
    assert len(root_logger.handlers) == 1
    record = json.loads(_emit(root_logger))
    assert (record["service"], record["message"]) == ("renderer-nginx", "started on port 9")


def test_configure_text_is_the_default(root_logger):
    logs.configure("health", env={})
    line = _emit(root_logger)
    assert re.fullmatch(r"\S+ \S+ health INFO lbaas.test: started on port 9\n", line)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="LBAAS_LOG_FORMAT"):
        logs.log_format({"LBAAS_LOG_FORMAT": "logfmt"})
