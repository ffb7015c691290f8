"""Replay rejection by (boot_id, sequence) and by the sent_at window."""

from __future__ import annotations

import pytest
from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.envelope import Rejected, RejectReason
from services.health.domain.replay import ReplayGuard
from tests.unit.health.builders import heartbeat

NOW = 1_000_000.0


def _rejects(guard: ReplayGuard, hb: heartbeat_pb2.Heartbeat, now: float = NOW) -> RejectReason:
    with pytest.raises(Rejected) as caught:
        guard.admit(hb, now)
    return caught.value.reason


def test_increasing_sequence_is_accepted():
    guard = ReplayGuard(30)
    for seq in (1, 2, 5):
        guard.admit(heartbeat(sequence=seq, sent_at=NOW), NOW)


def test_same_or_older_sequence_is_a_replay():
    guard = ReplayGuard(30)
    guard.admit(heartbeat(sequence=5), NOW)
    assert _rejects(guard, heartbeat(sequence=5)) is RejectReason.REPLAY
    assert _rejects(guard, heartbeat(sequence=4)) is RejectReason.REPLAY
    guard.admit(heartbeat(sequence=6), NOW)


def test_a_rejected_heartbeat_does_not_move_the_sequence():
    guard = ReplayGuard(30)
    guard.admit(heartbeat(sequence=5), NOW)
    _rejects(guard, heartbeat(sequence=9, sent_at=NOW - 100))
    guard.admit(heartbeat(sequence=6), NOW)


def test_sequences_are_per_amphora():
    guard = ReplayGuard(30)
    guard.admit(heartbeat(amphora_id="a", sequence=5), NOW)
    guard.admit(heartbeat(amphora_id="b", sequence=1), NOW)


def test_new_boot_resets_the_sequence_and_old_boot_is_retired():
    guard = ReplayGuard(30)
    guard.admit(heartbeat(boot_id="a", sequence=100, sent_at=NOW), NOW)
    guard.admit(heartbeat(boot_id="b", sequence=1, sent_at=NOW + 1), NOW + 1)
    assert _rejects(guard, heartbeat(boot_id="a", sequence=101, sent_at=NOW + 1), NOW + 2) is (
        RejectReason.REPLAY
    )


def test_new_boot_older_than_the_last_heartbeat_is_a_replay():
    guard = ReplayGuard(30)
    guard.admit(heartbeat(boot_id="b", sequence=1, sent_at=NOW), NOW)
    assert _rejects(guard, heartbeat(boot_id="x", sequence=1, sent_at=NOW - 5)) is (
        RejectReason.REPLAY
    )


@pytest.mark.parametrize("offset", [-31, 31])
def test_sent_at_outside_the_window_is_rejected(offset):
    guard = ReplayGuard(30)
    assert _rejects(guard, heartbeat(sent_at=NOW + offset)) is RejectReason.OUT_OF_WINDOW


def test_missing_sent_at_is_rejected():
    hb = heartbeat()
    hb.ClearField("sent_at")
    assert _rejects(ReplayGuard(30), hb) is RejectReason.OUT_OF_WINDOW


def test_forget_starts_over():
    guard = ReplayGuard(30)
    guard.admit(heartbeat(sequence=5), NOW)
    guard.forget("amp-1")
    guard.admit(heartbeat(sequence=1), NOW)
