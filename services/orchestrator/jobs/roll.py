"""Minor updates: re-render load balancers with the renderer now deployed and push only the
configs whose content changed, a bounded number at a time, stopping at the first failure that
was not rolled back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.errors import DomainError, InvalidInput, NotFound, Precondition
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.adapters.db.models import AmphoraRow, LoadBalancerRow
from services.orchestrator.codec import encode
from services.orchestrator.config import Settings
from services.orchestrator.domain import amphora_lifecycle as life
from services.orchestrator.domain import pairs, sizes, status
from services.orchestrator.domain.ports import AgentInfo
from services.orchestrator.jobs.reconcile import Drivers, _lock
from services.orchestrator.service_layer.common import alive

log = logging.getLogger(__name__)

T = TypeVar("T")

# Agent outcomes after which the amphora still serves its previous config.
ROLLED_BACK = ("INVALID", "ROLLED_BACK")


@dataclass
class RollReport:
    """What a roll did (lbaas.orchestrator.v1.RefreshConfigsResponse)."""

    rendered: int = 0  # load balancers re-rendered
    pushed: int = 0  # configs sent because their content changed (or force)
    unchanged: int = 0  # configs already current: only the renderer version is recorded
    skipped: int = 0  # load balancers with a change of their own in progress
    failures: list[tuple[str, str]] = field(default_factory=list)  # (load balancer id, why)
    stopped: bool = False  # a failure that was not rolled back ended the roll early


class _Stop(Exception):
    """A failure that was not rolled back (agent BROKEN or unreachable, renderer unreachable):
    later load balancers are not started."""


@dataclass(frozen=True)
class _Target:
    id: str
    agent_address: str
    applied_config_hash: str
    role: str = pairs.STANDALONE
    address: str = ""
    compute_flavor: str = sizes.DEFAULT


@dataclass(frozen=True)
class _Locked:
    backend: str
    vip_address: str
    graph: Any
    amphorae: tuple[_Target, ...]
    topology: str = pairs.SINGLE


class Roller:
    """Re-renders and re-pushes configs for one load balancer or all ACTIVE ones.

    Each load balancer is handled holding its row lock (SELECT ... FOR UPDATE) from reading the
    graph until the outcome is recorded. A newer graph needs a version bump, and every change
    takes that same lock to bump it, so no change can be accepted while the roll pushes, and a
    load balancer that has one in flight is not ACTIVE and is skipped (its next reconcile pass
    renders with the new renderer anyway). A reconcile pass running at the same time for an
    ACTIVE load balancer (ConfigureAmphora, the startup pass) renders that same version, so
    whichever push lands last carries the newest graph: a roll can never overwrite a newer one.
    The cost is that writes to that one load balancer wait for its push (one agent deadline
    at most). The database work of a roll runs on its own threads, so API requests waiting for
    the lock cannot take every thread the roll needs to release it."""

    def __init__(self, uow: UnitOfWork, drivers: Drivers, settings: Settings):
        self._uow = uow
        self._d = drivers
        self._settings = settings
        self._concurrency = max(1, settings.roll_concurrency)
        self._executor = ThreadPoolExecutor(self._concurrency + 1, thread_name_prefix="roll")
        # (backend, renderer version) pairs already rolled automatically by this process.
        self._rolled: set[tuple[str, str]] = set()
        self._last_check = -math.inf

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # -- the roll ------------------------------------------------------------------------------

    async def refresh(
        self, loadbalancer_id: str = "", *, force: bool = False, backend: str | None = None
    ) -> RollReport:
        """One load balancer (NotFound if it does not exist) or every one (of `backend`)."""
        ids = await self._db(self._candidates, loadbalancer_id, backend)
        report = RollReport()
        gate = asyncio.Semaphore(self._concurrency)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []

        async def one(lb_id: str) -> None:
            try:
                await self._refresh_one(lb_id, force, report)
            except _Stop:
                report.stopped = True
                stop.set()
            except Exception as err:  # unexpected: reported, and nothing further is started
                log.exception("roll: load balancer %s", lb_id)
                report.failures.append((lb_id, repr(err)))
                report.stopped = True
                stop.set()
            finally:
                gate.release()

        try:
            for lb_id in ids:
                await gate.acquire()
                if stop.is_set():
                    gate.release()
                    break
                tasks.append(asyncio.create_task(one(lb_id)))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        log.info(
            "roll: %d rendered, %d pushed, %d unchanged, %d skipped, %d failed%s",
            report.rendered,
            report.pushed,
            report.unchanged,
            report.skipped,
            len(report.failures),
            " (stopped)" if report.stopped else "",
        )
        return report

    def _candidates(self, lb_id: str, backend: str | None) -> list[str]:
        with self._uow.transaction() as session:
            if lb_id:
                if session.get(LoadBalancerRow, lb_id) is None:
                    raise NotFound(f"Load Balancer {lb_id} not found.", field="loadbalancer_id")
                return [lb_id]
            query = select(LoadBalancerRow.id).order_by(
                LoadBalancerRow.created_at, LoadBalancerRow.id
            )
            if backend is not None:
                query = query.where(LoadBalancerRow.backend == backend)
            return list(session.scalars(query))

    async def _refresh_one(self, lb_id: str, force: bool, report: RollReport) -> None:
        tx = self._uow.transaction()
        session = await self._db(tx.__enter__)
        try:
            await self._push_locked(session, lb_id, force, report)
        except BaseException as err:
            await self._db(tx.__exit__, type(err), err, err.__traceback__)
            raise
        await self._db(tx.__exit__, None, None, None)

    async def _push_locked(
        self, session: Session, lb_id: str, force: bool, report: RollReport
    ) -> None:
        locked = await self._db(self._read_locked, session, lb_id)
        if locked is None:
            report.skipped += 1
            return
        try:
            renderer = self._d.renderer(locked.backend)
            materials = await self._db(self._d.certificates.resolve, locked.graph)
        except (InvalidInput, Precondition) as err:
            self._fail(session, report, lb_id, err.user_message)
            return
        rendered_any = False
        vrrps: dict[str, Any] = dict.fromkeys((a.id for a in locked.amphorae), None)
        if locked.topology == pairs.ACTIVE_STANDBY:
            vrrps = pairs.vrrp_targets(
                [pairs.Half(a.id, a.role, a.address) for a in locked.amphorae],
                self._settings.vrrp_advert_interval,
                self._d.network.prefix_length,
            )
        # A pair is pushed BACKUP first: a config its MASTER refuses is then never served.
        for amphora in sorted(locked.amphorae, key=lambda a: a.role == pairs.MASTER):
            try:
                info = await self._d.agent.get_info(amphora.agent_address, amphora.id)
                rendered = await renderer.render(
                    locked.graph,
                    info,
                    locked.vip_address,
                    materials,
                    vrrp=vrrps[amphora.id],
                    size=sizes.of(self._settings.compute_flavors, amphora.compute_flavor),
                )
            except (InvalidInput, Precondition) as err:
                # Nothing was pushed: the amphora keeps serving what it has.
                self._fail(session, report, lb_id, f"render refused: {err.user_message}")
                continue
            except DomainError as err:  # Unavailable: the agent or the renderer
                self._fail(session, report, lb_id, f"{type(err).__name__}: {err.user_message}")
                raise _Stop from err
            rendered_any = True
            current = _applied_hash(info, amphora)
            if current == rendered.config_hash and not force:
                await self._db(
                    self._record, session, amphora.id, current, rendered.renderer_version
                )
                report.unchanged += 1
                continue
            outcome = await self._d.agent.apply_config(
                amphora.agent_address,
                amphora.id,
                rendered.files,
                rendered.config_hash,
                rendered.renderer_version,
                force=force,
            )
            if outcome.ok:
                await self._db(
                    self._record,
                    session,
                    amphora.id,
                    outcome.applied_config_hash or rendered.config_hash,
                    rendered.renderer_version,
                )
                report.pushed += 1
                continue
            reason = f"amphora {amphora.id} {outcome.result}: {outcome.detail}"
            self._fail(session, report, lb_id, reason)
            if outcome.result not in ROLLED_BACK:
                raise _Stop(reason)
        if rendered_any:
            report.rendered += 1

    def _read_locked(self, session: Session, lb_id: str) -> _Locked | None:
        lb = _lock(session, lb_id)
        if lb is None or lb.provisioning_status != status.ACTIVE:
            return None
        amphorae = session.scalars(
            select(AmphoraRow)
            .where(AmphoraRow.load_balancer_id == lb_id, AmphoraRow.status == life.ALLOCATED)
            .order_by(AmphoraRow.created_at, AmphoraRow.id)
        ).all()
        serving = tuple(
            _Target(
                a.id,
                a.agent_address,
                a.applied_config_hash,
                a.role,
                a.lb_network_ip,
                a.compute_flavor,
            )
            for a in amphorae
            if a.agent_address and not a.failover_requested
        )
        if not serving:
            return None
        return _Locked(
            lb.backend,
            lb.vip_address,
            encode.loadbalancer(lb, include=alive),
            serving,
            lb.topology,
        )

    @staticmethod
    def _record(session: Session, amphora_id: str, config_hash: str, version: str) -> None:
        row = session.get(AmphoraRow, amphora_id)
        if row is not None:
            row.applied_config_hash = config_hash
            row.applied_renderer_version = version
            session.flush()

    @staticmethod
    def _fail(session: Session, report: RollReport, lb_id: str, reason: str) -> None:
        """The load balancer stays ACTIVE (it serves its previous config); the reason is shown
        to operators until its next successful pass clears it."""
        log.warning("roll: load balancer %s: %s", lb_id, reason)
        report.failures.append((lb_id, reason))
        lb = session.get(LoadBalancerRow, lb_id)  # already loaded and locked: no I/O
        if lb is not None:
            lb.status_reason = f"minor update failed: {reason}"

    # -- automatic trigger -----------------------------------------------------------------

    async def check_renderer_versions(self) -> list[RollReport]:
        """Asks each backend's renderer for its version; when amphorae of that backend applied
        configs of another version, rolls that backend once per (backend, version) in this
        process (an operator re-runs a roll that stopped, with RefreshConfigs)."""
        reports = []
        for backend, renderer in self._d.renderers.items():
            try:
                _type, version, _features = await renderer.describe()
            except DomainError as err:
                log.debug("renderer of %s not described: %s", backend, err)
                continue
            if not version or (backend, version) in self._rolled:
                continue
            stale = await self._db(self._count_stale, backend, version)
            if stale:
                log.info(
                    "renderer %s is at version %s; %d amphorae applied another: rolling",
                    backend,
                    version,
                    stale,
                )
                reports.append(await self.refresh(backend=backend))
            self._rolled.add((backend, version))
        return reports

    def _count_stale(self, backend: str, version: str) -> int:
        with self._uow.transaction() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(AmphoraRow)
                    .join(LoadBalancerRow, LoadBalancerRow.id == AmphoraRow.load_balancer_id)
                    .where(
                        LoadBalancerRow.backend == backend,
                        LoadBalancerRow.provisioning_status == status.ACTIVE,
                        AmphoraRow.status == life.ALLOCATED,
                        AmphoraRow.applied_renderer_version != version,
                    )
                )
                or 0
            )

    async def maybe_check(self, interval: float) -> None:
        """check_renderer_versions at most every `interval` seconds (the sweep calls this)."""
        now = time.monotonic()
        if now - self._last_check < interval:
            return
        self._last_check = now
        await self.check_renderer_versions()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._executor.shutdown(wait=False, cancel_futures=True)


def _applied_hash(info: AgentInfo, amphora: _Target) -> str:
    """What the amphora runs: the agent's own word when it gives one, else the last recorded."""
    return info.applied_config_hash or amphora.applied_config_hash
