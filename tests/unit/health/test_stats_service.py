"""GetListenerStats / GetAmphoraStats: the counters of each amphora's last heartbeat; zeros for a
listener never reported and an empty list for an amphora never heard from (noop compute driver),
never an error."""

from __future__ import annotations

import asyncio

from lbaas.health.v1 import health_service_pb2 as pb
from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.registry import HealthRegistry
from services.health.handlers.health_service import HealthServicer
from tests.unit.health.builders import heartbeat


def _with_counters(hb: heartbeat_pb2.Heartbeat, **counters: int) -> heartbeat_pb2.Heartbeat:
    for report in hb.listeners:
        for key, value in counters.items():
            setattr(report, key, value)
    return hb


def test_never_heard_from_is_zeros_and_empty() -> None:
    servicer = HealthServicer(HealthRegistry())
    resp = asyncio.run(
        servicer.GetListenerStats(pb.GetListenerStatsRequest(listener_ids=["l1", "l2"]), None)
    )
    assert [e.listener_id for e in resp.listeners] == ["l1", "l2"]
    assert all(e.stats.total_connections == 0 and e.stats.bytes_in == 0 for e in resp.listeners)
    amp = asyncio.run(servicer.GetAmphoraStats(pb.GetAmphoraStatsRequest(amphora_id="amp-x"), None))
    assert list(amp.listeners) == []


def test_reported_counters_are_returned_and_summed() -> None:
    registry = HealthRegistry()
    for amp in ("amp-1", "amp-2"):
        hb = _with_counters(
            heartbeat(amphora_id=amp, listeners={"l1": "OPEN"}),
            total_connections=5,
            bytes_in=100,
            active_connections=1,
        )
        registry.record(hb, wall=1.0, monotonic=1.0)
    servicer = HealthServicer(registry)
    resp = asyncio.run(
        servicer.GetListenerStats(pb.GetListenerStatsRequest(listener_ids=["l1", "l9"]), None)
    )
    l1, l9 = resp.listeners
    assert (l1.stats.total_connections, l1.stats.bytes_in, l1.stats.active_connections) == (
        10,
        200,
        2,
    )
    assert l9.listener_id == "l9" and l9.stats.total_connections == 0
    amp = asyncio.run(servicer.GetAmphoraStats(pb.GetAmphoraStatsRequest(amphora_id="amp-1"), None))
    assert [(e.listener_id, e.amphora_id, e.stats.bytes_in) for e in amp.listeners] == [
        ("l1", "amp-1", 100)
    ]
