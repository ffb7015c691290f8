"""The procrastinate app the in-process worker runs, with the reconcile task registered."""

from __future__ import annotations

import procrastinate

from services.orchestrator.adapters.job_queue import RECONCILE_TASK
from services.orchestrator.jobs.reconcile import Reconciler


def build_worker_app(database_url: str, reconciler: Reconciler) -> procrastinate.App:
    """database_url is a libpq URI; the worker uses psycopg 3 (async, LISTEN/NOTIFY)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=database_url))

    @app.task(name=RECONCILE_TASK)
    async def reconcile_loadbalancer(loadbalancer_id: str) -> None:
        await reconciler.run(loadbalancer_id)

    return app
