"""The crash-safety net: re-enqueue reconciles nobody is running, release jobs of dead workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import procrastinate
from procrastinate.jobs import Status
from sqlalchemy import text

from services.orchestrator import metrics
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.adapters.job_queue import RECONCILE_TASK
from services.orchestrator.service_layer.common import ReconcileQueue

log = logging.getLogger(__name__)

# Load balancers with an object in PENDING_* and no waiting or running job (procrastinate's
# job table is in the same database; lock = load balancer id).
_ORPHANED = text(
    """
    SELECT lb.id FROM load_balancer lb
     WHERE (lb.provisioning_status LIKE 'PENDING%'
        OR EXISTS (SELECT 1 FROM listener x WHERE x.load_balancer_id = lb.id
                     AND x.provisioning_status LIKE 'PENDING%')
        OR EXISTS (SELECT 1 FROM pool x WHERE x.load_balancer_id = lb.id
                     AND x.provisioning_status LIKE 'PENDING%')
        OR EXISTS (SELECT 1 FROM member m JOIN pool p ON p.id = m.pool_id
                    WHERE p.load_balancer_id = lb.id AND m.provisioning_status LIKE 'PENDING%')
        OR EXISTS (SELECT 1 FROM health_monitor h JOIN pool p ON p.id = h.pool_id
                    WHERE p.load_balancer_id = lb.id AND h.provisioning_status LIKE 'PENDING%')
        OR EXISTS (SELECT 1 FROM l7policy x JOIN listener li ON li.id = x.listener_id
                    WHERE li.load_balancer_id = lb.id AND x.provisioning_status LIKE 'PENDING%')
        OR EXISTS (SELECT 1 FROM l7rule r JOIN l7policy x ON x.id = r.l7policy_id
                     JOIN listener li ON li.id = x.listener_id
                    WHERE li.load_balancer_id = lb.id AND r.provisioning_status LIKE 'PENDING%'))
       AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j
                        WHERE j.lock = lb.id AND j.status IN ('todo', 'doing'))
    """
)
_ALL = text("SELECT id FROM load_balancer")
# The reconcile jobs by state, for the queue gauge (metrics.QUEUE_JOBS): `todo` split into due
# and scheduled (a retry's later time), `succeeded` never there (deleted when they finish).
_QUEUE = text(
    """
    SELECT CASE WHEN status = 'todo' AND scheduled_at > now() THEN 'scheduled'
                WHEN status = 'todo' THEN 'due'
                ELSE status::text END, count(*)
      FROM procrastinate_jobs WHERE task_name = :task GROUP BY 1
    """
)


class Sweeper:
    def __init__(
        self,
        uow: UnitOfWork,
        queue: ReconcileQueue,
        worker_app: procrastinate.App,
        stalled_worker_timeout: float,
        *,
        version_check: Callable[[], Awaitable[object]] | None = None,
    ):
        self._uow = uow
        self._queue = queue
        self._app = worker_app
        self._stalled_after = stalled_worker_timeout
        # Asks the renderers for their versions and starts a minor update when one changed
        # (jobs.roll.Roller.maybe_check, which bounds how often it really asks).
        self._version_check = version_check

    def enqueue_orphaned(self, *, everything: bool = False) -> list[str]:
        """Defers a reconcile for each load balancer left PENDING without a job; with
        everything, for every load balancer (at startup: amphorae that died with the host are
        recreated, configs re-pushed). Returns the ids that got a new job."""
        with self._uow.transaction() as session:
            ids = list(session.scalars(_ALL if everything else _ORPHANED))
            return [lb_id for lb_id in ids if self._queue.enqueue(session, lb_id)]

    async def release_stalled_jobs(self) -> int:
        """Jobs left `doing` by a worker whose heartbeat stopped (killed process or host) hold
        their load balancer's lock forever. They are marked failed, which frees the lock; the
        load balancer is still PENDING, so enqueue_orphaned gives it a fresh job."""
        stalled = await self._app.job_manager.get_stalled_jobs(
            task_name=RECONCILE_TASK, seconds_since_heartbeat=self._stalled_after
        )
        count = 0
        for job in stalled:
            log.warning("releasing job %s of a dead worker (lock %s)", job.id, job.lock)
            await self._app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            count += 1
        return count

    def count_queue(self) -> dict[str, int]:
        """The reconcile jobs by state (metrics.QUEUE_STATES, and any other found); sets the
        queue gauge, which every worker's sweep refreshes."""
        with self._uow.transaction() as session:
            found = {state: n for state, n in session.execute(_QUEUE, {"task": RECONCILE_TASK})}
        counts = {**dict.fromkeys(metrics.QUEUE_STATES, 0), **found}
        for state, n in counts.items():
            metrics.QUEUE_JOBS.labels(state).set(n)
        return counts

    async def sweep_once(self) -> list[str]:
        await self.release_stalled_jobs()
        enqueued = await asyncio.to_thread(self.enqueue_orphaned)
        if enqueued:
            log.info("sweep re-enqueued reconciles for %s", ", ".join(enqueued))
        await asyncio.to_thread(self.count_queue)
        return enqueued

    async def _check_versions(self) -> None:
        try:
            await self._version_check()  # type: ignore[misc]
        except Exception:
            log.exception("renderer version check failed")

    async def run_forever(self, interval: float) -> None:
        # The version check (and the roll it may start) runs beside the sweep, one at a time,
        # so a long roll never delays the crash-safety sweep.
        check: asyncio.Task[None] | None = None
        try:
            while True:
                try:
                    await self.sweep_once()
                except Exception:
                    log.exception("sweep failed; trying again in %.1fs", interval)
                if self._version_check is not None and (check is None or check.done()):
                    check = asyncio.create_task(self._check_versions(), name="renderer-versions")
                await asyncio.sleep(interval)
        finally:
            if check is not None and not check.done():
                check.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await check
