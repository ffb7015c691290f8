"""Settings of the health service, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.common.internal_tls import InternalTLS

# Agents' heartbeat interval (LBAAS_HEARTBEAT_INTERVAL, which the orchestrator passes to each
# agent); the stale window defaults to STALE_INTERVALS of them.
DEFAULT_HEARTBEAT_INTERVAL = 0.5
STALE_INTERVALS = 3


@dataclass(frozen=True)
class Settings:
    grpc_addr: str = "127.0.0.1:9892"
    udp_addr: str = "127.0.0.1:9893"
    orchestrator_addr: str = "127.0.0.1:9890"
    key_file: Path = Path(".run/heartbeat.keys")
    # libpq URI of the database holding health state (shared with the orchestrator's).
    database_url: str = ""
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    # An amphora not heard from for this long is stale: it is failed over (unless the circuit
    # breaker or the hold-off stops it) and its load balancer's operating status goes ERROR.
    stale_after: float = DEFAULT_HEARTBEAT_INTERVAL * STALE_INTERVALS
    # The failover circuit breaker opens when at least this many amphorae, and at least this
    # share of the fleet, are stale at once.
    breaker_count: int = 3
    breaker_percent: float = 20.0
    # A heartbeat whose sent_at is further than this from our clock is dropped (replay window).
    max_clock_skew: float = 30.0
    # Deadline of every call to the orchestrator.
    rpc_timeout: float = 3.0
    # How long a fetched load-balancer graph is reused for one applied config hash.
    graph_ttl: float = 5.0
    # Statuses are resent this often even when unchanged, to heal a lost or overwritten update.
    resend_interval: float = 30.0
    # Batches of heartbeats are written at most this often (seconds).
    write_interval: float = 0.02
    # Transitional, off by default: also accept heartbeats signed with a master key itself, as
    # agents from before per-amphora heartbeat keys sign (counted and logged). Off, such an
    # agent's heartbeats are dropped (master_key) and its amphora goes stale and is failed
    # over to one with a key of its own.
    accept_master_key: bool = False
    # Its identity on the internal mutual-TLS network (None: plaintext, in-process tests).
    tls: InternalTLS | None = None

    @property
    def check_interval(self) -> float:
        """How often the fleet is checked for stale amphorae."""
        return min(0.25, self.stale_after / 4)

    @property
    def suspect_after(self) -> float:
        """Silence the failover breaker counts (domain.failover): half the stale window, and
        more than a heartbeat interval, so that amphorae silenced at one moment (their last
        heartbeats spread over an interval) are all counted by the time the first is stale."""
        return max(self.stale_after / 2, min(self.heartbeat_interval * 1.2, self.stale_after))

    @property
    def failover_confirm(self) -> float:
        """How long an amphora stays stale before it is failed over: one more check."""
        return self.check_interval

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        run_dir = Path(env.get("LBAAS_RUN_DIR", "./.run")).absolute()
        key_file = env.get("LBAAS_HEARTBEAT_KEY_FILE") or str(run_dir / "heartbeat.keys")
        database_url = env.get("DATABASE_URL", "")
        if not database_url:
            raise ValueError("DATABASE_URL is required (the launcher provides it)")
        interval = _positive(env, "LBAAS_HEARTBEAT_INTERVAL", DEFAULT_HEARTBEAT_INTERVAL)
        return cls(
            grpc_addr=env.get("LBAAS_HEALTH_ADDR", cls.grpc_addr),
            udp_addr=env.get("LBAAS_HEALTH_UDP_ADDR", cls.udp_addr),
            orchestrator_addr=env.get("LBAAS_ORCHESTRATOR_ADDR", cls.orchestrator_addr),
            key_file=Path(key_file),
            database_url=libpq_uri(database_url),
            heartbeat_interval=interval,
            stale_after=_positive(env, "LBAAS_HEALTH_STALE_AFTER", interval * STALE_INTERVALS),
            breaker_count=int(_non_negative(env, "LBAAS_FAILOVER_BREAKER_COUNT", 3)),
            breaker_percent=_non_negative(env, "LBAAS_FAILOVER_BREAKER_PERCENT", 20.0),
            max_clock_skew=_positive(env, "LBAAS_HEALTH_MAX_CLOCK_SKEW", cls.max_clock_skew),
            accept_master_key=_flag(env, "LBAAS_HEALTH_ACCEPT_MASTER_KEY"),
        )


def libpq_uri(url: str) -> str:
    """postgresql+<driver>://... (SQLAlchemy style) -> postgresql://... (what psycopg takes)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"DATABASE_URL is not a URL: {url!r}")
    if not scheme.startswith("postgres"):
        raise ValueError(f"DATABASE_URL is not a PostgreSQL URL: {scheme!r}")
    return f"postgresql://{rest}"


def _number(env: Mapping[str, str], name: str, default: float, *, zero_ok: bool) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero_ok):
        raise ValueError(f"{name} must be {'0 or more' if zero_ok else 'positive'}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name} must be true or false, got {env[name]!r}")


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, zero_ok=False)


def _non_negative(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, zero_ok=True)


def split_host_port(address: str) -> tuple[str, int]:
    """'127.0.0.1:9893' or '[::1]:9893' -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)
