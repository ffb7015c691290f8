"""The failover gate: circuit breaker thresholds, hold-off after start, outages and the breaker."""

from __future__ import annotations

import pytest

from services.health.domain.failover import BreakerPolicy, FailoverGate

WINDOW = 1.5


def _ids(n: int) -> list[str]:
    return [f"amp-{i}" for i in range(n)]


@pytest.mark.parametrize(
    ("stale", "total", "trips"),
    [
        (0, 1000, False),
        (1, 1, False),  # one dead amphora is never a breaker condition (count 3)
        (2, 2, False),
        (3, 10, True),
        (3, 1000, False),  # 0.3 % of the fleet
        (300, 1000, True),
        (199, 1000, False),
        (200, 1000, True),
    ],
)
def test_breaker_needs_both_thresholds(stale, total, trips):
    assert BreakerPolicy(threshold_count=3, threshold_percent=20).trips(stale, total) is trips


def test_a_zero_percent_threshold_is_a_plain_count():
    policy = BreakerPolicy(threshold_count=10, threshold_percent=0)
    assert policy.trips(10, 100_000) and not policy.trips(9, 9)


def test_nothing_is_failed_over_for_a_window_after_start():
    gate = FailoverGate(BreakerPolicy(), WINDOW, now=100.0)
    assert gate.decide(100.0, ["amp-1"], 10) == []
    assert gate.decide(101.4, ["amp-1"], 10) == []
    assert "started" in gate.status(101.4).reason
    assert gate.decide(101.5, ["amp-1"], 10) == ["amp-1"]
    assert gate.status(101.5).reason == ""


def test_an_interruption_holds_off_for_a_full_window_from_its_end():
    gate = FailoverGate(BreakerPolicy(), WINDOW, now=0.0)
    assert gate.decide(10.0, ["amp-1"], 10) == ["amp-1"]
    gate.interrupt(10.0, "the database is unavailable")
    gate.interrupt(20.0, "the database is unavailable")  # still down 10 s later
    assert gate.decide(21.0, ["amp-1"], 10) == []
    assert "database" in gate.status(21.0).reason
    assert gate.decide(21.5, ["amp-1"], 10) == ["amp-1"]


def test_the_breaker_opens_stops_everything_and_closes_with_a_hold_off():
    gate = FailoverGate(BreakerPolicy(3, 20), WINDOW, now=0.0)
    assert gate.decide(10.0, _ids(300), 1000) == []
    state = gate.status(10.0)
    assert state.breaker_open and (state.stale, state.total) == (300, 1000)
    assert state.breaker_opened_at == 10.0 and "breaker open" in state.reason
    assert gate.decide(15.0, _ids(2), 1000) == []  # closed, holding off
    state = gate.status(15.0)
    assert not state.breaker_open and state.hold_off_until == 15.0 + WINDOW
    # The two still silent after the hold-off are dead: failed over.
    assert gate.decide(16.5, _ids(2), 1000) == _ids(2)


def test_amphorae_silenced_together_reach_the_breaker_before_any_is_failed_over():
    # 300 of 1000 amphorae fall silent at once. Their last heartbeats were spread over one
    # interval, so they cross the stale window over successive checks (15% at the first one),
    # but by then all of them are past the suspect window: the breaker counts those.
    gate = FailoverGate(BreakerPolicy(3, 20), WINDOW, now=0.0, confirm_after=0.25)
    assert gate.decide(10.0, _ids(150), 1000, suspect=300) == []
    assert gate.status(10.0).breaker_open
    assert "300 of 1000 amphorae are silent" in gate.status(10.0).reason
    assert gate.status(10.0).stale == 150
    assert gate.decide(10.25, _ids(300), 1000, suspect=300) == []
    # Counting only the stale ones, the first check would have failed 150 over.
    counting_stale = FailoverGate(BreakerPolicy(3, 20), WINDOW, now=0.0)
    assert len(counting_stale.decide(10.0, _ids(150), 1000)) == 150


def test_a_dead_amphora_is_failed_over_once_it_stayed_stale_for_the_confirmation():
    gate = FailoverGate(BreakerPolicy(3, 20), WINDOW, now=0.0, confirm_after=0.25)
    assert gate.decide(10.0, ["amp-1"], 1000, suspect=1) == []
    assert gate.status(10.0).reason == ""  # nothing is held back: it is being confirmed
    assert gate.decide(10.25, ["amp-1", "amp-2"], 1000, suspect=2) == ["amp-1"]
    assert gate.decide(10.5, ["amp-1", "amp-2"], 1000, suspect=2) == ["amp-1", "amp-2"]
    # Heard from again, then silent again: its confirmation starts over.
    assert gate.decide(10.75, ["amp-2"], 1000, suspect=1) == ["amp-2"]
    assert gate.decide(11.0, ["amp-1", "amp-2"], 1000, suspect=2) == ["amp-2"]
    assert gate.decide(11.25, ["amp-1", "amp-2"], 1000, suspect=2) == ["amp-1", "amp-2"]


def test_the_suspect_window_and_confirmation_follow_the_stale_window_and_interval():
    from services.health.config import Settings

    # Defaults: 0.5 s interval, 1.5 s window, 0.25 s checks.
    assert Settings().suspect_after == pytest.approx(0.75)
    assert Settings().failover_confirm == pytest.approx(0.25)
    # A suspect window is always longer than an interval, never longer than the stale window.
    assert Settings(heartbeat_interval=1.0, stale_after=1.5).suspect_after == pytest.approx(1.2)
    assert Settings(heartbeat_interval=10.0, stale_after=60.0).suspect_after == pytest.approx(30)
