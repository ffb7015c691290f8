"""Logging setup shared by every controller service (and the amphora agent).

LBAAS_LOG_FORMAT: `text` (the default, as `make run` shows it) or `json`: one JSON object per
line with timestamp, level, service, logger and message, the gateway's request id and the
OpenTelemetry trace and span ids where there are some, static fields the process adds (the
agent's amphora id), a record's `extra` fields and the exception's traceback. The fields are
described in docs/operations.md ("Logs").
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import orjson
from opentelemetry import trace

FORMATS = ("text", "json")

# The request id of the REST request being handled (the gateway sets it for each request).
request_id: ContextVar[str | None] = ContextVar("lbaas_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` (but uvicorn's
# color_message, the message again with terminal colours).
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()
    | {"message", "asctime", "taskName", "color_message"}
)


def log_format(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    value = env.get("LBAAS_LOG_FORMAT", "").strip().lower() or "text"
    if value not in FORMATS:
        raise ValueError(f"LBAAS_LOG_FORMAT must be one of {', '.join(FORMATS)}: {value!r}")
    return value


def configure(
    service: str,
    *,
    fields: Mapping[str, str] | None = None,
    text_format: str | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Sets up the root logger on stderr for `service`, at LBAAS_LOG_LEVEL, in LBAAS_LOG_FORMAT.
    fields: static fields of every JSON line (e.g. amphora_id); text_format: the text format,
    default `<time> <service> <level> <logger>: <message>`."""
    env = os.environ if env is None else env
    level = env.get("LBAAS_LOG_LEVEL", "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    if log_format(env) == "json":
        handler.setFormatter(JsonFormatter(service, fields))
        # Python's warnings become log records, hence JSON lines too.
        logging.captureWarnings(True)
    else:
        handler.setFormatter(
            logging.Formatter(
                text_format or f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"
            )
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("grpc").setLevel(logging.WARNING)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a message's newlines are escaped)."""

    def __init__(self, service: str, fields: Mapping[str, str] | None = None):
        super().__init__()
        self._service = service
        self._fields = dict(fields or {})

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            out["request_id"] = rid
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            out["trace_id"] = format(context.trace_id, "032x")
            out["span_id"] = format(context.span_id, "016x")
        if self._fields:
            out.update(self._fields)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        try:
            return orjson.dumps(out, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # e.g. an integer beyond 64 bits in an extra field
            return orjson.dumps({k: str(v) for k, v in out.items()}).decode()


def _timestamp(created: float) -> str:
    """RFC 3339 in UTC with milliseconds: 2025-01-31T12:00:00.123Z."""
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{millis:03d}Z"
