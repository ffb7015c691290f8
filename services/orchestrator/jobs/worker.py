"""The procrastinate app the in-process worker runs, with the reconcile task registered."""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping
from typing import Any

import procrastinate
import psycopg
import psycopg_pool

from services.common import tracing
from services.orchestrator.adapters.db.engine import IDLE_PING_AFTER
from services.orchestrator.adapters.job_queue import RECONCILE_TASK
from services.orchestrator.jobs.reconcile import Reconciler


def job_pool(
    *, idle_ping_after: float = IDLE_PING_AFTER, **kwargs: Any
) -> psycopg_pool.AsyncConnectionPool:
    """The worker's connection pool (procrastinate's pool_factory), made for one round trip per
    job query instead of three:
    - autocommit: each of procrastinate's statements is a transaction of its own (they are
      single statements, its fetch and finish functions included), so no COMMIT follows them;
    - a connection is pinged before use only after sitting idle for more than idle_ping_after
      seconds, as the engine's (adapters/db/engine.py), instead of on every checkout
      (procrastinate asks for psycopg_pool's check_connection). A dead idle connection is
      replaced before use; one that died within the window fails its query once, which
      procrastinate's worker retries with the next fetch."""
    returned: weakref.WeakKeyDictionary[psycopg.AsyncConnection, float] = (
        weakref.WeakKeyDictionary()
    )

    async def configure(conn: psycopg.AsyncConnection) -> None:
        await conn.set_autocommit(True)

    async def reset(conn: psycopg.AsyncConnection) -> None:
        returned[conn] = time.monotonic()

    async def check(conn: psycopg.AsyncConnection) -> None:
        since = returned.get(conn)
        if since is None or time.monotonic() - since > idle_ping_after:
            await psycopg_pool.AsyncConnectionPool.check_connection(conn)

    return psycopg_pool.AsyncConnectionPool(
        **{**kwargs, "configure": configure, "reset": reset, "check": check}
    )


def build_worker_app(database_url: str, reconciler: Reconciler) -> procrastinate.App:
    """database_url is a libpq URI; the worker uses psycopg 3 (async, LISTEN/NOTIFY)."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=database_url, pool_factory=job_pool)
    )

    @app.task(name=RECONCILE_TASK)
    async def reconcile_loadbalancer(
        loadbalancer_id: str, trace_context: Mapping[str, str] | None = None
    ) -> None:
        # trace_context (job_queue.TRACE_CONTEXT_ARG): the pass is a span of the trace of the
        # call that deferred the job, so its renderer and agent calls join that trace.
        with tracing.job_span(
            "reconcile", trace_context, {"lbaas.loadbalancer_id": loadbalancer_id}
        ):
            await reconciler.run(loadbalancer_id)

    return app
