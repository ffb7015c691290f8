"""Housekeeping: periodic upkeep of the amphora fleet (spare pool, certificate rotation), run by
one worker at a time across every worker and replica."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# pg_try_advisory_lock key of housekeeping (the schema upgrade uses 7355608).
_LOCK_KEY = 7355609


@dataclass(frozen=True)
class Chore:
    """One housekeeping step; run() returns what it did, for the log (falsy: nothing)."""

    name: str
    run: Callable[[], Awaitable[object]]


class Housekeeper:
    """Runs its chores in order every interval while holding a session-level advisory lock on a
    connection of its own, so two workers never fill the spare pool or rotate certificates at
    once; a worker that dies releases the lock with its connection. A chore that fails is
    logged and the others still run."""

    def __init__(self, engine: Engine, chores: Sequence[Chore]):
        self._engine = engine
        self._chores = list(chores)

    def add(self, chore: Chore) -> None:
        self._chores.append(chore)

    async def run_once(self) -> dict[str, object]:
        """Runs every chore if no other worker is; returns {chore name: result}."""
        connection = await asyncio.to_thread(self._engine.connect)
        try:
            locked = await asyncio.to_thread(_try_lock, connection)
            if not locked:
                return {}
            try:
                results: dict[str, object] = {}
                for chore in self._chores:
                    try:
                        results[chore.name] = await chore.run()
                    except Exception:
                        log.exception("housekeeping: %s failed", chore.name)
                return results
            finally:
                await asyncio.to_thread(_unlock, connection)
        finally:
            await asyncio.to_thread(connection.close)

    async def run_forever(self, interval: float) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("housekeeping failed; trying again in %.1fs", interval)
            await asyncio.sleep(interval)


def _try_lock(connection) -> bool:
    locked = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY})
    result = bool(locked.scalar())
    connection.commit()
    return result


def _unlock(connection) -> None:
    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
    connection.commit()
