"""Deferring reconcile jobs (procrastinate) inside the caller's SQLAlchemy transaction."""

from __future__ import annotations

import datetime as dt
import json

from procrastinate.jobs import DEFAULT_QUEUE, Job
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session

from services.common import tracing

RECONCILE_TASK = "reconcile_loadbalancer"
# The optional job argument with the W3C trace context of the call that deferred the job
# (jobs/worker.py makes the pass a span under it). Jobs from before it, or deferred with
# tracing off, have none. A job's arguments are those of the defer that wrote it: a defer that
# is coalesced into a waiting job leaves that job's context.
TRACE_CONTEXT_ARG = "trace_context"

# Removes the load balancer's waiting job when it is due after `due` (after now when NULL): a
# retry backing off, which a sooner job replaces. clock_timestamp(), not now(): the caller's
# transaction may have started a while ago. A job a worker is taking at this instant is locked
# by that worker; once it is `doing` it no longer matches and stays.
_DROP_LATER = text(
    """
    DELETE FROM procrastinate_jobs
     WHERE queueing_lock = :lock AND status = 'todo'
       AND scheduled_at > COALESCE(:due, clock_timestamp())
    """
).bindparams(bindparam("due", type_=DateTime(timezone=True)))


# procrastinate's defer (procrastinate_defer_jobs_v1 inserts the row; its triggers notify the
# workers and write the event row), written so that a job already waiting with the same
# queueing lock makes it write nothing instead of raising a unique violation: one statement, no
# savepoint around it (procrastinate's defer would abort the caller's transaction).
_DEFER_UNLESS_WAITING = text(
    """
    INSERT INTO procrastinate_jobs
           (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
    VALUES (:queue, :task, :priority, :lock, :queueing_lock, CAST(:args AS jsonb), :scheduled_at)
    ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING
    RETURNING id
    """
).bindparams(bindparam("scheduled_at", type_=DateTime(timezone=True)))


# Jobs for load balancers created by the caller's transaction (none can have a job yet): one
# statement for any number of them, as procrastinate's batch defer.
_DEFER_NEW = text(
    """
    INSERT INTO procrastinate_jobs
           (queue_name, task_name, priority, lock, queueing_lock, args)
    SELECT :queue, :task, :priority, job.lb_id, job.lb_id, CAST(job.args AS jsonb)
      FROM unnest(CAST(:lb_ids AS text[]), CAST(:args AS text[])) AS job(lb_id, args)
    """
)


class ProcrastinateReconcileQueue:
    """Defers `reconcile_loadbalancer(loadbalancer_id)` with lock = queueing_lock = the id.

    The job row is written through the session's own connection, so it commits with the change
    that caused it (no lost job if the process dies right after commit, no job for a rolled-back
    change). queueing_lock allows one waiting job per load balancer: a second defer while one
    waits is dropped when the waiting job is due no later (that job will read the newer state),
    and replaces it when it is due later (a retry backing off), so a change, a failover or a
    configure is not held until the retry is due. lock serializes running jobs of one load
    balancer across every worker and replica. The rows are written with the statements above
    (procrastinate's job table, whose triggers notify the workers): no procrastinate app or
    connector of its own.
    """

    def enqueue(
        self,
        session: Session,
        loadbalancer_id: str,
        *,
        delay: float | None = None,
        created: bool = False,
    ) -> bool:
        """Defers a pass due now, or after `delay` seconds. True when this call wrote the job
        that will run (none was waiting, or the waiting one was due later and is replaced by
        this one); False when a job due no later already waits and covers this call."""
        job = _job(loadbalancer_id, delay)
        # The plain defer first: it is the common case and one statement (and the only case for
        # a load balancer inserted by this same transaction: it can have no job yet).
        if self._defer_unless_waiting(session, job) or created:
            return True
        # A job waits. Due later, it is deleted and this one deferred in its place: a new row,
        # so procrastinate's insert trigger wakes the workers (an UPDATE of scheduled_at would
        # wait for their next poll). Due no later, the defer writes nothing and it stays.
        session.execute(_DROP_LATER, {"lock": loadbalancer_id, "due": job.scheduled_at})
        return self._defer_unless_waiting(session, job)

    @staticmethod
    def _defer_unless_waiting(session: Session, job: Job) -> bool:
        """Writes the job unless one with its queueing lock waits; True when it wrote it."""
        written = session.execute(
            _DEFER_UNLESS_WAITING,
            {
                "queue": job.queue,
                "task": job.task_name,
                "priority": job.priority,
                "lock": job.lock,
                "queueing_lock": job.queueing_lock,
                "args": json.dumps(job.task_kwargs),
                "scheduled_at": job.scheduled_at,
            },
        ).first()
        return written is not None

    def enqueue_created(self, session: Session, loadbalancer_ids: list[str]) -> None:
        """Jobs for load balancers inserted by this transaction (none of them can have a
        queued job yet), deferred with one statement."""
        if not loadbalancer_ids:
            return
        jobs = [_job(lb_id) for lb_id in loadbalancer_ids]
        session.execute(
            _DEFER_NEW,
            {
                "queue": jobs[0].queue,
                "task": jobs[0].task_name,
                "priority": jobs[0].priority,
                "lb_ids": loadbalancer_ids,
                "args": [json.dumps(job.task_kwargs) for job in jobs],
            },
        )

    def close(self) -> None:
        """Nothing to release: the rows go through the callers' sessions."""


def reconcile_kwargs(loadbalancer_id: str) -> dict[str, object]:
    """The reconcile task's arguments: the load balancer, and the trace context when a traced
    call defers it."""
    kwargs: dict[str, object] = {"loadbalancer_id": loadbalancer_id}
    context = tracing.job_trace_context()
    if context is not None:
        kwargs[TRACE_CONTEXT_ARG] = context
    return kwargs


def _job(loadbalancer_id: str, delay: float | None = None) -> Job:
    return Job(
        queue=DEFAULT_QUEUE,  # the queue of the worker's task (jobs/worker.py)
        lock=loadbalancer_id,
        queueing_lock=loadbalancer_id,
        task_name=RECONCILE_TASK,
        task_kwargs=reconcile_kwargs(loadbalancer_id),
        scheduled_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay) if delay else None,
    )
