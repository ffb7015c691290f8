"""Entry point: python -m services.orchestrator.compute_host (settings -> bootstrap -> serve).

Stopping it leaves its amphorae running, as stopping an orchestrator worker leaves those of the
`local` driver: a restarted compute host finds them again by their compute ids. (Stopping its
container stops them: the amphorae of a compute host live as long as it does.)"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from services.common import metrics, tracing
from services.common.internal_tls import COMPUTE, InternalTLS
from services.common.logs import configure
from services.common.server import run_until_signalled
from services.orchestrator.compute_host.config import Settings
from services.orchestrator.compute_host.server import serve

log = logging.getLogger("services.orchestrator.compute_host")


async def main() -> None:
    settings = replace(Settings.from_env(), tls=InternalTLS.from_env(COMPUTE))
    configure("compute")
    metrics.serve("compute")
    tracing.setup_tracing("compute")
    server, port = await serve(settings)
    log.info(
        "compute host serving on %s (port %d); agents reached at %s, listening on %s",
        settings.bind_address,
        port,
        settings.agent_host,
        settings.agent_listen_host,
    )
    await run_until_signalled(server)


if __name__ == "__main__":
    asyncio.run(main())
