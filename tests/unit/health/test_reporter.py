"""The reporter: dedupe, periodic resend, failing orchestrator, staleness, drift (in-memory
fakes)."""

from __future__ import annotations

import asyncio

from services.common.errors import NotFound, Unavailable
from services.health.domain.drops import DropRecorder
from services.health.domain.envelope import Rejected, RejectReason
from services.health.domain.ports import AmphoraView
from services.health.domain.reporter import StatusReporter
from services.health.domain.rollup import ERROR, ONLINE
from tests.unit.health.builders import heartbeat, listener, loadbalancer


class FakeOrchestrator:
    def __init__(self) -> None:
        self.lb_of = {"amp-1": "lb"}
        self.applied = {"amp-1": ""}
        self.graphs = {"lb": loadbalancer("lb")}
        self.calls: list[tuple[str, str, list]] = []
        self.graph_fetches = 0
        self.amphora_lookups = 0
        self.configured: list[str] = []
        self.fail_next_set = 0

    async def amphora(self, amphora_id):
        self.amphora_lookups += 1
        if amphora_id not in self.lb_of:
            raise NotFound("no such amphora")
        return AmphoraView(
            amphora_id, self.lb_of[amphora_id], self.applied.get(amphora_id, ""), "ALLOCATED"
        )

    async def get_loadbalancer(self, lb_id):
        self.graph_fetches += 1
        return self.graphs[lb_id]

    async def set_operating_statuses(self, lb_id, amphora_id, statuses):
        if self.fail_next_set:
            self.fail_next_set -= 1
            raise Unavailable("orchestrator down")
        self.calls.append((lb_id, amphora_id, list(statuses)))

    async def failover_amphora(self, amphora_id):
        return True

    async def configure_amphora(self, amphora_id):
        self.configured.append(amphora_id)
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _reporter(orch, clock=None):
    return StatusReporter(
        orch,
        graph_ttl=5,
        resend_interval=30,
        drift_after=1.0,
        clock=clock or Clock(),
    )


async def _settle(reporter: StatusReporter) -> None:
    for _ in range(50):
        await asyncio.sleep(0)
        if not reporter._workers:
            return
    raise AssertionError("reporter did not settle")


def test_unchanged_statuses_are_sent_once_then_resent_after_the_interval():
    async def scenario():
        orch, clock = FakeOrchestrator(), Clock()
        reporter = _reporter(orch, clock=clock)
        for seq in (1, 2, 3):
            reporter.submit(heartbeat(sequence=seq))
            await _settle(reporter)
        assert orch.calls == [("lb", "amp-1", [("lb", ONLINE)])]
        assert orch.graph_fetches == 1
        clock.now += 31
        reporter.submit(heartbeat(sequence=4))
        await _settle(reporter)
        assert len(orch.calls) == 2
        assert orch.graph_fetches == 2

    asyncio.run(scenario())


def test_orchestrator_failure_is_retried_on_the_next_heartbeat():
    async def scenario():
        orch = FakeOrchestrator()
        orch.fail_next_set = 1
        reporter = _reporter(orch)
        reporter.submit(heartbeat(sequence=1))
        await _settle(reporter)
        assert orch.calls == []
        reporter.submit(heartbeat(sequence=2))
        await _settle(reporter)
        assert orch.calls == [("lb", "amp-1", [("lb", ONLINE)])]

    asyncio.run(scenario())


def test_latest_heartbeat_wins_while_busy():
    async def scenario():
        orch = FakeOrchestrator()
        orch.graphs["lb"] = loadbalancer("lb", listeners=[listener("l1")])
        reporter = _reporter(orch)
        for seq in range(1, 5):
            reporter.submit(heartbeat(sequence=seq, listeners={"l1": "FULL"}))
        reporter.submit(heartbeat(sequence=5, listeners={"l1": "OPEN"}))
        await _settle(reporter)
        # A queue would report FULL then OPEN; only the latest heartbeat matters.
        assert orch.calls == [("lb", "amp-1", [("l1", ONLINE), ("lb", ONLINE)])]

    asyncio.run(scenario())


def test_unknown_amphora_is_ignored_without_crashing():
    async def scenario():
        orch = FakeOrchestrator()
        reporter = _reporter(orch)
        reporter.submit(heartbeat(amphora_id="ghost"))
        await _settle(reporter)
        assert orch.calls == []

    asyncio.run(scenario())


