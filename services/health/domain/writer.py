"""The write loop: pending heartbeats go to the database a batch (one round trip) at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.common.errors import Unavailable
from services.health.domain.batch import PendingBeats, beat_of
from services.health.domain.ports import HeartbeatStore

log = logging.getLogger(__name__)


@dataclass
class WriteCounts:
    heartbeats: int = 0  # accepted heartbeats covered by a committed batch
    rows: int = 0  # amphora rows written (one per amphora per batch)
    batches: int = 0
    failures: int = 0


class BatchWriter:
    """One write in flight at a time; heartbeats arriving meanwhile make the next batch. After a
    failed write the batch is kept (newer heartbeats win), on_failure is told, and the write is
    tried again after retry_interval."""

    def __init__(
        self,
        pending: PendingBeats,
        store: HeartbeatStore,
        *,
        min_interval: float = 0.02,
        retry_interval: float = 0.5,
        on_failure: Callable[[str], None] | None = None,
        on_written: Callable[[int, float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        """on_written: told after each committed batch how many heartbeats it covered and how
        long the oldest of them waited to be written (seconds since it arrived)."""
        self._pending = pending
        self._store = store
        self._min_interval = min_interval
        self._retry_interval = retry_interval
        self._on_failure = on_failure
        self._on_written = on_written
        self._clock = clock
        self._wake = asyncio.Event()
        self.counts = WriteCounts()
        self.last_success = clock()
        self.failing_since: float | None = None

    def notify(self) -> None:
        """Called after a heartbeat was added to the pending buffer."""
        self._wake.set()

    @property
    def behind(self) -> float:
        """Seconds since the last successful write while heartbeats wait (0 when none wait)."""
        if len(self._pending) == 0:
            return 0.0
        return self._clock() - self.last_success

    async def flush(self) -> None:
        oldest_at = self._pending.oldest_at
        heartbeats, leaving, count = self._pending.take()
        if not heartbeats and not leaving:
            return
        try:
            await self._store.write(
                [beat_of(hb, payload) for hb, payload in heartbeats], gone=leaving
            )
        except Unavailable as err:
            self._pending.put_back(heartbeats, leaving, count, oldest_at)
            self.counts.failures += 1
            if self.failing_since is None:
                self.failing_since = self._clock()
                log.error("heartbeats not written (kept, retrying): %s", err.operator_detail)
            if self._on_failure is not None:
                self._on_failure(f"heartbeats could not be written: {err.user_message}")
            raise
        except Exception:
            # Not an outage: this batch can never be written. Dropping it keeps one bad batch
            # from stopping every later one (intake validates fields, so this is a bug).
            self.counts.failures += 1
            log.exception("a batch of %d heartbeats could not be written; dropped", count)
            if self._on_failure is not None:
                self._on_failure("a batch of heartbeats could not be written")
            return
        if self.failing_since is not None:
            log.warning("heartbeats written again after %.1fs", self._clock() - self.failing_since)
            self.failing_since = None
        self.last_success = self._clock()
        self.counts.heartbeats += count
        self.counts.rows += len(heartbeats)
        self.counts.batches += 1
        if self._on_written is not None:
            # How long the oldest heartbeat of the batch waited, from its arrival to the commit
            # (time.monotonic, as PendingBeats reads it).
            self._on_written(count, time.monotonic() - oldest_at)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            started = self._clock()
            try:
                await self.flush()
            except Unavailable:
                await asyncio.sleep(self._retry_interval)
                self._wake.set()
                continue
            if len(self._pending):
                self._wake.set()
            # Let heartbeats gather for a moment: fewer, larger batches.
            rest = self._min_interval - (self._clock() - started)
            if rest > 0:
                await asyncio.sleep(rest)
