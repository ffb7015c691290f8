"""Entry point: settings -> bootstrap -> uvicorn."""

from __future__ import annotations

import uvicorn

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.common import logs


def main() -> None:
    logs.configure("api_gateway")
    settings = Settings.from_env()
    app = bootstrap(settings)
    uvicorn.run(
        app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=True
    )


if __name__ == "__main__":
    main()
