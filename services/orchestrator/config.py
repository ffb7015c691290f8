"""Orchestrator settings, read once from the environment into a frozen object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from services.common.internal_tls import InternalTLS
from services.common.log_offload import LogOffload
from services.orchestrator.domain.sizes import DEFAULT_CATALOG, Size, parse_catalog


def sqlalchemy_url(libpq_uri: str) -> str:
    """The SQLAlchemy URL (psycopg 3) for a libpq URI such as postgresql://u:@/db?host=/sock.
    psycopg 3 binds parameters on the server and prepares a statement a connection runs
    repeatedly (from its fifth run), so the statements of every change and pass are planned
    once per connection, not on every run as with psycopg2's client-side interpolation."""
    parts = urlsplit(libpq_uri)
    if parts.scheme not in ("postgresql", "postgres") and not parts.scheme.startswith(
        "postgresql+"
    ):
        raise ValueError(f"not a PostgreSQL URL: {parts.scheme!r}")
    return urlunsplit(("postgresql+psycopg", *parts[1:]))


def libpq_uri(url: str) -> str:
    """The plain libpq URI (what psycopg 3 and procrastinate take) for any of our URL forms."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


@dataclass(frozen=True)
class Settings:
    database_url: str  # libpq URI
    run_dir: Path
    bind_addr: str
    renderer_haproxy_addr: str
    health_udp_addr: str
    # The master heartbeat keys: each agent gets only keys derived from them for its amphora.
    heartbeat_key_file: Path
    heartbeat_interval: float
    sweep_interval: float = 3.0
    # Unavailable errors (agent, renderer, compute) are retried this many times, with exponential
    # backoff capped at retry_max_delay, before the load balancer goes to ERROR.
    job_max_attempts: int = 8
    job_retry_base_delay: float = 1.0
    job_retry_max_delay: float = 30.0
    # How long a job waits for a freshly started agent to answer GetInfo.
    agent_wait_timeout: float = 30.0
    worker_concurrency: int = 8
    worker_heartbeat_interval: float = 2.0
    # A worker silent for this long is dead; its "doing" jobs are released by the sweep.
    stalled_worker_timeout: float = 10.0
    # "local" (agent processes on this host), "netns" (each amphora a network namespace on a
    # bridge, root only; ACTIVE_STANDBY pairs), "remote" (the local driver's amphorae on a
    # compute host of their own, services/orchestrator/compute_host/, at compute_addr) or "noop" (amphorae
    # that exist only in the database, with an agent that accepts every config: for API tests
    # and benchmarks).
    compute_driver: str = "local"
    # The compute host of the `remote` driver (LBAAS_COMPUTE_ADDR).
    compute_addr: str = "127.0.0.1:9897"
    # The netns drivers' bridge and its subnet (LBAAS_NETNS_BRIDGE, LBAAS_NETNS_CIDR): see
    # domain/netns_layout.py for how the subnet is split between the host, VIPs and amphorae.
    netns_bridge: str = "lbaas-br0"
    netns_cidr: str = "10.240.0.0/16"
    # keepalived advert interval of ACTIVE_STANDBY pairs (LBAAS_VRRP_ADVERT_INTERVAL, seconds,
    # in steps of 0.01; VRRPv3 allows down to 0.01): the BACKUP takes the VIP after about three.
    vrrp_advert_interval: float = 0.1
    # The compute sizes a flavor's compute_flavor may name (LBAAS_COMPUTE_FLAVORS; domain/sizes.py).
    compute_flavors: dict[str, Size] = field(default_factory=lambda: dict(DEFAULT_CATALOG))
    # How long a retired amphora (resize, operator failover) is given to finish the
    # connections under way before it goes (LBAAS_DRAIN_TIMEOUT, seconds).
    drain_timeout: float = 10.0
    # Default per-project limits (-1 = unlimited, as Octavia), by quota resource name.
    quota_defaults: dict[str, int] = field(default_factory=dict)
    # Renderer service address per backend type (LBAAS_RENDERER_<BACKEND>_ADDR, the variables
    # the renderers bind to); renderer_haproxy_addr stays the haproxy one.
    renderer_addrs: dict[str, str] = field(default_factory=dict)
    # A minor update (a renderer with a new version) re-renders every load balancer of that
    # backend and pushes the changed configs to this many amphorae at a time.
    roll_concurrency: int = 4
    # How often the sweep asks each renderer for its version (a new one starts a roll).
    renderer_check_interval: float = 30.0
    # Ready amphorae (agent up, no config) kept per backend (LBAAS_SPARE_POOL_SIZE), used by
    # creates and failovers and refilled by housekeeping.
    spare_pool: dict[str, int] = field(default_factory=dict)
    # How often housekeeping runs (spare pool, certificate rotation); one worker at a time.
    housekeeping_interval: float = 2.0
    # Lifetime of the certificates the internal CA issues to amphorae and to the controller, and
    # how long before expiry housekeeping renews them (LBAAS_CERT_VALIDITY,
    # LBAAS_CERT_RENEW_BEFORE; seconds). Octavia: two years and two weeks.
    cert_validity: float = 365 * 86400.0
    cert_renew_before: float = 30 * 86400.0
    # An amphora that served and whose agent stays unreachable this long during a pass is
    # failed over (a new one is built) instead of being waited for (LBAAS_FAILOVER_UNREACHABLE_AFTER).
    unreachable_failover_after: float = 10.0
    # Every health receiver the agents send heartbeats to (LBAAS_HEALTH_UDP_ADDRS, comma
    # separated; default: health_udp_addr alone).
    health_udp_addrs: tuple[str, ...] = ()
    # What this process does (LBAAS_ORCHESTRATOR_ROLE), as Octavia's api / worker split:
    # "api" serves OrchestratorService; "worker" runs the reconcile jobs, the sweep and the
    # renderer version check (its gRPC port serves only grpc.health); "all" does both.
    role: str = "all"
    # Where amphorae send their logs and whether they keep them on disk (LBAAS_TENANT_LOG_TARGETS,
    # LBAAS_ADMIN_LOG_TARGETS, LBAAS_LOG_PROTOCOL, LBAAS_DISABLE_LOCAL_LOG_STORAGE): rendered into
    # every config (Target.log_offload) and passed to every agent the compute driver starts.
    log_offload: LogOffload = field(default_factory=LogOffload)
    # Its identity on the internal mutual-TLS network, set by the entry point (None: plaintext,
    # in-process tests).
    tls: InternalTLS | None = None

    @property
    def serves_api(self) -> bool:
        return self.role in ("all", "api")

    @property
    def runs_worker(self) -> bool:
        return self.role in ("all", "worker")

    def renderer_address(self, backend: str) -> str:
        if backend == "haproxy":
            return self.renderer_addrs.get(backend) or self.renderer_haproxy_addr
        return self.renderer_addrs.get(backend) or RENDERER_DEFAULT_ADDRESSES[backend]

    @property
    def sqlalchemy_url(self) -> str:
        return sqlalchemy_url(self.database_url)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        url = env.get("DATABASE_URL", "")
        if not url:
            raise ValueError("DATABASE_URL is required (the launcher provides it)")
        run_dir = Path(env.get("LBAAS_RUN_DIR", "./.run")).resolve()
        return cls(
            database_url=libpq_uri(url),
            run_dir=run_dir,
            bind_addr=bind_address(env),
            renderer_haproxy_addr=env.get(
                renderer_address_variable("haproxy"), RENDERER_DEFAULT_ADDRESSES["haproxy"]
            ),
            renderer_addrs={
                backend: env.get(renderer_address_variable(backend), default)
                for backend, default in RENDERER_DEFAULT_ADDRESSES.items()
            },
            roll_concurrency=positive_int(env, "LBAAS_ORCHESTRATOR_ROLL_CONCURRENCY", "4"),
            renderer_check_interval=float(
                env.get("LBAAS_ORCHESTRATOR_RENDERER_CHECK_INTERVAL", "30.0")
            ),
            health_udp_addr=env.get("LBAAS_HEALTH_UDP_ADDR", "127.0.0.1:9893"),
            heartbeat_key_file=Path(
                env.get("LBAAS_HEARTBEAT_KEY_FILE", str(run_dir / "heartbeat.keys"))
            ),
            heartbeat_interval=positive_float(
                env, "LBAAS_HEARTBEAT_INTERVAL", str(DEFAULT_HEARTBEAT_INTERVAL)
            ),
            health_udp_addrs=health_udp_addrs(env),
            spare_pool=spare_pool(env.get("LBAAS_SPARE_POOL_SIZE", DEFAULT_SPARE_POOL)),
            housekeeping_interval=positive_float(env, "LBAAS_HOUSEKEEPING_INTERVAL", "2.0"),
            cert_validity=positive_float(env, "LBAAS_CERT_VALIDITY", str(365 * 86400)),
            cert_renew_before=positive_float(env, "LBAAS_CERT_RENEW_BEFORE", str(30 * 86400)),
            unreachable_failover_after=positive_float(
                env, "LBAAS_FAILOVER_UNREACHABLE_AFTER", "10.0"
            ),
            sweep_interval=float(env.get("LBAAS_ORCHESTRATOR_SWEEP_INTERVAL", "3.0")),
            job_max_attempts=int(env.get("LBAAS_ORCHESTRATOR_JOB_MAX_ATTEMPTS", "8")),
            job_retry_base_delay=float(env.get("LBAAS_ORCHESTRATOR_JOB_RETRY_DELAY", "1.0")),
            job_retry_max_delay=float(env.get("LBAAS_ORCHESTRATOR_JOB_RETRY_MAX_DELAY", "30.0")),
            agent_wait_timeout=float(env.get("LBAAS_ORCHESTRATOR_AGENT_WAIT", "30.0")),
            compute_driver=compute_driver(env.get("LBAAS_COMPUTE_DRIVER", "local")),
            compute_addr=env.get("LBAAS_COMPUTE_ADDR") or "127.0.0.1:9897",
            netns_bridge=interface_name(env.get("LBAAS_NETNS_BRIDGE", "lbaas-br0")),
            netns_cidr=netns_cidr(env.get("LBAAS_NETNS_CIDR", "10.240.0.0/16")),
            vrrp_advert_interval=advert_interval(env.get("LBAAS_VRRP_ADVERT_INTERVAL", "0.1")),
            compute_flavors=(
                parse_catalog(env["LBAAS_COMPUTE_FLAVORS"])
                if env.get("LBAAS_COMPUTE_FLAVORS")
                else dict(DEFAULT_CATALOG)
            ),
            drain_timeout=positive_float(env, "LBAAS_DRAIN_TIMEOUT", "10.0"),
            quota_defaults=quota_defaults(env),
            role=role(env.get("LBAAS_ORCHESTRATOR_ROLE", "all")),
            log_offload=LogOffload.from_env(env),
        )


# Agents send a heartbeat this often (seconds); the health service's stale window defaults to
# three of them (services/health/config.py reads the same variable).
DEFAULT_HEARTBEAT_INTERVAL = 0.5
# One ready haproxy amphora: a create or failover takes it instead of starting an agent.
DEFAULT_SPARE_POOL = "haproxy=1"


def positive_float(env: Mapping[str, str], name: str, default: str) -> float:
    raw = env.get(name) or default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {raw!r}")
    return value


def health_udp_addrs(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("LBAAS_HEALTH_UDP_ADDRS", "")
    addrs = tuple(a.strip() for a in raw.split(",") if a.strip())
    return addrs or (env.get("LBAAS_HEALTH_UDP_ADDR", "127.0.0.1:9893"),)


def spare_pool(raw: str) -> dict[str, int]:
    """LBAAS_SPARE_POOL_SIZE: "N" (every amphora backend) or "backend=N[,backend=N]"."""
    raw = raw.strip()
    if not raw:
        return {}
    if raw.isdigit():
        return dict.fromkeys(RENDERER_DEFAULT_ADDRESSES, int(raw))
    out: dict[str, int] = {}
    for part in raw.split(","):
        backend, sep, count = part.strip().partition("=")
        if not sep or backend not in RENDERER_DEFAULT_ADDRESSES or not count.strip().isdigit():
            raise ValueError(
                "LBAAS_SPARE_POOL_SIZE must be a count or backend=count pairs "
                f"(backends: {', '.join(RENDERER_DEFAULT_ADDRESSES)}), not {raw!r}"
            )
        out[backend] = int(count)
    return out


ROLES = ("all", "api", "worker")
WORKER_DEFAULT_ADDRESS = "127.0.0.1:9896"


def bind_address(env: Mapping[str, str]) -> str:
    """A worker-only process binds its health port to LBAAS_ORCHESTRATOR_WORKER_ADDR, so it can
    run beside the API process, which keeps LBAAS_ORCHESTRATOR_ADDR (the gateway's target)."""
    if env.get("LBAAS_ORCHESTRATOR_ROLE") == "worker":
        return env.get("LBAAS_ORCHESTRATOR_WORKER_ADDR", WORKER_DEFAULT_ADDRESS)
    return env.get("LBAAS_ORCHESTRATOR_ADDR", "127.0.0.1:9890")


def role(value: str) -> str:
    if value not in ROLES:
        raise ValueError(
            f"LBAAS_ORCHESTRATOR_ROLE must be one of {', '.join(ROLES)}, not {value!r}"
        )
    return value


COMPUTE_DRIVERS = ("local", "netns", "remote", "noop")
# What each compute driver can build (a flavor's loadbalancer_topology).
TOPOLOGIES_BY_DRIVER = {
    "local": ("SINGLE",),
    "netns": ("SINGLE", "ACTIVE_STANDBY"),
    "remote": ("SINGLE",),
    "noop": ("SINGLE", "ACTIVE_STANDBY"),
}
# The backends an amphora can run (a flavor profile's "backend"), with the default address of
# each one's renderer service (the renderer's own defaults: services/renderer/config.py).
RENDERER_DEFAULT_ADDRESSES = {"haproxy": "127.0.0.1:9891", "nginx": "127.0.0.1:9894"}


def renderer_address_variable(backend: str) -> str:
    """LBAAS_RENDERER_HAPROXY_ADDR, LBAAS_RENDERER_NGINX_ADDR."""
    return f"LBAAS_RENDERER_{backend.upper().replace('-', '_')}_ADDR"


def positive_int(env: dict[str, str], name: str, default: str) -> int:
    raw = env.get(name, default)
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be 1 or more, not {raw!r}")
    return value


QUOTA_RESOURCES = (
    "load_balancer",
    "listener",
    "pool",
    "health_monitor",
    "member",
    "l7policy",
    "l7rule",
)


def compute_driver(name: str) -> str:
    if name not in COMPUTE_DRIVERS:
        raise ValueError(f"LBAAS_COMPUTE_DRIVER must be one of {COMPUTE_DRIVERS}, not {name!r}")
    return name


def quota_defaults(env: dict[str, str]) -> dict[str, int]:
    """LBAAS_QUOTA_<RESOURCE> (for example LBAAS_QUOTA_LOAD_BALANCER=10); unset means -1."""
    out = {}
    for resource in QUOTA_RESOURCES:
        raw = env.get(f"LBAAS_QUOTA_{resource.upper()}", "-1")
        value = int(raw)
        if value < -1:
            raise ValueError(f"LBAAS_QUOTA_{resource.upper()} must be -1 or more, not {raw!r}")
        out[resource] = value
    return out


def interface_name(name: str) -> str:
    """A Linux interface name: 1 to 15 characters of letters, digits, "-", "_" and "."."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}", name):
        raise ValueError(f"LBAAS_NETNS_BRIDGE must be an interface name (max 15), not {name!r}")
    return name


def netns_cidr(value: str) -> str:
    from services.orchestrator.domain.netns_layout import NetnsLayout

    try:
        return NetnsLayout(value).cidr
    except ValueError as err:
        raise ValueError(f"LBAAS_NETNS_CIDR: {err}") from None


def advert_interval(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"LBAAS_VRRP_ADVERT_INTERVAL must be seconds, not {raw!r}") from None
    if not 0.01 <= value <= 40.95 or abs(round(value * 100) - value * 100) > 1e-6:
        raise ValueError(
            "LBAAS_VRRP_ADVERT_INTERVAL must be 0.01 to 40.95 seconds in steps of 0.01 "
            f"(VRRPv3), not {raw!r}"
        )
    return value
