"""The writer tells how long a batch's oldest heartbeat waited, across a failed write too."""

from __future__ import annotations

import asyncio
import time

import pytest

from services.common.errors import Unavailable
from services.health.domain.batch import PendingBeats
from services.health.domain.writer import BatchWriter
from tests.unit.health.builders import heartbeat


class Store:
    def __init__(self) -> None:
        self.fail = False
        self.batches: list[int] = []

    async def write(self, beats, gone=()) -> None:
        if self.fail:
            raise Unavailable("database down")
        self.batches.append(len(beats))


def test_lag_runs_from_the_oldest_arrival_to_the_commit():
    pending, store, told = PendingBeats(), Store(), []
    writer = BatchWriter(pending, store, on_written=lambda n, lag: told.append((n, lag)))

    async def scenario() -> None:
        pending.add(heartbeat(amphora_id="a", sequence=1), b"a1")
        time.sleep(0.05)
        store.fail = True
        with pytest.raises(Unavailable):
            await writer.flush()  # kept for the next write, with its arrival time
        pending.add(heartbeat(amphora_id="b", sequence=1), b"b1")
        store.fail = False
        await writer.flush()
        pending.add(heartbeat(amphora_id="a", sequence=2), b"a2")
        await writer.flush()

    asyncio.run(scenario())
    assert store.batches == [2, 1]
    assert [n for n, _ in told] == [2, 1]
    assert told[0][1] >= 0.05  # a's wait, from before the failed write
    assert 0 <= told[1][1] < told[0][1]
