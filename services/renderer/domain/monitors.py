"""A pool's health monitor as every backend first reads it: a type Octavia knows, supported by
the backend, and enabled."""

from __future__ import annotations

from collections.abc import Callable, Collection

from lbaas.common.v1 import graph_pb2

from services.renderer.domain import filters

OCTAVIA_MONITOR_TYPES = frozenset(
    {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP"}
)


def enabled_monitor(
    pool: graph_pb2.Pool,
    pool_field: str,
    supported: Collection[str],
    unsupported: Callable[[str, str], Exception],
) -> tuple[graph_pb2.HealthMonitor, str, str] | None:
    """(monitor, type, field) of the pool's enabled monitor, None without one.

    A monitor of a type the backend does not support is refused even when disabled;
    `unsupported(feature, field)` makes the backend's error for it.
    """
    if not pool.HasField("healthmonitor"):
        return None
    hm = pool.healthmonitor
    field = f"{pool_field}.healthmonitor"
    kind = filters.one_of(hm.type, f"{field}.type", OCTAVIA_MONITOR_TYPES)
    if kind not in supported:
        raise unsupported(f"healthmonitor.type.{kind}", f"{field}.type")
    if not hm.meta.admin_state_up:
        return None
    return hm, kind, field
