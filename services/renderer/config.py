"""Renderer settings, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

SUPPORTED_BACKENDS = ("haproxy",)


@dataclass(frozen=True)
class Settings:
    backend: str
    bind_address: str
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        backend = env.get("LBAAS_RENDERER_BACKEND", "haproxy").strip().lower()
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"LBAAS_RENDERER_BACKEND={backend!r}: "
                f"expected one of {', '.join(SUPPORTED_BACKENDS)}"
            )
        return cls(
            backend=backend,
            bind_address=env.get("LBAAS_RENDERER_HAPROXY_ADDR", "127.0.0.1:9891"),
            log_level=env.get("LBAAS_LOG_LEVEL", "INFO").upper(),
        )
