"""handlers.batching.Batcher: requests that arrive while a batch runs go together in the next;
results and errors reach their own callers; at most `concurrency` batches run at once."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from services.orchestrator.handlers.batching import Batcher


class _Recorder:
    def __init__(self, fail_on: object = None):
        self.batches: list[list[int]] = []
        self.running = 0
        self.most_running = 0
        self.fail_on = fail_on
        self.release = asyncio.Event()

    async def run(self, items: list[int]) -> list[object]:
        self.batches.append(list(items))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.release.wait()
            if self.fail_on == "all":
                raise RuntimeError("batch failed")
            return [ValueError(i) if i == self.fail_on else i * 10 for i in items]
        finally:
            self.running -= 1


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_requests_arriving_while_a_batch_runs_go_together_in_the_next():
    async def scenario():
        rec = _Recorder()
        batcher = Batcher(rec.run, concurrency=1)
        first = asyncio.create_task(batcher.submit(0))
        await _settle()  # the first goes alone at once
        rest = [asyncio.create_task(batcher.submit(i)) for i in range(1, 6)]
        await _settle()
        rec.release.set()
        assert await first == 0
        assert await asyncio.gather(*rest) == [10, 20, 30, 40, 50]
        assert rec.batches == [[0], [1, 2, 3, 4, 5]]

    asyncio.run(scenario())


def test_an_item_error_reaches_only_its_caller_and_a_batch_error_every_caller():
    async def scenario():
        rec = _Recorder(fail_on=2)
        rec.release.set()
        batcher = Batcher(rec.run)
        results = await asyncio.gather(
            *(batcher.submit(i) for i in range(4)), return_exceptions=True
        )
        assert [r if isinstance(r, int) else type(r) for r in results] == [0, 10, ValueError, 30]

        failing = _Recorder(fail_on="all")
        failing.release.set()
        batcher = Batcher(failing.run)
        results = await asyncio.gather(
            *(batcher.submit(i) for i in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, RuntimeError) for r in results)

    asyncio.run(scenario())


def test_no_more_than_concurrency_batches_run_and_max_batch_bounds_a_batch():
    async def scenario():
        rec = _Recorder()
        batcher = Batcher(rec.run, concurrency=2, max_batch=3)
        tasks = [asyncio.create_task(batcher.submit(i)) for i in range(10)]
        await _settle()
        assert rec.running == 2
        rec.release.set()
        assert await asyncio.gather(*tasks) == [i * 10 for i in range(10)]
        assert rec.most_running == 2
        assert all(len(b) <= 3 for b in rec.batches)
        assert sorted(i for b in rec.batches for i in b) == list(range(10))

    asyncio.run(scenario())


def test_a_request_after_the_drainers_finished_is_served():
    async def scenario():
        rec = _Recorder()
        rec.release.set()
        batcher = Batcher(rec.run, concurrency=1)
        for i in range(3):  # each finds no drainer running and must start one
            assert await asyncio.wait_for(batcher.submit(i), 5) == i * 10
        assert rec.batches == [[0], [1], [2]]

    asyncio.run(scenario())


def test_a_caller_that_went_away_does_not_break_the_batch():
    async def scenario():
        rec = _Recorder()
        batcher = Batcher(rec.run, concurrency=1)
        blocker = asyncio.create_task(batcher.submit(0))
        await _settle()
        gone = asyncio.create_task(batcher.submit(1))
        stays = asyncio.create_task(batcher.submit(2))
        await _settle()
        gone.cancel()
        rec.release.set()
        assert await blocker == 0 and await stays == 20
        with pytest.raises(asyncio.CancelledError):
            await gone

    asyncio.run(scenario())


def test_a_lone_item_runs_in_its_callers_context_and_a_shared_batch_in_none():
    """What a batch does (a job it defers, with the trace context found in contextvars) is
    recorded under its caller only when the batch is that caller's alone."""
    caller = contextvars.ContextVar("caller", default=None)
    seen: list[tuple[list[int], object]] = []
    release = asyncio.Event()

    async def run(items: list[int]) -> list[object]:
        seen.append((list(items), caller.get()))
        await release.wait()
        return list(items)

    async def submit(batcher: Batcher, i: int) -> object:
        caller.set(f"call {i}")
        return await batcher.submit(i)

    async def scenario():
        batcher = Batcher(run, concurrency=1)
        first = asyncio.create_task(submit(batcher, 0))
        await _settle()
        rest = [asyncio.create_task(submit(batcher, i)) for i in (1, 2)]
        await _settle()
        release.set()
        await asyncio.gather(first, *rest)
        # Alone again, after the drainer served others: still its own caller's context.
        await submit(batcher, 3)

    asyncio.run(scenario())
    assert seen == [([0], "call 0"), ([1, 2], None), ([3], "call 3")]
