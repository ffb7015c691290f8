"""The stale watch: every tick, count the fleet's silent amphorae in the database, let the gate
decide, and ask the orchestrator to fail over the ones it allows.

Any number of replicas run it against one database. The orchestrator claims each failover with
a test-and-set on the amphora row, so replicas asking at once start one failover; a replica
asks again for the same amphora only after request_every, in case the first request was lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from services.common.errors import DomainError, NotFound, Unavailable
from services.health.domain.failover import FailoverGate
from services.health.domain.ports import Fleet, HealthStore, Orchestrator

log = logging.getLogger(__name__)


class StaleWatch:
    def __init__(
        self,
        store: HealthStore,
        gate: FailoverGate,
        orchestrator: Orchestrator,
        *,
        stale_after: float,
        interval: float,
        suspect_after: float = 0.0,
        behind: Callable[[], float] = lambda: 0.0,
        on_stale: Callable[[Iterable[str], float], Awaitable[None]] | None = None,
        on_forget: Callable[[str], None] | None = None,
        request_every: float = 2.0,
        lookup_every: float = 10.0,
        max_lookups: int = 64,
        max_parallel: int = 16,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._store = store
        self._gate = gate
        self._orchestrator = orchestrator
        self._stale_after = stale_after
        self._suspect_after = suspect_after or stale_after
        self._interval = interval
        self._behind = behind
        self._on_stale = on_stale
        self._on_forget = on_forget
        self._request_every = request_every
        self._lookup_every = lookup_every
        self._max_lookups = max_lookups
        self._looked_up: dict[str, float] = {}
        self._limit = asyncio.Semaphore(max_parallel)
        self._clock = clock
        self._requested: dict[str, float] = {}
        self._last_tick: float | None = None
        self.requested = 0
        self.claimed = 0
        self.last_fleet = Fleet(0, ())

    async def tick(self) -> list[str]:
        """One look at the fleet; returns the amphorae whose failover was asked for."""
        started = self._clock()
        held: list[str] = []  # why the read may miss heartbeats, found before it
        if self._last_tick is not None and started - self._last_tick > self._interval + max(
            1.0, self._stale_after / 2
        ):
            # This replica did not run for a while (starved, suspended): it may have missed
            # heartbeats it would have written.
            held.append(f"the health service stalled for {started - self._last_tick:.1f}s")
        self._last_tick = started
        behind = self._behind()
        if behind > self._stale_after / 2:
            held.append(f"heartbeats wait {behind:.1f}s to be written")
        fleet: Fleet | None = None
        try:
            fleet = await self._store.fleet(self._stale_after, self._suspect_after)
        except Unavailable as err:
            held.append(f"the database is unavailable ({err.operator_detail})")
        # The read may have waited for a connection for longer than a stale window (a database
        # restarting): each hold-off runs from now, when the gate decides on what was read.
        now = self._clock()
        for why in held:
            self._gate.interrupt(now, why)
        if fleet is None:
            return []
        self.last_fleet = fleet
        chosen = self._gate.decide(now, list(fleet.stale), fleet.total, fleet.suspect)
        stale = set(fleet.stale)
        for amphora_id in list(self._requested):
            if amphora_id not in stale:
                del self._requested[amphora_id]
        due = [
            a
            for a in chosen
            if a not in self._requested or now - self._requested[a] >= self._request_every
        ]
        # Stale amphorae not failed over now (breaker open, holding off, being confirmed) may
        # be gone: deleted while silent, or by an agent too old to say it was leaving. Their
        # rows would stay stale for good and keep the breaker open; each is looked up now and
        # then and forgotten when the orchestrator no longer knows it.
        chosen_now = set(chosen)
        lookups = [
            a
            for a in fleet.stale
            if a not in chosen_now and now - self._looked_up.get(a, -1e18) >= self._lookup_every
        ][: self._max_lookups]
        for amphora_id in list(self._looked_up):
            if amphora_id not in stale:
                del self._looked_up[amphora_id]
        if due or lookups:
            await asyncio.gather(
                *(self._request(a) for a in due), *(self._look_up(a, now) for a in lookups)
            )
        # Statuses after the decision (reporting a thousand load balancers takes a while), and
        # not while the gate holds off: this replica could not see heartbeats, so a silence then
        # says nothing about the amphora (after a database outage or a restart every load
        # balancer went ERROR and back otherwise).
        if self._on_stale is not None and not self._gate.holds_off(now):
            await self._on_stale(fleet.stale, self._stale_after)
        return due

    async def _request(self, amphora_id: str) -> None:
        async with self._limit:
            self._requested[amphora_id] = self._clock()
            self.requested += 1
            try:
                claimed = await self._orchestrator.failover_amphora(amphora_id)
            except NotFound:
                log.info("stale amphora %s no longer exists; forgetting it", amphora_id)
                await self._forget(amphora_id)
                return
            except DomainError as err:
                log.warning(
                    "failover of stale amphora %s not started: %s %s",
                    amphora_id,
                    err.user_message,
                    err.operator_detail,
                )
                return
            if claimed:
                self.claimed += 1
                log.error(
                    "amphora %s is silent for more than %.1fs: failover started",
                    amphora_id,
                    self._stale_after,
                )

    async def _look_up(self, amphora_id: str, now: float) -> None:
        async with self._limit:
            self._looked_up[amphora_id] = now
            try:
                await self._orchestrator.amphora(amphora_id)
            except NotFound:
                log.info("stale amphora %s no longer exists; forgetting it", amphora_id)
                await self._forget(amphora_id)
            except DomainError:
                return  # asked again later

    async def _forget(self, amphora_id: str) -> None:
        self._requested.pop(amphora_id, None)
        try:
            await self._store.forget(amphora_id)
        except Unavailable:
            return  # asked again on a later tick
        if self._on_forget is not None:
            self._on_forget(amphora_id)

    async def run_forever(self) -> None:
        while True:
            started = self._clock()
            try:
                await self.tick()
            except Exception:
                log.exception("stale check failed")
            await asyncio.sleep(max(0.0, self._interval - (self._clock() - started)))
