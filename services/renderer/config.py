"""Renderer settings, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.common.internal_tls import InternalTLS

SUPPORTED_BACKENDS = ("haproxy", "nginx", "f5-as3")
# Each backend is its own service; its bind address is LBAAS_RENDERER_<BACKEND>_ADDR (the
# orchestrator reads the same variables to find them).
DEFAULT_ADDRESSES = {
    "haproxy": "127.0.0.1:9891",
    "nginx": "127.0.0.1:9894",
    "f5-as3": "127.0.0.1:9895",
}


def address_variable(backend: str) -> str:
    """LBAAS_RENDERER_HAPROXY_ADDR, LBAAS_RENDERER_NGINX_ADDR, LBAAS_RENDERER_F5_AS3_ADDR."""
    return f"LBAAS_RENDERER_{backend.upper().replace('-', '_')}_ADDR"


@dataclass(frozen=True)
class Settings:
    backend: str
    bind_address: str
    log_level: str
    # A directory of templates that replaces the packaged ones, with the version it is known by
    # (a minor update ships exactly this: new templates, new version). Empty: the packaged ones.
    template_dir: str = ""
    version_override: str = ""
    # Its identity on the internal mutual-TLS network (None: a plaintext port, in-process tests).
    tls: InternalTLS | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        backend = env.get("LBAAS_RENDERER_BACKEND", "haproxy").strip().lower()
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"LBAAS_RENDERER_BACKEND={backend!r}: "
                f"expected one of {', '.join(SUPPORTED_BACKENDS)}"
            )
        template_dir = env.get("LBAAS_RENDERER_TEMPLATE_DIR", "")
        version = env.get("LBAAS_RENDERER_VERSION", "")
        if template_dir and not version:
            raise ValueError("LBAAS_RENDERER_TEMPLATE_DIR needs LBAAS_RENDERER_VERSION")
        return cls(
            backend=backend,
            bind_address=env.get(address_variable(backend), DEFAULT_ADDRESSES[backend]),
            log_level=env.get("LBAAS_LOG_LEVEL", "INFO").upper(),
            template_dir=template_dir,
            version_override=version,
        )
