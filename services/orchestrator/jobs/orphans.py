"""Housekeeping on the netns compute driver: namespaces whose amphora the database no longer
knows (a worker died between building one and recording it, a row deleted by hand) are fenced
and removed, so a crash leaks no namespace, veth or address."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import select

from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.adapters.db.models import AmphoraRow

# A namespace younger than this may belong to an amphora being built right now (its row is
# written first, but possibly after the ids below were read): it is left for a later round.
MIN_AGE = 60.0


class OrphanNamespaces:
    def __init__(self, uow: UnitOfWork, run_dir: Path, interval: float = 30.0):
        self._uow = uow
        self._run_dir = run_dir
        self._interval = interval
        self._next = 0.0

    async def run(self) -> list[str] | None:
        if time.monotonic() < self._next:
            return None
        self._next = time.monotonic() + self._interval
        from services.orchestrator.adapters.compute_netns import remove_orphans

        known = await asyncio.to_thread(
            self._uow.run, lambda session: set(session.scalars(select(AmphoraRow.id)))
        )
        removed = await asyncio.to_thread(remove_orphans, self._run_dir, known, min_age=MIN_AGE)
        return removed or None
