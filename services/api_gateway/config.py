"""Gateway settings, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.api_gateway.input_guard import DEFAULT_MAX_BODY
from services.common.internal_tls import InternalTLS


@dataclass(frozen=True)
class Settings:
    api_host: str = "127.0.0.1"
    api_port: int = 9876
    orchestrator_addr: str = "127.0.0.1:9890"
    # The health service, for listener statistics.
    health_addr: str = "127.0.0.1:9892"
    run_dir: Path = Path(".run").absolute()
    tokens_file: Path = Path(".run/tokens.yaml").absolute()
    # Deadline, in seconds, of every call to the orchestrator and the health service.
    rpc_timeout: float = 10.0
    # Largest request body, in bytes; larger ones are answered 413 (input_guard.py).
    max_request_body: int = DEFAULT_MAX_BODY
    # Its identity on the internal mutual-TLS network (None: plaintext, in-process tests).
    tls: InternalTLS | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        run_dir = Path(env.get("LBAAS_RUN_DIR") or ".run").absolute()
        tokens = env.get("LBAAS_TOKENS_FILE") or str(run_dir / "tokens.yaml")
        return cls(
            api_host=env.get("LBAAS_API_HOST") or "127.0.0.1",
            api_port=int(env.get("LBAAS_API_PORT") or 9876),
            orchestrator_addr=env.get("LBAAS_ORCHESTRATOR_ADDR") or "127.0.0.1:9890",
            health_addr=env.get("LBAAS_HEALTH_ADDR") or "127.0.0.1:9892",
            run_dir=run_dir,
            tokens_file=Path(tokens).absolute(),
            rpc_timeout=float(env.get("LBAAS_API_RPC_TIMEOUT") or 10.0),
            max_request_body=_positive(env, "LBAAS_MAX_REQUEST_BODY", DEFAULT_MAX_BODY),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be a positive number of bytes, not {raw!r}")
    return value
