"""The procrastinate app the in-process worker runs, with the reconcile task registered."""

from __future__ import annotations

from collections.abc import Mapping

import procrastinate

from services.common import tracing
from services.orchestrator.adapters.job_queue import RECONCILE_TASK
from services.orchestrator.jobs.reconcile import Reconciler


def build_worker_app(database_url: str, reconciler: Reconciler) -> procrastinate.App:
    """database_url is a libpq URI; the worker uses psycopg 3 (async, LISTEN/NOTIFY)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=database_url))

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
