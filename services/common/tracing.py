"""OpenTelemetry tracing: one setup per process, W3C trace context through gRPC and jobs.

`setup_tracing(service)` is called once at the start of each process's main. It installs a
tracer provider that exports spans in batches (a background thread; flushed at exit). The
grpc.aio servers and channels made afterwards take `grpc_server_interceptors()` and
`grpc_client_interceptors()` (services/common/server.py, internal_tls.aio_channel, the agent's
server and the orchestrator's agent channels), so the W3C `traceparent` of the caller travels in
each call's metadata and every RPC is a span on both sides. The gateway also
passes its FastAPI app, whose requests become the root spans. Work handed over through the
reconcile job queue carries the same context in the job's arguments (`job_trace_context`,
`job_span`), so one tenant call is one trace from the gateway to the amphora agent.

Where spans go (read from the environment once, here):
  LBAAS_TRACE_EXPORTER   unset: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT or
                         OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, else `file`;
                         `otlp`, `file`, `console` (JSON lines on stdout) or `none` (off)
  LBAAS_TRACE_FILE       the file (one JSON object per span per line, appended); default
                         the caller's default_file, else $LBAAS_RUN_DIR/traces/<service>.jsonl
The standard OTEL_* variables apply as the SDK defines them (OTEL_TRACES_SAMPLER,
OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_*, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import grpc
import orjson
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

EXPORTERS = ("otlp", "file", "console", "none")
TRACER_NAME = "lbaas"
# gRPC services whose calls are not traced: probes and tooling, not tenant work.
_UNTRACED_SERVICES = ("grpc.health.v1.Health", "grpc.reflection.")
# The job argument carries exactly the W3C fields, whatever OTEL_PROPAGATORS says (baggage
# has no business in a job row).
_W3C = TraceContextTextMapPropagator()

_provider: Any = None  # the SDK TracerProvider once setup_tracing switched tracing on


def setup_tracing(
    service_name: str,
    *,
    default_file: Path | None = None,
    attributes: Mapping[str, str] | None = None,
    asgi_app: Any = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Switches tracing on for this process as the environment says; True when it is on.

    service_name becomes the resource's `service.name` (what tells the processes of one trace
    apart); attributes are added to the resource (e.g. service.instance.id). default_file
    replaces $LBAAS_RUN_DIR/traces/<service>.jsonl for a process without a run dir (the
    agent). asgi_app: a FastAPI app whose requests become server spans. Call it before any
    grpc.aio server or channel is made (they take their interceptors when made); a second call
    does nothing."""
    global _provider
    env = os.environ if environ is None else environ
    if _provider is not None:
        return True
    choice = exporter_choice(env)
    if choice == "none":
        return False
    try:
        exporter = _exporter(choice, service_name, default_file, env)
    except OSError as err:  # a trace file that cannot be written: the service runs untraced
        log.error("tracing off: %s", err)
        return False
    if exporter is None:
        return False

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # The SDK reads OTEL_TRACES_SAMPLER and OTEL_BSP_* itself; at exit it shuts the provider
    # down, which exports what is still queued.
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name, **(attributes or {})})
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider
    if asgi_app is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # No spans for each ASGI receive and send: three spans per request otherwise.
        FastAPIInstrumentor.instrument_app(
            asgi_app, tracer_provider=provider, exclude_spans=["receive", "send"]
        )
        _flush_after_lifespan(asgi_app, provider)
    log.info("tracing on: %s exporter, as %s", choice, service_name)
    return True


def _flush_after_lifespan(app: Any, provider: Any) -> None:
    """Exports the queued spans when the app's lifespan ends. uvicorn ends a process stopped by
    SIGTERM with that signal again, once the app is shut down, so the exit handler that
    flushes the other processes' spans never runs in the gateway."""
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        try:
            async with inner(a) as state:
                yield state
        finally:
            provider.force_flush()

    app.router.lifespan_context = lifespan


