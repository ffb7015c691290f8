"""python -m services.orchestrator: settings -> bootstrap -> serve until SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from services.common import logs
from services.common.server import run_until_signalled
from services.orchestrator.bootstrap import build
from services.orchestrator.config import Settings
from services.orchestrator.server import serve


async def main() -> None:
    settings = Settings.from_env()
    running = await serve(build(settings), api=settings.serves_api, worker=settings.runs_worker)
    await run_until_signalled(running.server, on_stop=running.stop_worker)
    await running.orchestrator.worker_app.close_async()
    running.orchestrator.queue.close()
    running.orchestrator.engine.dispose()


if __name__ == "__main__":
    logs.configure("orchestrator")
    if logging.getLogger().level > logging.DEBUG:
        # procrastinate logs every job deferred, started and finished at INFO: three lines per
        # change beside the reconcile pass's own. Its warnings and errors still show; all of
        # it with LBAAS_LOG_LEVEL=DEBUG.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    asyncio.run(main())
