"""The health tables in real PostgreSQL: batched writes, ordering, cumulative statistics."""

from __future__ import annotations

import asyncio

import pytest

from services.health.adapters.db.store import PostgresHealthStore
from services.health.domain.batch import beat_of
from tests.unit.health.builders import heartbeat

pytestmark = pytest.mark.timeout(60)


def _beat(amphora="amp-1", seq=1, boot="boot-a", sent_at=1_000_000.0, generation=0, **counters):
    hb = heartbeat(
        amphora_id=amphora, sequence=seq, boot_id=boot, sent_at=sent_at, listeners={"l1": "OPEN"}
    )
    hb.counters_generation = generation
    for key, value in counters.items():
        setattr(hb.listeners[0], key, value)
    return beat_of(hb)


async def _store(database_url: str) -> PostgresHealthStore:
    store = PostgresHealthStore(database_url)
    await store.upgrade()
    await store.open()
    return store


def test_a_batch_is_one_statement_and_rows_only_move_forward(database_url):
    async def scenario():
        store = await _store(database_url)
        try:
            result = await store.write([_beat("amp-1", 5), _beat("amp-2", 1)])
            assert (result.amphorae, result.listeners) == (2, 2)
            # The same heartbeat again (a second replica), and an older one: nothing moves.
            result = await store.write([_beat("amp-1", 5), _beat("amp-2", 0)])
            assert (result.amphorae, result.listeners) == (0, 0)
            # A new boot is newer only when it was sent later.
            assert (await store.write([_beat("amp-1", 1, boot="b", sent_at=999.0)])).amphorae == 0
            assert (await store.write([_beat("amp-1", 1, boot="b", sent_at=2e6)])).amphorae == 1
            row = await store.get("amp-1", stale_after=30)
            assert (row.last_sequence, row.boot_id, row.stale) == (1, "b", False)
            assert [a.amphora_id for a in await store.all(30)] == ["amp-1", "amp-2"]
            replay = {s.amphora_id: s for s in await store.replay_state()}
            assert (replay["amp-1"].boot_id, replay["amp-1"].sequence) == ("b", 1)
            assert replay["amp-1"].sent_at == pytest.approx(2e6)
        finally:
            await store.close()

    asyncio.run(scenario())


def test_counters_are_cumulative_across_reloads_restarts_and_failovers(database_url):
    async def scenario():
        store = await _store(database_url)
        try:
            await store.write([_beat(seq=1, bytes_in=100, total_connections=10)])
            await store.write([_beat(seq=2, bytes_in=150, total_connections=12)])
            # A haproxy reload: new workers count from zero.
            await store.write([_beat(seq=3, bytes_in=20, total_connections=1)])
            # The agent restarted (new boot): its engine counts from zero, even if it already
            # counted past the last value.
            await store.write([_beat(seq=1, boot="b2", sent_at=2e6, bytes_in=500)])
            totals = await store.listener_totals(["l1", "l9"], stale_after=30)
            assert totals["l1"].counters[1] == 150 + 20 + 500
            assert totals["l1"].counters[4] == 12 + 1
            assert "l9" not in totals
            # A failover: the replacement reports the listener from zero; the totals go on.
            await store.write(
                [_beat("amp-new", 1, bytes_in=7, total_connections=1, active_connections=3)]
            )
            totals = await store.listener_totals(["l1"], stale_after=30)
            assert totals["l1"].counters[1] == 670 + 7
            assert totals["l1"].amphorae == 2
            assert totals["l1"].counters[0] == 3
            # The old amphora forgotten: its counted traffic stays in the totals.
            await store.forget("amp-1")
            assert (await store.listener_totals(["l1"], 30))["l1"].counters[1] == 677
            assert await store.get("amp-1", 30) is None
            assert [lid for lid, _ in await store.amphora_totals("amp-new", 30)] == ["l1"]
        finally:
            await store.close()

    asyncio.run(scenario())


def test_silent_amphorae_are_stale_and_their_active_connections_do_not_count(database_url):
    async def scenario():
        store = await _store(database_url)
        try:
            await store.write([_beat("amp-1", 1, active_connections=4)])
            await asyncio.sleep(0.4)
            await store.write([_beat("amp-2", 1, active_connections=2)])
            fleet = await store.fleet(stale_after=0.3)
            assert (fleet.total, fleet.stale) == (2, ("amp-1",))
            totals = await store.listener_totals(["l1"], stale_after=0.3)
            assert totals["l1"].counters[0] == 2
            assert (await store.get("amp-1", 0.3)).stale
        finally:
            await store.close()

    asyncio.run(scenario())


def test_an_amphora_that_leaves_is_forgotten_in_the_same_statement(database_url):
    async def scenario():
        store = await _store(database_url)
        try:
            await store.write([_beat("amp-1", 1, bytes_in=10), _beat("amp-2", 1)])
            result = await store.write([_beat("amp-2", 2)], gone=["amp-1"])
            assert (result.amphorae, result.gone) == (1, 1)
            assert [r.amphora_id for r in await store.all(30)] == ["amp-2"]
            # Its traffic stays counted.
            assert (await store.listener_totals(["l1"], 30))["l1"].counters[1] == 10
            assert (await store.write([], gone=["nobody"])).gone == 0
        finally:
            await store.close()

    asyncio.run(scenario())


def test_a_new_engine_run_adds_its_counters_even_when_they_already_passed_the_old_ones(
    database_url,
):
    async def scenario():
        store = await _store(database_url)
        try:
            await store.write([_beat(seq=1, generation=101, total_connections=3)])
            # A reload: the new worker (another pid) served 5 before the next heartbeat; its
            # count is above the old worker's, which a down-going counter would not reveal.
            await store.write([_beat(seq=2, generation=202, total_connections=5)])
            await store.write([_beat(seq=3, generation=202, total_connections=7)])
            totals = await store.listener_totals(["l1"], stale_after=30)
            assert totals["l1"].counters[4] == 3 + 7
        finally:
            await store.close()

    asyncio.run(scenario())
