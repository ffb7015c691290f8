"""Settings of the health service, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    grpc_addr: str = "127.0.0.1:9892"
    udp_addr: str = "127.0.0.1:9893"
    orchestrator_addr: str = "127.0.0.1:9890"
    key_file: Path = Path(".run/heartbeat.keys")
    # An amphora not heard from for this long is stale (its load balancer goes ERROR).
    stale_after: float = 10.0
    # A heartbeat whose sent_at is further than this from our clock is dropped (replay window).
    max_clock_skew: float = 30.0
    # Deadline of every call to the orchestrator.
    rpc_timeout: float = 3.0
    # How long a fetched load-balancer graph is reused for one applied config hash.
    graph_ttl: float = 5.0
    # Statuses are resent this often even when unchanged, to heal a lost or overwritten update.
    resend_interval: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        run_dir = Path(env.get("LBAAS_RUN_DIR", "./.run")).absolute()
        key_file = env.get("LBAAS_HEARTBEAT_KEY_FILE") or str(run_dir / "heartbeat.keys")
        return cls(
            grpc_addr=env.get("LBAAS_HEALTH_ADDR", cls.grpc_addr),
            udp_addr=env.get("LBAAS_HEALTH_UDP_ADDR", cls.udp_addr),
            orchestrator_addr=env.get("LBAAS_ORCHESTRATOR_ADDR", cls.orchestrator_addr),
            key_file=Path(key_file),
            stale_after=_positive(env, "LBAAS_HEALTH_STALE_AFTER", cls.stale_after),
            max_clock_skew=_positive(env, "LBAAS_HEALTH_MAX_CLOCK_SKEW", cls.max_clock_skew),
        )


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {raw!r}")
    return value


def split_host_port(address: str) -> tuple[str, int]:
    """'127.0.0.1:9893' or '[::1]:9893' -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)
