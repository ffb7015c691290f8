"""Turns accepted heartbeats and silences into SetOperatingStatuses calls on the orchestrator.

Each amphora has at most one worker task and one pending heartbeat (latest wins), so a slow or
failing orchestrator delays status updates but never blocks or crashes the UDP receiver. A set of
statuses is sent only when it says something the last call for that load balancer did not, or
when resend_interval has passed (which heals an update lost or overwritten elsewhere).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lbaas.common.v1 import graph_pb2
from lbaas.health.v1 import heartbeat_pb2

from services.common.errors import DomainError, NotFound
from services.health.domain.ports import Orchestrator
from services.health.domain.registry import HealthRegistry
from services.health.domain.rollup import ObjectStatus, roll_up, stale_amphora_statuses

log = logging.getLogger(__name__)

# How long the amphora -> load balancer mapping is trusted (amphorae are reassigned on failover).
_AMPHORA_TTL = 60.0


@dataclass(frozen=True)
class _Cached:
    value: str
    at: float


@dataclass(frozen=True)
class _CachedGraph:
    config_hash: str
    graph: graph_pb2.LoadBalancer
    at: float


@dataclass(frozen=True)
class _Sent:
    statuses: frozenset[ObjectStatus]
    at: float


class StatusReporter:
    def __init__(
        self,
        orchestrator: Orchestrator,
        registry: HealthRegistry,
        *,
        stale_after: float,
        graph_ttl: float = 5.0,
        resend_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_forget: Callable[[str], None] | None = None,
    ):
        self._orchestrator = orchestrator
        self._registry = registry
        self._stale_after = stale_after
        self._graph_ttl = graph_ttl
        self._resend_interval = resend_interval
        self._clock = clock
        self._on_forget = on_forget
        self._pending: dict[str, heartbeat_pb2.Heartbeat] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._lb_of: dict[str, _Cached] = {}
        self._lookup_failed: dict[str, float] = {}
        self._graphs: dict[str, _CachedGraph] = {}
        self._sent: dict[str, _Sent] = {}
        self._stale_task: asyncio.Task[None] | None = None

    # -- heartbeats ---------------------------------------------------------------------------

    def submit(self, heartbeat: heartbeat_pb2.Heartbeat) -> None:
        """Queues heartbeat for processing (replacing an unprocessed older one); never blocks."""
        amphora_id = heartbeat.amphora_id
        self._pending[amphora_id] = heartbeat
        if amphora_id not in self._workers:
            self._workers[amphora_id] = asyncio.get_running_loop().create_task(
                self._drain(amphora_id), name=f"health-report-{amphora_id}"
            )

    async def _drain(self, amphora_id: str) -> None:
        try:
            while (heartbeat := self._pending.pop(amphora_id, None)) is not None:
                try:
                    await self._process(heartbeat)
                except DomainError as err:
                    log.warning(
                        "amphora %s: statuses not reported, retrying on the next heartbeat: %s %s",
                        amphora_id,
                        err.user_message,
                        err.operator_detail,
                    )
                except Exception:
                    log.exception("amphora %s: processing a heartbeat failed", amphora_id)
        finally:
            self._workers.pop(amphora_id, None)

    async def _process(self, heartbeat: heartbeat_pb2.Heartbeat) -> None:
        amphora_id = heartbeat.amphora_id
        lb_id = await self._loadbalancer_of(amphora_id)
        if not lb_id:
            log.debug("amphora %s serves no load balancer yet", amphora_id)
            return
        graph = await self._graph(lb_id, heartbeat.applied_config_hash)
        statuses = roll_up(graph, heartbeat, amphora_stale=self._sibling_stale(lb_id, amphora_id))
        await self._report(lb_id, amphora_id, statuses)

    def _sibling_stale(self, lb_id: str, amphora_id: str) -> bool:
        """Another amphora of the same load balancer (ACTIVE_STANDBY) is stale."""
        return any(
            row.amphora_id != amphora_id
            and (cached := self._lb_of.get(row.amphora_id)) is not None
            and cached.value == lb_id
            for row in self._registry.stale()
        )

    async def _loadbalancer_of(self, amphora_id: str) -> str:
        """The amphora's load balancer id, cached; raises NotFound for an unknown amphora."""
        now = self._clock()
        cached = self._lb_of.get(amphora_id)
        if cached is not None:
            # An amphora without a load balancer (a spare) is asked about again soon.
            ttl = _AMPHORA_TTL if cached.value else self._graph_ttl
            if now - cached.at < ttl:
                return cached.value
        failed_at = self._lookup_failed.get(amphora_id)
        if failed_at is not None and now - failed_at < self._graph_ttl:
            return ""
        try:
            lb_id = await self._orchestrator.loadbalancer_of_amphora(amphora_id)
        except NotFound:
            self._lookup_failed[amphora_id] = now
            raise
        self._lookup_failed.pop(amphora_id, None)
        self._lb_of[amphora_id] = _Cached(lb_id, now)
        return lb_id

    async def _graph(self, lb_id: str, config_hash: str) -> graph_pb2.LoadBalancer:
        now = self._clock()
        cached = self._graphs.get(lb_id)
        fresh = cached is not None and now - cached.at < self._graph_ttl
        if cached is not None and fresh and cached.config_hash == config_hash:
            return cached.graph
        try:
            graph = await self._orchestrator.get_loadbalancer(lb_id)
        except NotFound:
            self._drop_loadbalancer(lb_id)
            raise
        self._graphs[lb_id] = _CachedGraph(config_hash, graph, now)
        return graph

    def _drop_loadbalancer(self, lb_id: str) -> None:
        self._graphs.pop(lb_id, None)
        self._sent.pop(lb_id, None)
        for amphora_id, cached in list(self._lb_of.items()):
            if cached.value == lb_id:
                del self._lb_of[amphora_id]

    async def _report(self, lb_id: str, amphora_id: str, statuses: Sequence[ObjectStatus]) -> bool:
        """Sends statuses unless the last call for lb_id already said all of them recently."""
        wanted = frozenset(statuses)
        now = self._clock()
        last = self._sent.get(lb_id)
        if last is not None and wanted <= last.statuses and now - last.at < self._resend_interval:
            return False
        await self._orchestrator.set_operating_statuses(lb_id, amphora_id, statuses)
        self._sent[lb_id] = _Sent(wanted, now)
        return True

    # -- silence ------------------------------------------------------------------------------

    async def check_stale(self) -> None:
        """Marks silent amphorae stale and (re)reports their load balancers as ERROR."""
        newly = self._registry.mark_stale(monotonic=self._clock(), stale_after=self._stale_after)
        for row in newly:
            cached = self._lb_of.get(row.amphora_id)
            log.error(
                "amphora %s is STALE: no valid heartbeat for %.1fs; load balancer %s -> ERROR "
                "(automatic failover is not implemented yet)",
                row.amphora_id,
                self._clock() - row.last_seen_monotonic,
                cached.value if cached else "(unknown)",
            )
        for row in self._registry.stale():
            try:
                lb_id = await self._loadbalancer_of(row.amphora_id)
                if lb_id:
                    await self._report(lb_id, row.amphora_id, stale_amphora_statuses(lb_id))
            except NotFound:
                log.warning("stale amphora %s no longer exists; forgetting it", row.amphora_id)
                self._forget(row.amphora_id)
            except DomainError as err:
                log.warning(
                    "stale amphora %s: could not report its load balancer: %s %s",
                    row.amphora_id,
                    err.user_message,
                    err.operator_detail,
                )
            except Exception:
                log.exception("stale amphora %s: reporting failed", row.amphora_id)

    def _forget(self, amphora_id: str) -> None:
        self._registry.forget(amphora_id)
        self._lb_of.pop(amphora_id, None)
        self._lookup_failed.pop(amphora_id, None)
        if self._on_forget is not None:
            self._on_forget(amphora_id)

    async def _stale_loop(self) -> None:
        interval = min(1.0, self._stale_after / 4)
        while True:
            await asyncio.sleep(interval)
            await self.check_stale()

    def start(self) -> None:
        self._stale_task = asyncio.get_running_loop().create_task(
            self._stale_loop(), name="health-stale-check"
        )

    async def close(self) -> None:
        tasks = [*self._workers.values()]
        if self._stale_task is not None:
            tasks.append(self._stale_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._pending.clear()
