"""python -m services.orchestrator: settings -> bootstrap -> serve until SIGTERM."""

from __future__ import annotations

import logging
from dataclasses import replace

import uvloop

from services.common import logs, metrics, tracing
from services.common.internal_tls import ORCHESTRATOR, WORKER, InternalTLS
from services.common.server import run_until_signalled
from services.orchestrator.bootstrap import build
from services.orchestrator.config import Settings
from services.orchestrator.server import serve


def service_name(settings: Settings) -> str:
    """How this process is known in logs, metrics and traces: by its role."""
    return "orchestrator" if settings.role == "all" else f"orchestrator-{settings.role}"


async def main(settings: Settings) -> None:
    tracing.setup_tracing(service_name(settings))
    identity = ORCHESTRATOR if settings.serves_api else WORKER
    settings = replace(settings, tls=InternalTLS.from_env(identity))
    running = await serve(build(settings), api=settings.serves_api, worker=settings.runs_worker)
    await run_until_signalled(running.server, on_stop=running.stop_worker)
    await running.orchestrator.worker_app.close_async()
    running.orchestrator.queue.close()
    running.orchestrator.engine.dispose()


if __name__ == "__main__":
    settings = Settings.from_env()
    logs.configure(service_name(settings))
    if logging.getLogger().level > logging.DEBUG:
        # procrastinate logs every job deferred, started and finished at INFO: three lines per
        # change beside the reconcile pass's own. Its warnings and errors still show; all of
        # it with LBAAS_LOG_LEVEL=DEBUG.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    metrics.serve(service_name(settings))
    uvloop.run(main(settings))
