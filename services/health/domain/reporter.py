"""Turns accepted heartbeats and silences into calls on the orchestrator: operating statuses,
and a config push when an amphora's applied config drifted from the one recorded for it.

Each amphora has at most one worker task and one pending heartbeat (latest wins), so a slow or
failing orchestrator delays status updates but never blocks the UDP receiver. A heartbeat is
looked at only when it says something new (its statuses or config hash changed), when
resend_interval passed (which heals an update lost or overwritten elsewhere), or while its
config hash differs from the recorded one; a set of statuses is sent only when it says
something the last call for that load balancer did not.

Drift: when the hash an amphora reports differs from the hash the orchestrator recorded as
applied for longer than drift_after (one heartbeat interval), the amphora's config is pushed
again (ConfigureAmphora with drift set; the orchestrator skips it while a change is in flight,
whose pass pushes anyway). Not a failover.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lbaas.common.v1 import graph_pb2
from lbaas.health.v1 import heartbeat_pb2

from services.common.errors import DomainError, NotFound
from services.health.domain.ports import AmphoraView, Orchestrator
from services.health.domain.rollup import ObjectStatus, roll_up, stale_amphora_statuses

log = logging.getLogger(__name__)

# How long an amphora's record (load balancer, recorded config hash) is trusted. A spare's is
# asked for again sooner: it gets a load balancer when a create or failover takes it.
_AMPHORA_TTL = 60.0
# After a drift push, the next one for the same amphora waits at least this long.
_DRIFT_RETRY = 10.0


@dataclass(frozen=True)
class _Cached:
    view: AmphoraView
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


def status_key(heartbeat: heartbeat_pb2.Heartbeat) -> tuple:
    """What a heartbeat says about statuses (counters left out): equal keys roll up equally.
    Which listeners a heartbeat lists follows from its config, so with the config hash the
    listener statuses in order are enough; pool reports hold no counters and compare whole (in
    C, cheaper than walking them here: this runs for every heartbeat)."""
    return (
        heartbeat.applied_config_hash,
        [r.status for r in heartbeat.listeners],
        heartbeat.pools,
    )


class StatusReporter:
    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        graph_ttl: float = 5.0,
        resend_interval: float = 30.0,
        drift_after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._orchestrator = orchestrator
        self._graph_ttl = graph_ttl
        self._resend_interval = resend_interval
        self._drift_after = drift_after
        self._clock = clock
        self._pending: dict[str, heartbeat_pb2.Heartbeat] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._amphorae: dict[str, _Cached] = {}
        self._lookup_failed: dict[str, float] = {}
        self._graphs: dict[str, _CachedGraph] = {}
        self._sent: dict[str, _Sent] = {}
        # Per amphora: the status key and time of the last heartbeat looked at, when it was
        # last heard from, since when its hash differs from the recorded one, and when its
        # config was last pushed again because of that.
        self._seen: dict[str, tuple[tuple, float]] = {}
        self._heard: dict[str, float] = {}
        self._drift_since: dict[str, float] = {}
        self._drift_pushed: dict[str, float] = {}
        self._stale: set[str] = set()
        self.drift_pushes = 0

    # -- heartbeats ---------------------------------------------------------------------------

    def submit(self, heartbeat: heartbeat_pb2.Heartbeat) -> None:
        """Queues heartbeat for processing when it may say something new; never blocks."""
        amphora_id = heartbeat.amphora_id
        now = self._clock()
        self._heard[amphora_id] = now
        key = status_key(heartbeat)
        seen = self._seen.get(amphora_id)
        cached = self._amphorae.get(amphora_id)
        drifting = (
            cached is not None
            and bool(cached.view.applied_config_hash)
            and heartbeat.applied_config_hash != cached.view.applied_config_hash
        )
        if (
            seen is not None
            and seen[0] == key
            and now - seen[1] < self._resend_interval
            and not drifting
            and amphora_id not in self._stale
        ):
            return
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
                    self._seen[amphora_id] = (status_key(heartbeat), self._clock())
                except NotFound:
                    # Not asked about again before its next status change or resend.
                    self._seen[amphora_id] = (status_key(heartbeat), self._clock())
                    log.debug("amphora %s is not known to the orchestrator", amphora_id)
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
        view = await self._view(amphora_id)
        if not view.loadbalancer_id and heartbeat.applied_config_hash:
            # A spare that received a config: a create or failover took it.
            view = await self._view(amphora_id, fresh=True)
        await self._check_drift(heartbeat, view)
        lb_id = view.loadbalancer_id
        if not lb_id:
            log.debug("amphora %s serves no load balancer (a spare)", amphora_id)
            return
        graph = await self._graph(lb_id, heartbeat.applied_config_hash)
        await self._report(lb_id, amphora_id, roll_up(graph, heartbeat))

    def _siblings(self, lb_id: str, amphora_id: str) -> Iterable[str]:
        return (
            other
            for other, cached in self._amphorae.items()
            if other != amphora_id and cached.view.loadbalancer_id == lb_id
        )

    # -- drift --------------------------------------------------------------------------------

    async def _check_drift(self, heartbeat: heartbeat_pb2.Heartbeat, view: AmphoraView) -> None:
        amphora_id = heartbeat.amphora_id
        if (
            not view.applied_config_hash
            or heartbeat.applied_config_hash == view.applied_config_hash
        ):
            self._drift_since.pop(amphora_id, None)
            return
        now = self._clock()
        since = self._drift_since.setdefault(amphora_id, now)
        if now - since < self._drift_after:
            return
        # The record may be behind (a pass applied a new config and is recording it): look again
        # before pushing.
        view = await self._view(amphora_id, fresh=True)
        if (
            not view.applied_config_hash
            or heartbeat.applied_config_hash == view.applied_config_hash
        ):
            self._drift_since.pop(amphora_id, None)
            return
        pushed = self._drift_pushed.get(amphora_id)
        if pushed is not None and now - pushed < _DRIFT_RETRY:
            return
        self._drift_pushed[amphora_id] = now
        accepted = await self._orchestrator.configure_amphora(amphora_id)
        if accepted:
            self.drift_pushes += 1
            log.warning(
                "amphora %s runs config %s but %s was applied there: pushing it again",
                amphora_id,
                heartbeat.applied_config_hash[:12] or "(none)",
                view.applied_config_hash[:12],
            )

    # -- orchestrator lookups, cached ---------------------------------------------------------

    async def _view(self, amphora_id: str, *, fresh: bool = False) -> AmphoraView:
        """The orchestrator's record of the amphora, cached; raises NotFound for an unknown one."""
        now = self._clock()
        cached = self._amphorae.get(amphora_id)
        if cached is not None and not fresh:
            ttl = _AMPHORA_TTL if cached.view.loadbalancer_id else self._graph_ttl
            if now - cached.at < ttl:
                return cached.view
        failed_at = self._lookup_failed.get(amphora_id)
        if failed_at is not None and now - failed_at < self._graph_ttl and not fresh:
            raise NotFound(f"amphora {amphora_id} is not known")
        try:
            view = await self._orchestrator.amphora(amphora_id)
        except NotFound:
            self._lookup_failed[amphora_id] = now
            self._amphorae.pop(amphora_id, None)
            raise
        self._lookup_failed.pop(amphora_id, None)
        self._amphorae[amphora_id] = _Cached(view, now)
        return view

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
        for amphora_id, cached in list(self._amphorae.items()):
            if cached.view.loadbalancer_id == lb_id:
                del self._amphorae[amphora_id]

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

    async def report_stale(self, stale: Iterable[str], stale_after: float = 0.0) -> None:
        """stale: every amphora silent past the stale window as the database said a moment ago.
        The load balancer of a stale amphora is reported ERROR unless another of its amphorae is
        still heard from. One this replica heard from within stale_after is not stale: its
        heartbeat may not be written yet, and reporting ERROR after its statuses would leave its
        load balancer ERROR."""
        now = self._clock()
        self._stale = {
            a for a in stale if not (stale_after and now - self._heard.get(a, -1e18) < stale_after)
        }
        for amphora_id in sorted(self._stale):
            # Whatever it says when it is heard from again is looked at.
            self._seen.pop(amphora_id, None)
            try:
                view = await self._view(amphora_id)
                lb_id = view.loadbalancer_id
                if not lb_id or any(
                    other not in self._stale for other in self._siblings(lb_id, amphora_id)
                ):
                    continue
                await self._report(lb_id, amphora_id, stale_amphora_statuses(lb_id))
            except NotFound:
                continue  # the failover of a gone amphora forgets it
            except DomainError as err:
                log.warning(
                    "stale amphora %s: could not report its load balancer: %s %s",
                    amphora_id,
                    err.user_message,
                    err.operator_detail,
                )
            except Exception:
                log.exception("stale amphora %s: reporting failed", amphora_id)

    def forget(self, amphora_id: str) -> None:
        """The amphora is gone (failed over, or deleted with its load balancer)."""
        cached = self._amphorae.get(amphora_id)
        if cached is not None and cached.view.loadbalancer_id:
            # Its load balancer may have been reported ERROR for it: the next heartbeat of the
            # amphora that serves it now is looked at whatever it says.
            for other in self._siblings(cached.view.loadbalancer_id, amphora_id):
                self._seen.pop(other, None)
        for table in (
            self._amphorae,
            self._lookup_failed,
            self._seen,
            self._heard,
            self._drift_since,
            self._drift_pushed,
        ):
            table.pop(amphora_id, None)  # type: ignore[attr-defined]
        self._stale.discard(amphora_id)

    async def close(self) -> None:
        tasks = [*self._workers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        self._pending.clear()
