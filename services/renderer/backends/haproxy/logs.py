"""Log offload in haproxy.cfg: what the template renders for a LogPlan (domain/log_offload.py).

haproxy sends syslog itself. UDP: a `log <address>:<port>` line per target. TCP: a `ring`
section per kind whose `server` lines forward every message over TCP (haproxy >= 2.2), one per
line (LF framing), with haproxy reconnecting on its own; the `log` line names the ring. Admin
targets are `log` lines of `global` (the process's own messages) that every proxy takes in with
`log global`; tenant targets are `log` lines of `defaults`, and every listener's frontend gets
Octavia's access line as its `log-format`.

Measured with haproxy 2.6 (docs/operations.md, "Log offload"): on a reload the old worker logs
"Proxy <id> stopped" for each proxy, delivered over UDP; a ring's messages written by an old
worker after the reload began are not forwarded (its ring's TCP connections are closed at the
soft stop), so over TCP those lines, and access lines of requests that end on the old worker,
are lost.
"""

from __future__ import annotations

from typing import Any

from services.renderer.backends.haproxy import features as f
from services.renderer.domain.log_offload import TCP, Endpoint, LogPlan
from services.renderer.domain.versions import Version

ADMIN_RING = "lbaas-admin-log"
TENANT_RING = "lbaas-tenant-log"
# Longest line sent (haproxy's default of 1024 cuts long request lines); rsyslog takes 8 KiB.
MAX_LINE = 8192
# Bytes a ring holds for a target that is slow or away (about 4,000 access lines).
RING_SIZE = 1 << 20


def transform(plan: LogPlan | None, version: Version) -> dict[str, Any] | None:
    """None when haproxy has nothing to send (disabling local storage alone changes nothing
    here: haproxy writes no log file; its output is the agent's)."""
    if plan is None or not (plan.tenant or plan.admin):
        return None
    rings: list[dict[str, Any]] = []
    if plan.protocol == TCP:
        f.HAPROXY_FEATURES.require("log.ring", version)
        admin = _ring(ADMIN_RING, "admin", plan.admin, rings)
        tenant = _ring(TENANT_RING, "tenant", plan.tenant, rings)
    else:
        admin = [_endpoint(e) for e in plan.admin]
        tenant = [_endpoint(e) for e in plan.tenant]
    return {
        "hostname": plan.hostname,
        "project": plan.project,
        "max_line": MAX_LINE,
        "ring_size": RING_SIZE,
        "rings": rings,
        # Each a sink of a `log` line: {"ring": name} or {"address": ..., "port": ...}.
        "admin": admin,
        "tenant": tenant,
    }


def _endpoint(endpoint: Endpoint) -> dict[str, Any]:
    return {"ring": None, "address": endpoint.address, "port": endpoint.port}


def _ring(
    name: str, kind: str, endpoints: tuple[Endpoint, ...], rings: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if not endpoints:
        return []
    servers = [
        {"name": f"{kind}-{index}", **_endpoint(e)} for index, e in enumerate(endpoints, start=1)
    ]
    rings.append({"name": name, "servers": servers})
    return [{"ring": name, "address": None, "port": None}]
