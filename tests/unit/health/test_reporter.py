"""The reporter: dedupe, periodic resend, failing orchestrator, staleness (in-memory fakes)."""

from __future__ import annotations

import asyncio

from services.common.errors import NotFound, Unavailable
from services.health.domain.drops import DropRecorder
from services.health.domain.envelope import Rejected, RejectReason
from services.health.domain.registry import HealthRegistry
from services.health.domain.reporter import StatusReporter
from services.health.domain.rollup import ERROR, ONLINE
from tests.unit.health.builders import heartbeat, listener, loadbalancer


class FakeOrchestrator:
    def __init__(self) -> None:
        self.lb_of = {"amp-1": "lb"}
        self.graphs = {"lb": loadbalancer("lb")}
        self.calls: list[tuple[str, str, list]] = []
        self.graph_fetches = 0
        self.fail_next_set = 0

    async def loadbalancer_of_amphora(self, amphora_id):
        if amphora_id not in self.lb_of:
            raise NotFound("no such amphora")
        return self.lb_of[amphora_id]

    async def get_loadbalancer(self, lb_id):
        self.graph_fetches += 1
        return self.graphs[lb_id]

    async def set_operating_statuses(self, lb_id, amphora_id, statuses):
        if self.fail_next_set:
            self.fail_next_set -= 1
            raise Unavailable("orchestrator down")
        self.calls.append((lb_id, amphora_id, list(statuses)))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _reporter(orch, registry=None, clock=None):
    return StatusReporter(
        orch,
        registry or HealthRegistry(),
        stale_after=10,
        graph_ttl=5,
        resend_interval=30,
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


def test_silent_amphora_goes_stale_and_its_lb_error_once():
    async def scenario():
        orch, clock, registry = FakeOrchestrator(), Clock(), HealthRegistry()
        reporter = _reporter(orch, registry, clock)
        hb = heartbeat()
        registry.record(hb, wall=1.0, monotonic=clock.now)
        reporter.submit(hb)
        await _settle(reporter)
        clock.now += 9
        await reporter.check_stale()
        assert not registry.get("amp-1").stale
        clock.now += 2
        await reporter.check_stale()
        await reporter.check_stale()
        assert registry.get("amp-1").stale
        assert orch.calls[-1] == ("lb", "amp-1", [("lb", ERROR)])
        assert len(orch.calls) == 2
        # Heard from again: fresh, and the lb is reported ONLINE again.
        hb2 = heartbeat(sequence=2)
        registry.record(hb2, wall=2.0, monotonic=clock.now)
        reporter.submit(hb2)
        await _settle(reporter)
        assert not registry.get("amp-1").stale
        assert orch.calls[-1] == ("lb", "amp-1", [("lb", ONLINE)])

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
