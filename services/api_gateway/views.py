"""Contract messages -> Octavia v2 JSON: timestamps, statuses, statistics and status trees (each
resource's own view is built in its schema module, schemas/shape.view)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import status_pb2 as st
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

_EPOCH = dt.datetime(1970, 1, 1)
_SECOND = dt.timedelta(seconds=1)


def timestamp(ts: Timestamp) -> str | None:
    """Octavia's format (whole seconds, UTC, no zone); what ts.ToDatetime().strftime gives."""
    seconds = ts.seconds
    if seconds == 0 and ts.nanos == 0:
        return None
    return _iso_seconds(seconds)


# Lists render the same few created_at/updated_at values on every request.
@functools.lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    return (_EPOCH + seconds * _SECOND).isoformat(timespec="seconds")


_PROVISIONING = {
    value: ("" if value == 0 else name.removeprefix("PROVISIONING_STATUS_"))
    for name, value in st.ProvisioningStatus.items()
}
_OPERATING = {
    value: ("OFFLINE" if value == 0 else name.removeprefix("OPERATING_STATUS_"))
    for name, value in st.OperatingStatus.items()
}


def provisioning(value: int) -> str:
    try:
        return _PROVISIONING[value]
    except KeyError:
        st.ProvisioningStatus.Name(value)  # raises ValueError as before
        raise


def operating(value: int) -> str:
    try:
        return _OPERATING[value]
    except KeyError:
        st.OperatingStatus.Name(value)
        raise


STATS_FIELDS = (
    "active_connections",
    "bytes_in",
    "bytes_out",
    "request_errors",
    "total_connections",
)


def stats(entries: Any) -> dict[str, Any]:
    """Octavia's {"stats": {...}}: the counters of the given entries, summed."""
    total = dict.fromkeys(STATS_FIELDS, 0)
    for entry in entries:
        for field in STATS_FIELDS:
            total[field] += getattr(entry.stats, field)
    return {"stats": total}


def _status_node(node: pb.StatusNode, *extra: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": node.id,
        "name": node.name,
        "provisioning_status": provisioning(node.provisioning_status),
        "operating_status": operating(node.operating_status),
    }
    for key in extra:
        if key in node.attributes:
            value = node.attributes[key]
            out[key] = int(value) if key == "protocol_port" and value.isdigit() else value
    return out


def _pool_status(ps: pb.PoolStatus) -> dict[str, Any]:
    out = _status_node(ps.pool)
    # Octavia's PoolStatusResponse: "health_monitor", absent when the pool has none.
    if ps.healthmonitor.id:
        out["health_monitor"] = _status_node(ps.healthmonitor, "type")
    out["members"] = [_status_node(m, "address", "protocol_port") for m in ps.members]
    return out


def status_tree(tree: pb.StatusTree) -> dict[str, Any]:
    """Octavia's status tree: the load balancer node has exactly id, name, the two statuses and
    its listeners (clients count its keys); pools appear under the listeners that reach them."""
    lb = _status_node(tree.loadbalancer)
    lb["listeners"] = []
    for ls in tree.listeners:
        node = _status_node(ls.listener)
        node["pools"] = [_pool_status(p) for p in ls.pools]
        lb["listeners"].append(node)
    return {"statuses": {"loadbalancer": lb}}
