"""Entry point: python -m services.health (settings -> bootstrap -> serve)."""

from __future__ import annotations

from dataclasses import replace

import prometheus_client
import uvloop

from services.common import logs, metrics, tracing
from services.common.internal_tls import HEALTH, InternalTLS
from services.common.server import run_until_signalled
from services.health import bootstrap
from services.health.config import Settings
from services.health.metrics import HealthCollector


async def main(settings: Settings) -> None:
    app = await bootstrap.start(settings)
    if metrics.enabled():
        prometheus_client.REGISTRY.register(HealthCollector(app))
    await run_until_signalled(app.grpc_server, on_stop=app.close)


if __name__ == "__main__":
    logs.configure("health")
    metrics.serve("health")
    tracing.setup_tracing("health")
    # uvloop: twice the heartbeats per second of the default loop (python -m bench.heartbeats).
    uvloop.run(main(replace(Settings.from_env(), tls=InternalTLS.from_env(HEALTH))))