def test_stale_amphora_reports_its_lb_error_once_then_online_when_heard_again():
    async def scenario():
        orch, clock = FakeOrchestrator(), Clock()
        reporter = _reporter(orch, clock)
        reporter.submit(heartbeat())
        await _settle(reporter)
        assert orch.calls == [("lb", "amp-1", [("lb", ONLINE)])]
        await reporter.report_stale(["amp-1"])
        await reporter.report_stale(["amp-1"])
        assert orch.calls[-1] == ("lb", "amp-1", [("lb", ERROR)])
        assert len(orch.calls) == 2
        # Heard from again, with statuses that did not change: still looked at, since the
        # load balancer was reported ERROR meanwhile.
        await reporter.report_stale([])
        reporter.submit(heartbeat(sequence=2))
        await _settle(reporter)
        assert orch.calls[-1] == ("lb", "amp-1", [("lb", ONLINE)])

    asyncio.run(scenario())


def test_an_amphora_heard_again_before_its_row_is_written_is_not_reported_error():
    async def scenario():
        orch, clock = FakeOrchestrator(), Clock()
        reporter = _reporter(orch, clock)
        reporter.submit(heartbeat())
        await _settle(reporter)
        clock.now += 5
        await reporter.report_stale(["amp-1"], stale_after=1.5)
        assert orch.calls[-1] == ("lb", "amp-1", [("lb", ERROR)])
        # It speaks again; the database still says stale (the write is a moment behind).
        reporter.submit(heartbeat(sequence=2))
        await _settle(reporter)
        assert orch.calls[-1] == ("lb", "amp-1", [("lb", ONLINE)])
        await reporter.report_stale(["amp-1"], stale_after=1.5)
        assert orch.calls[-1] == ("lb", "amp-1", [("lb", ONLINE)]), "flipped back to ERROR"

    asyncio.run(scenario())


def test_stale_amphora_with_a_live_sibling_does_not_make_its_lb_error():
    async def scenario():
        orch, clock = FakeOrchestrator(), Clock()
        orch.lb_of["amp-2"] = "lb"  # the replacement (or the other half of a pair)
        reporter = _reporter(orch, clock)
        reporter.submit(heartbeat())
        reporter.submit(heartbeat(amphora_id="amp-2"))
        await _settle(reporter)
        before = list(orch.calls)
        await reporter.report_stale(["amp-1"])
        assert orch.calls == before

    asyncio.run(scenario())


def test_unchanged_heartbeats_are_not_looked_at():
    async def scenario():
        orch, clock = FakeOrchestrator(), Clock()
        reporter = _reporter(orch, clock)
        reporter.submit(heartbeat(sequence=1))
        await _settle(reporter)
        lookups = orch.amphora_lookups
        for seq in range(2, 50):
            reporter.submit(heartbeat(sequence=seq))
        assert not reporter._workers
        assert orch.amphora_lookups == lookups

    asyncio.run(scenario())


def test_drift_longer_than_an_interval_pushes_the_config_again_once():
    async def scenario():
        orch, clock = FakeOrchestrator(), Clock()
        orch.applied["amp-1"] = "want"
        reporter = _reporter(orch, clock)
        reporter.submit(heartbeat(sequence=1, config_hash="want"))
        await _settle(reporter)
        reporter.submit(heartbeat(sequence=2, config_hash="other"))
        await _settle(reporter)
        assert orch.configured == []  # not yet longer than one interval
        clock.now += 0.6
        reporter.submit(heartbeat(sequence=3, config_hash="other"))
        await _settle(reporter)
        assert orch.configured == []
        clock.now += 0.6
        reporter.submit(heartbeat(sequence=4, config_hash="other"))
        await _settle(reporter)
        assert orch.configured == ["amp-1"]
        clock.now += 1
        reporter.submit(heartbeat(sequence=5, config_hash="other"))
        await _settle(reporter)
        assert orch.configured == ["amp-1"], "not pushed again at once"
        # The recorded hash caught up (a pass applied it): no drift.
        orch.applied["amp-1"] = "other"
        clock.now += 20
        reporter.submit(heartbeat(sequence=6, config_hash="other"))
        await _settle(reporter)
        assert orch.configured == ["amp-1"]

    asyncio.run(scenario())


def test_drops_are_counted_per_reason_and_logged_rate_limited(caplog):
    recorder = DropRecorder(log_interval=10)
    for t in (0, 1, 2):
        recorder.record(Rejected(RejectReason.BAD_HMAC), "1.2.3.4:5", t)
    recorder.record(Rejected(RejectReason.REPLAY), "1.2.3.4:5", 3)
    recorder.record(Rejected(RejectReason.BAD_HMAC), "1.2.3.4:5", 11)
    assert recorder.counts.bad_hmac == 4 and recorder.counts.replay == 1
    assert recorder.counts.total() == 5
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 3
    assert "2 more bad_hmac drops not logged" in warnings[-1]
