"""Logging setup shared by every controller service."""

from __future__ import annotations

import logging
import os


def configure(service: str) -> None:
    level = os.environ.get("LBAAS_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("grpc").setLevel(logging.WARNING)
