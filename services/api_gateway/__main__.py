"""Entry point: settings -> bootstrap -> uvicorn."""

from __future__ import annotations

from dataclasses import replace

import uvicorn

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.common import logs, tracing
from services.common.internal_tls import GATEWAY, InternalTLS


def main() -> None:
    logs.configure("api_gateway")
    settings = replace(Settings.from_env(), tls=InternalTLS.from_env(GATEWAY))
    app = bootstrap(settings)
    tracing.setup_tracing("api-gateway", asgi_app=app)
    uvicorn.run(
        app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=True
    )


if __name__ == "__main__":
    main()
