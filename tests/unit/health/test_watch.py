"""The stale watch's tick: hold-offs run from when the gate decides (a read may wait for a
connection longer than a stale window), and silence is not reported while the gate holds off."""

from __future__ import annotations

import asyncio

from services.common.errors import NotFound, Unavailable
from services.health.domain.failover import BreakerPolicy, FailoverGate
from services.health.domain.ports import Fleet
from services.health.domain.watch import StaleWatch

WINDOW = 1.5


class Clock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class SlowStore:
    """A fleet read that takes `delay` seconds (a database restarting: the pool waits for a
    connection), then answers `fleet` or raises `error`."""

    def __init__(self, clock: Clock, fleet: Fleet, *, delay: float = 0.0, error=None):
        self.clock, self.answer, self.delay, self.error = clock, fleet, delay, error

    async def fleet(self, stale_after: float, suspect_after: float = 0.0) -> Fleet:
        self.clock.now += self.delay
        if self.error is not None:
            raise self.error
        return self.answer

    async def forget(self, amphora_id: str) -> None:
        return None


class Orchestrator:
    def __init__(self, known: set[str] | None = None) -> None:
        self.failovers: list[str] = []
        self.lookups: list[str] = []
        self.known = known

    async def failover_amphora(self, amphora_id: str) -> bool:
        self.failovers.append(amphora_id)
        return True

    async def amphora(self, amphora_id: str):
        self.lookups.append(amphora_id)
        if self.known is not None and amphora_id not in self.known:
            raise NotFound(amphora_id)
        return None


class ForgettingStore(SlowStore):
    def __init__(self, clock, fleet):
        super().__init__(clock, fleet)
        self.forgotten: list[str] = []

    async def forget(self, amphora_id: str) -> None:
        self.forgotten.append(amphora_id)


def _watch(clock, store, gate, orchestrator, **kw) -> StaleWatch:
    return StaleWatch(
        store, gate, orchestrator, stale_after=WINDOW, interval=0.25, clock=clock, **kw
    )


def test_heartbeats_waiting_before_a_slow_read_hold_off_from_the_decision():
    # Heartbeats have waited 5 s to be written (the database is coming back); the read then
    # waits 3 s for a connection and sees the one amphora stale, as it was before the outage.
    clock = Clock(100.0)
    gate = FailoverGate(BreakerPolicy(), WINDOW, now=0.0)  # the start's hold-off is over
    store = SlowStore(clock, Fleet(1, ("amp-1",)), delay=3.0)
    orchestrator = Orchestrator()
    watch = _watch(clock, store, gate, orchestrator, behind=lambda: 5.0)
    assert asyncio.run(watch.tick()) == []
    assert orchestrator.failovers == []
    assert "heartbeats wait 5.0s" in gate.status(clock.now).reason


def test_a_failed_read_holds_off_from_when_it_failed():
    clock = Clock(100.0)
    gate = FailoverGate(BreakerPolicy(), WINDOW, now=0.0)
    down = Unavailable("The health database is unavailable.", operator_detail="PoolTimeout")
    watch = _watch(clock, SlowStore(clock, Fleet(0, ()), delay=3.0, error=down), gate, None)
    assert asyncio.run(watch.tick()) == []
    assert clock.now == 103.0
    assert "the database is unavailable (PoolTimeout)" in gate.status(103.0).reason
    assert gate.status(103.0).hold_off_until == 103.0 + WINDOW


def test_silence_is_not_reported_while_the_gate_holds_off():
    clock = Clock(0.5)
    gate = FailoverGate(BreakerPolicy(), WINDOW, now=0.0)  # holds off until 1.5 (start)
    store = SlowStore(clock, Fleet(10, ("amp-1",)))
    reported: list[list[str]] = []

    async def on_stale(stale, stale_after) -> None:
        reported.append(list(stale))

    orchestrator = Orchestrator()
    watch = _watch(clock, store, gate, orchestrator, on_stale=on_stale)
    for _ in range(4):  # 0.5 to 1.25, a check every 0.25 s
        assert asyncio.run(watch.tick()) == []
        clock.now += 0.25
    assert reported == []
    assert asyncio.run(watch.tick()) == ["amp-1"]  # 1.5: the hold-off is over
    assert reported == [["amp-1"]] and orchestrator.failovers == ["amp-1"]


def test_stale_amphorae_kept_back_by_the_breaker_are_forgotten_once_gone():
    # Three load balancers deleted together by an old agent (no farewell heartbeat): their rows
    # would keep the breaker open for good.
    clock = Clock(100.0)
    gate = FailoverGate(BreakerPolicy(3, 20), WINDOW, now=0.0)
    gone = ("amp-1", "amp-2", "amp-3")
    store = ForgettingStore(clock, Fleet(4, gone, 3))
    orchestrator = Orchestrator(known={"amp-4"})
    forgotten: list[str] = []
    watch = _watch(clock, store, gate, orchestrator, on_forget=forgotten.append)
    assert asyncio.run(watch.tick()) == []
    assert gate.status(clock.now).breaker_open and orchestrator.failovers == []
    assert sorted(store.forgotten) == sorted(gone) == sorted(forgotten)
    # Not looked up again at every check.
    clock.now += 0.25
    asyncio.run(watch.tick())
    assert len(orchestrator.lookups) == 3
