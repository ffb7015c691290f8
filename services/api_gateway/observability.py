"""Per-request observability of the REST API: request ids, and request metrics by route.

RequestIds gives every request an id, `req-<uuid4>` as Octavia's (oslo.middleware's) request id,
returned in the `x-openstack-request-id` header and set in services.common.logs.request_id for
the request's log lines. ApiMetrics counts and times the requests by route template (the path
with its parameters as names, `/v2/lbaas/loadbalancers/{lb_id}`: one series per route, never
per object), method and status; `main` wraps the app in it only when the process serves metrics
(services/common/metrics.py). Both are plain ASGI: nothing is buffered, nothing is copied.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import logs
from services.common.metrics import FAST_BUCKETS

REQUEST_ID_HEADER = b"x-openstack-request-id"
# Requests answered before routing: no route matched, or the input guard refused them.
UNMATCHED = "(unmatched)"
# Any other method a client sends is counted as OTHER (a client picks it: no series per value).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

API_REQUESTS = Counter(
    "lbaas_api_requests_total",
    "REST requests the gateway answered, by route template, method and status code.",
    ["route", "method", "status"],
)
API_SECONDS = Histogram(
    "lbaas_api_request_duration_seconds",
    "Time from a REST request's arrival to the end of its response, by route and method.",
    ["route", "method"],
    buckets=FAST_BUCKETS,
)


class RequestIds:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = f"req-{uuid.uuid4()}"
        header = (REQUEST_ID_HEADER, rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = logs.request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


class ApiMetrics:
    """Outside the app: the time includes everything the gateway does with the request. The
    route is read from the scope after the app ran (Starlette's router records the route it
    matched there)."""

    def __init__(self, app: Any):
        self.app = app
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}
        self._templates: dict[tuple[str, str], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # the app raised before it answered

        async def send_recorded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recorded)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self._record(self._template(scope), method, status, time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """The matched route's template with the prefix it was included under (/v2 or /v2.0:
        the route itself knows only its own part). The prefix is the part of the path before
        where the route's pattern matches; only a prefix the router dispatched on gets here, so
        the templates are as few as the routes."""
        route = scope.get("route")
        own = getattr(route, "path", None)
        pattern = getattr(route, "path_regex", None)
        if not own or pattern is None:
            return UNMATCHED
        path = scope.get("path", "")
        if pattern.match(path):
            return own
        cut = path.find("/", 1)
        while cut != -1:
            if pattern.match(path[cut:]):
                key = (own, path[:cut])
                template = self._templates.get(key)
                if template is None:
                    template = self._templates[key] = path[:cut] + own
                return template
            cut = path.find("/", cut + 1)
        return own

    def _record(self, route: str, method: str, status: int, seconds: float) -> None:
        timer = self._timers.get((route, method))
        if timer is None:
            timer = self._timers[(route, method)] = API_SECONDS.labels(route, method)
        timer.observe(seconds)
        counter = self._counters.get((route, method, status))
        if counter is None:
            counter = API_REQUESTS.labels(route, method, str(status))
            self._counters[(route, method, status)] = counter
        counter.inc()
