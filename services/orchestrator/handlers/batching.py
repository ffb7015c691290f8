"""Batching of requests that arrive together: while one batch is being written, the requests
that come in wait and are written together in the next (natural batching: a request that finds
nothing in flight goes at once, alone, so a quiet system adds no latency)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """run(items) answers a batch with one result per item, in order: a value, or the exception
    that item's caller gets. At most `concurrency` batches run at a time (so one batch's Python
    work overlaps another's wait on the database), each of at most max_batch items.

    A batch of one runs in its caller's context (contextvars: the caller's trace span, so the
    job it defers carries that call's trace context); a batch of several in a context of its
    own, so that nothing done for one caller is recorded under another's."""

    def __init__(
        self,
        run: Callable[[list[Item]], Awaitable[list[Result | BaseException]]],
        *,
        concurrency: int = 2,
        max_batch: int = 64,
    ):
        self._run = run
        self._concurrency = concurrency
        self._max = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result], contextvars.Context]] = []
        # Running drainers; a set, so that their tasks are referenced until they end.
        self._drainers: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, future, contextvars.copy_context()))
        if len(self._drainers) < self._concurrency:
            # Not in this caller's context: the drainer goes on to serve other callers.
            drainer = loop.create_task(self._drain(), context=contextvars.Context())
            self._drainers.add(drainer)
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result], contextvars.Context]] = []
        me = asyncio.current_task()
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
                try:
                    run: Awaitable[list[Result | BaseException]] = self._run(
                        [item for item, _, _ in batch]
                    )
                    if len(batch) == 1:
                        run = asyncio.get_running_loop().create_task(run, context=batch[0][2])
                    results = await run
                except Exception as err:  # handed to every caller of the batch
                    results = [err] * len(batch)
                for (_, future, _), result in zip(batch, results, strict=True):
                    if future.done():  # the caller went away (deadline, cancellation)
                        continue
                    if isinstance(result, asyncio.CancelledError):
                        future.cancel()
                    elif isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                batch = []
        finally:
            # Leaves the set in the same step in which it found nothing waiting (no await in
            # between), so a request submitted after that always starts a drainer.
            self._drainers.discard(me)  # type: ignore[arg-type]
            # Cancelled (the server stops): nobody is left waiting for good.
            for _, future, _ in batch:
                future.cancel()
            if batch and not self._drainers:
                for _, future, _ in self._waiting:
                    future.cancel()
                self._waiting = []