def exporter_choice(env: Mapping[str, str]) -> str:
    """`otlp`, `file`, `console` or `none` from LBAAS_TRACE_EXPORTER (unset: OTLP when an
    OTLP endpoint is configured, else file); ValueError for anything else."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "none"
    raw = env.get("LBAAS_TRACE_EXPORTER", "").strip().lower()
    if not raw:
        otlp = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return "otlp" if otlp else "file"
    if raw not in EXPORTERS:
        raise ValueError(f"LBAAS_TRACE_EXPORTER must be one of {', '.join(EXPORTERS)}: {raw!r}")
    return raw


def trace_file(service_name: str, default_file: Path | None, env: Mapping[str, str]) -> Path:
    """Where the file exporter writes: LBAAS_TRACE_FILE, else default_file, else
    $LBAAS_RUN_DIR/traces/<service>.jsonl."""
    if env.get("LBAAS_TRACE_FILE"):
        return Path(env["LBAAS_TRACE_FILE"])
    if default_file is not None:
        return default_file
    return Path(env.get("LBAAS_RUN_DIR", "./.run")).resolve() / "traces" / f"{service_name}.jsonl"


def _exporter(
    choice: str, service_name: str, default_file: Path | None, env: Mapping[str, str]
) -> Any:
    if choice == "console":
        return JsonLinesSpanExporter(sys.stdout)
    if choice == "file":
        return JsonLinesSpanExporter(trace_file(service_name, default_file, env))
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    ) or "grpc"
    if protocol.startswith("http"):
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.error(
                "tracing off: OTLP over %s needs opentelemetry-exporter-otlp-proto-http "
                "(installed: the gRPC exporter; set OTEL_EXPORTER_OTLP_PROTOCOL=grpc)",
                protocol,
            )
            return None
        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcOTLPSpanExporter,
    )

    return GrpcOTLPSpanExporter()  # endpoint, headers, TLS: the OTEL_EXPORTER_OTLP_* variables


def _tracer() -> trace.Tracer:
    """This process's tracer, made once per provider: the SDK's get_tracer builds and compares
    an instrumentation scope on every call (some 50 µs, more than the span it would start)."""
    return _tracer_of(_provider)


@functools.cache
def _tracer_of(provider: Any) -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME, tracer_provider=provider)


def _untraced(method: str) -> bool:
    return method.lstrip("/").startswith(_UNTRACED_SERVICES)


def _rpc_attributes(method: str) -> dict[str, str]:
    service, _, name = method.lstrip("/").rpartition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


def _end_with_code(span: Span, code: grpc.StatusCode | None, details: str | None) -> None:
    code = code or grpc.StatusCode.OK
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code is not grpc.StatusCode.OK:
        span.set_status(Status(StatusCode.ERROR, f"{code.name}: {details or ''}".rstrip(": ")))


class _ClientSpans(grpc.aio.UnaryUnaryClientInterceptor):
    """A CLIENT span per call, named by its method, whose W3C context goes in the call's
    metadata. (opentelemetry-instrumentation-grpc did this and the server side below at about
    0.2 ms a side per call, a tenth of a member change's whole path; these do the same work.)"""

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        method = client_call_details.method
        method = method.decode() if isinstance(method, bytes) else method
        if _untraced(method):
            return await continuation(client_call_details, request)
        with _tracer().start_as_current_span(
            method,
            kind=SpanKind.CLIENT,
            attributes=_rpc_attributes(method),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            carrier: dict[str, str] = {}
            _W3C.inject(carrier)
            metadata = [*(client_call_details.metadata or ()), *carrier.items()]
            call = await continuation(client_call_details._replace(metadata=metadata), request)
            try:
                await call
            except grpc.aio.AioRpcError as err:
                _end_with_code(span, err.code(), err.details())
                raise
            _end_with_code(span, grpc.StatusCode.OK, None)
            return call


class _ServerSpans(grpc.aio.ServerInterceptor):
    """A SERVER span per call of a unary method, child of the caller's context (the W3C fields
    of its metadata)."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or _untraced(method):
            return handler
        carrier = dict(handler_call_details.invocation_metadata or ())
        inner = handler.unary_unary

        async def traced(request, context):
            with _tracer().start_as_current_span(
                method,
                context=_W3C.extract(carrier),
                kind=SpanKind.SERVER,
                attributes=_rpc_attributes(method),
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                try:
                    answer = await inner(request, context)
                except BaseException:
                    _end_with_code(span, context.code() or grpc.StatusCode.UNKNOWN, None)
                    raise
                _end_with_code(span, context.code(), None)
                return answer

        return handler._replace(unary_unary=traced)


def grpc_server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """The interceptors that make a span of each call a server serves (none when tracing is
    off); outermost, so the span sees the code the caller gets."""
    return [_ServerSpans()] if _provider is not None else []


def grpc_client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """The interceptors that make a span of each call a channel makes and carry its trace
    context to the server (none when tracing is off)."""
    return [_ClientSpans()] if _provider is not None else []


# --- trace context through job arguments -------------------------------------------------------


def job_trace_context() -> dict[str, str] | None:
    """The W3C trace context (`traceparent`, and `tracestate` when there is one) of the span
    current here, for the arguments of a job deferred now; None when no span is being traced
    (tracing off), so the job's arguments stay as they were without tracing."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier or None


@contextlib.contextmanager
def job_span(
    name: str,
    carrier: Mapping[str, str] | None,
    attributes: Mapping[str, str] | None = None,
) -> Iterator[Span]:
    """A span for the handling of one job, child of the context the job carries (that of the
    call that deferred it); a trace of its own for a job without one (deferred before tracing,
    or by the sweep)."""
    # A carrier that is not a mapping of strings (a hand-written job) starts a trace of its own,
    # as no carrier does (an empty context: not under whatever span the worker may be in).
    parent = _W3C.extract(dict(carrier)) if isinstance(carrier, Mapping) and carrier else Context()
    with _tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


# --- the file and console exporter -------------------------------------------------------------


def span_record(span: Any) -> dict[str, Any]:
    """One finished SDK span as a flat JSON-ready dict: ids in hex as W3C writes them."""
    context = span.get_span_context()
    resource = dict(span.resource.attributes)
    record: dict[str, Any] = {
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": resource.get("service.name"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "resource": resource,
    }
    if span.status.description:
        record["status_description"] = span.status.description
    if span.events:
        record["events"] = [
            {"name": e.name, "time_ns": e.timestamp, "attributes": dict(e.attributes or {})}
            for e in span.events
        ]
    if span.links:
        record["links"] = [
            {
                "trace_id": format(link.context.trace_id, "032x"),
                "span_id": format(link.context.span_id, "016x"),
            }
            for link in span.links
        ]
    return record


class JsonLinesSpanExporter:
    """A SpanExporter that appends one JSON object per span per line to a file (or writes them
    to a stream). Each batch is one write to a file opened with O_APPEND, so the processes that
    share a file (replicas, agents) never interleave within a line."""

    def __init__(self, target: Path | IO[str]):
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._stream: IO[str] | None = None
        if isinstance(target, Path):
            target.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        else:
            self._stream = target

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        data = b"".join(
            orjson.dumps(span_record(s), default=str, option=orjson.OPT_APPEND_NEWLINE)
            for s in spans
        )
        try:
            with self._lock:
                if self._fd is not None:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(self._fd, view) :]
                elif self._stream is not None:
                    self._stream.write(data.decode())
                    self._stream.flush()
        except (OSError, ValueError) as err:
            log.warning("could not write %d spans: %s", len(spans), err)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._stream = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
