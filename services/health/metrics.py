"""The health service's metrics: heartbeats, their drops and lag, the stale watch and failovers.

The heartbeat path runs tens of thousands of times a second, so it counts in plain integers, as
it always did (HeartbeatIntake.accepted, DropRecorder.counts, BatchWriter.counts, StaleWatch's
requested and claimed); HealthCollector reads them when Prometheus scrapes. Only the lag is a
histogram, observed once per written batch. Meanings: docs/operations.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.health.domain.drops import DropCounts
from services.health.domain.envelope import RejectReason
from services.health.domain.failover import FailoverGate
from services.health.domain.intake import HeartbeatIntake
from services.health.domain.watch import StaleWatch
from services.health.domain.writer import BatchWriter


class Counted(Protocol):
    """What the collector reads of a running health service (bootstrap.HealthApp)."""

    intake: HeartbeatIntake
    writer: BatchWriter
    gate: FailoverGate
    watch: StaleWatch

    @property
    def drops(self) -> DropCounts: ...


HEARTBEAT_LAG = Histogram(
    "lbaas_health_heartbeat_write_lag_seconds",
    "For each batch of heartbeats written to the database: how long its oldest heartbeat "
    "waited, from its arrival to the commit.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def heartbeats_written(count: int, lag: float) -> None:
    """BatchWriter's on_written."""
    HEARTBEAT_LAG.observe(lag)


class HealthCollector(Collector):
    """Reads a running health service's counters at scrape time (from the metrics server's
    thread: each value is one attribute read, consistent enough for counters)."""

    def __init__(self, app: Counted):
        self._app = app

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        app = self._app
        drops = app.drops
        dropped = {reason.value: getattr(drops, reason.value) for reason in RejectReason}
        accepted = app.intake.accepted
        yield _counter(
            "lbaas_health_heartbeats_received",
            "Heartbeat datagrams received (accepted and dropped).",
            accepted + sum(dropped.values()),
        )
        yield _counter(
            "lbaas_health_heartbeats_accepted", "Heartbeats that passed every check.", accepted
        )
        family = CounterMetricFamily(
            "lbaas_health_heartbeats_dropped",
            "Heartbeat datagrams dropped, by reason (unparseable, bad_version, unknown_key, "
            "bad_hmac, master_key, replay, out_of_window).",
            labels=["reason"],
        )
        for reason, n in dropped.items():
            family.add_metric([reason], n)
        yield family
        yield _counter(
            "lbaas_health_heartbeats_master_key_accepted",
            "Heartbeats accepted although signed with a master key "
            "(LBAAS_HEALTH_ACCEPT_MASTER_KEY only).",
            app.intake.master_signed,
        )
        counts = app.writer.counts
        yield _counter(
            "lbaas_health_heartbeats_written",
            "Accepted heartbeats covered by a committed batch (the newest per amphora is the "
            "row written).",
            counts.heartbeats,
        )
        yield _counter(
            "lbaas_health_heartbeat_batches", "Batches of heartbeats committed.", counts.batches
        )
        yield _counter(
            "lbaas_health_heartbeat_write_failures",
            "Batch writes that failed (kept and retried, or dropped when they never can be).",
            counts.failures,
        )
        yield _gauge(
            "lbaas_health_heartbeats_waiting_seconds",
            "Seconds since the last successful batch while heartbeats wait to be written (0 "
            "when none wait).",
            app.writer.behind,
        )
        fleet = app.watch.last_fleet
        yield _gauge(
            "lbaas_health_amphorae", "Amphorae with a health row, at the last check.", fleet.total
        )
        yield _gauge(
            "lbaas_health_stale_amphorae",
            "Amphorae silent for longer than the stale window, at the last check.",
            len(fleet.stale),
        )
        yield _gauge(
            "lbaas_health_suspect_amphorae",
            "Amphorae silent for longer than the suspect window (half the stale window), at "
            "the last check: what the circuit breaker counts.",
            fleet.suspect,
        )
        status = app.gate.status(time.monotonic())
        yield _gauge(
            "lbaas_health_failover_breaker_open",
            "1 while the failover circuit breaker is open (too many amphorae silent at once: "
            "none is failed over).",
            1 if status.breaker_open else 0,
        )
        yield _gauge(
            "lbaas_health_failover_holding_off",
            "1 while automatic failovers wait out a hold-off (after a start, a database outage, "
            "a stall or the breaker closing).",
            1 if not status.breaker_open and status.reason else 0,
        )
        yield _counter(
            "lbaas_health_failovers_requested",
            "Failovers of stale amphorae this replica asked the orchestrator for (asked again "
            "every 2 s while an amphora stays stale).",
            app.watch.requested,
        )
        yield _counter(
            "lbaas_health_failovers_claimed",
            "Failovers the orchestrator started on this replica's request (one per amphora "
            "however many replicas ask).",
            app.watch.claimed,
        )


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
