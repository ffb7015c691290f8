"""Entry point: settings -> bootstrap -> uvicorn."""

from __future__ import annotations

from dataclasses import replace

import uvicorn

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.api_gateway.observability import ApiMetrics
from services.common import logs, metrics, tracing
from services.common.internal_tls import GATEWAY, InternalTLS

SERVICE = "api-gateway"


def main() -> None:
    logs.configure(SERVICE)
    # Before bootstrap: the orchestrator client measures its calls only in a process that
    # serves metrics, on a port of their own (never the REST port, which tenants reach).
    metrics.serve(SERVICE)
    settings = replace(Settings.from_env(), tls=InternalTLS.from_env(GATEWAY))
    app = bootstrap(settings)
    tracing.setup_tracing(SERVICE, asgi_app=app)
    uvicorn.run(
        ApiMetrics(app) if metrics.enabled() else app,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=True,
    )


if __name__ == "__main__":
    main()
