"""Deferring reconcile jobs (procrastinate) inside the caller's SQLAlchemy transaction."""

from __future__ import annotations

import contextlib
import datetime as dt

import procrastinate
from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import DEFAULT_QUEUE, Job
from sqlalchemy import Engine
from sqlalchemy.orm import Session

RECONCILE_TASK = "reconcile_loadbalancer"


class ProcrastinateReconcileQueue:
    """Defers `reconcile_loadbalancer(loadbalancer_id)` with lock = queueing_lock = the id.

    The job row is written through the session's own connection, so it commits with the change
    that caused it (no lost job if the process dies right after commit, no job for a rolled-back
    change). queueing_lock allows one waiting job per load balancer: a second defer while one
    waits is dropped (that job will read the newer state). lock serializes running jobs of one
    load balancer across every worker and replica.
    """

    def __init__(self, engine: Engine):
        # A deferring-only app: it shares the database with the worker app, not its connector.
        self._app = procrastinate.App(connector=SQLAlchemyPsycopg2Connector())
        self._app.open(engine)

    def enqueue(
        self,
        session: Session,
        loadbalancer_id: str,
        *,
        delay: float | None = None,
        created: bool = False,
    ) -> bool:
        job = _job(loadbalancer_id, delay)
        # A savepoint, so that the unique violation of a duplicate does not abort the caller's
        # transaction; none for a load balancer inserted by that same transaction, which can
        # have no job yet.
        savepoint = contextlib.nullcontext() if created else session.begin_nested()
        try:
            with savepoint:
                # The job manager directly: the task-level defer adds only two log lines (which
                # the service silences) and half again the Python work.
                self._app.job_manager.defer_job(job, connection=session.connection())
        except AlreadyEnqueued:
            return False
        return True

    def enqueue_created(self, session: Session, loadbalancer_ids: list[str]) -> None:
        """Jobs for load balancers inserted by this transaction (none of them can have a
        queued job yet, so no savepoint), deferred with one statement."""
        self._app.job_manager.batch_defer_jobs(
            [_job(lb_id) for lb_id in loadbalancer_ids], connection=session.connection()
        )

    def close(self) -> None:
        self._app.close()


def _job(loadbalancer_id: str, delay: float | None = None) -> Job:
    return Job(
        queue=DEFAULT_QUEUE,  # the queue of the worker's task (jobs/worker.py)
        lock=loadbalancer_id,
        queueing_lock=loadbalancer_id,
        task_name=RECONCILE_TASK,
        task_kwargs={"loadbalancer_id": loadbalancer_id},
        scheduled_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay) if delay else None,
    )
