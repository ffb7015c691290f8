"""Pending heartbeats: the newest per amphora, leaving amphorae, and a failed batch put back."""

from __future__ import annotations

from services.health.domain.batch import PendingBeats
from tests.unit.health.builders import heartbeat


def _leaving(amphora_id: str, sequence: int):
    hb = heartbeat(amphora_id=amphora_id, sequence=sequence)
    hb.leaving = True
    return hb


def test_newest_wins_and_a_leaving_amphora_is_taken_as_gone():
    pending = PendingBeats()
    pending.add(heartbeat(amphora_id="a", sequence=1), b"a1")
    pending.add(heartbeat(amphora_id="a", sequence=2), b"a2")
    pending.add(heartbeat(amphora_id="b", sequence=1), b"b1")
    pending.add(_leaving("b", 2), b"b2")
    received, leaving, count = pending.take()
    assert [(hb.amphora_id, hb.sequence, p) for hb, p in received] == [("a", 2, b"a2")]
    assert (leaving, count) == (["b"], 4)
    assert len(pending) == 0 and pending.take() == ([], [], 0)


def test_an_amphora_heard_again_after_leaving_is_kept():
    pending = PendingBeats()
    pending.add(_leaving("a", 5), b"")
    pending.add(heartbeat(amphora_id="a", sequence=1, boot_id="new"), b"a1")
    received, leaving, _ = pending.take()
    assert [hb.amphora_id for hb, _ in received] == ["a"] and leaving == []


def test_a_failed_batch_is_put_back_unless_something_newer_came():
    pending = PendingBeats()
    pending.add(heartbeat(amphora_id="a", sequence=1), b"a1")
    pending.add(heartbeat(amphora_id="b", sequence=1), b"b1")
    pending.add(_leaving("c", 1), b"")
    received, leaving, count = pending.take()
    pending.add(heartbeat(amphora_id="a", sequence=2), b"a2")
    pending.add(_leaving("b", 2), b"")
    pending.put_back(received, leaving, count)
    received, leaving, count = pending.take()
    assert [(hb.amphora_id, hb.sequence) for hb, _ in received] == [("a", 2)]
    assert leaving == ["b", "c"] and count == 5
