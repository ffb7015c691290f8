"""Entry point: python -m services.renderer (settings -> bootstrap -> serve)."""

from __future__ import annotations

import logging
from dataclasses import replace

import uvloop

from services.common import metrics, tracing
from services.common.internal_tls import RENDERER, InternalTLS
from services.common.logs import configure
from services.common.server import run_until_signalled
from services.renderer.config import Settings
from services.renderer.server import serve

log = logging.getLogger("services.renderer")


async def main() -> None:
    settings = replace(Settings.from_env(), tls=InternalTLS.from_env(RENDERER))
    configure(f"renderer-{settings.backend}")
    metrics.serve(f"renderer-{settings.backend}")
    tracing.setup_tracing(f"renderer-{settings.backend}")
    server, port = await serve(settings)
    log.info("renderer %s serving on %s (port %d)", settings.backend, settings.bind_address, port)
    await run_until_signalled(server)


if __name__ == "__main__":
    uvloop.run(main())
