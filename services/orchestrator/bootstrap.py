"""The one place the orchestrator's adapters are built and injected (tests inject fakes here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import procrastinate
from sqlalchemy import Engine

from services.orchestrator.adapters.db.changes import ChangeFeed
from services.orchestrator.adapters.db.engine import UnitOfWork, make_engine
from services.orchestrator.adapters.job_queue import ProcrastinateReconcileQueue
from services.orchestrator.adapters.network_loopback import (
    LoopbackNetworkDriver,
    netns_network_driver,
)
from services.orchestrator.adapters.pki import FileCertificateAuthority
from services.orchestrator.config import (
    RENDERER_DEFAULT_ADDRESSES,
    TOPOLOGIES_BY_DRIVER,
    Settings,
)
from services.orchestrator.domain import features
from services.orchestrator.domain.netns_layout import NetnsLayout
from services.orchestrator.domain.ports import (
    AgentClient,
    CertificateAuthority,
    CertificateStore,
    ComputeDriver,
    Renderer,
)
from services.orchestrator.handlers.orchestrator import OrchestratorServicer
from services.orchestrator.jobs.cert_rotation import CertificateRotator
from services.orchestrator.jobs.housekeeping import Chore, Housekeeper
from services.orchestrator.jobs.reconcile import Drivers, Reconciler
from services.orchestrator.jobs.roll import Roller
from services.orchestrator.jobs.spares import SparePool
from services.orchestrator.jobs.sweep import Sweeper
from services.orchestrator.jobs.worker import build_worker_app
from services.orchestrator.service_layer.common import Deps
from services.orchestrator.service_layer.feature_gate import FeatureGate
from services.orchestrator.service_layer.management import Management
from services.orchestrator.service_layer.quotas import SESSION_DEFAULTS_KEY


@dataclass
class Orchestrator:
    settings: Settings
    engine: Engine
    uow: UnitOfWork
    queue: ProcrastinateReconcileQueue
    reconciler: Reconciler
    roller: Roller
    worker_app: procrastinate.App
    sweeper: Sweeper
    housekeeper: Housekeeper
    servicer: OrchestratorServicer


def build(
    settings: Settings,
    *,
    compute: ComputeDriver | None = None,
    agent: AgentClient | None = None,
    renderer: Renderer | None = None,
    renderers: Mapping[str, Renderer] | None = None,
    ca: CertificateAuthority | None = None,
    certificates: CertificateStore | None = None,
) -> Orchestrator:
    """Builds every adapter; the real compute/agent/renderer adapters are imported lazily so a
    test that injects fakes does not need them.

    settings.compute_driver (LBAAS_COMPUTE_DRIVER) "noop" pairs the noop compute driver with the
    noop agent client (there is no agent to talk to); the renderer stays the real one.

    renderers maps each backend type to its renderer; renderer (tests) serves every backend;
    without either, one GrpcRenderer per backend at LBAAS_RENDERER_<BACKEND>_ADDR."""
    ca = ca or FileCertificateAuthority(
        settings.run_dir / "ca",
        validity=settings.cert_validity,
        renew_before=settings.cert_renew_before,
    )
    if settings.compute_driver == "noop":
        from services.orchestrator.adapters.agent_noop import NoopAgentClient
        from services.orchestrator.adapters.compute_noop import NoopComputeDriver

        compute = compute or NoopComputeDriver()
        agent = agent or NoopAgentClient()
    if compute is None and settings.compute_driver == "netns":
        from services.orchestrator.adapters.compute_netns import NetnsComputeDriver

        compute = NetnsComputeDriver(
            settings.run_dir,
            settings.health_udp_addrs or settings.health_udp_addr,
            settings.heartbeat_key_file,
            settings.heartbeat_interval,
            bridge=settings.netns_bridge,
            layout=NetnsLayout(settings.netns_cidr),
            agent_log_args=settings.log_offload.agent_args(),
        )
    if compute is None and settings.compute_driver == "remote":
        from services.orchestrator.adapters.compute_remote import RemoteComputeDriver

        compute = RemoteComputeDriver(
            settings.compute_addr,
            settings.health_udp_addrs or settings.health_udp_addr,
            settings.heartbeat_key_file,
            settings.heartbeat_interval,
            tls=settings.tls,
        )
    if compute is None:
        from services.orchestrator.adapters.compute_local import LocalComputeDriver

        compute = LocalComputeDriver(
            settings.run_dir,
            settings.health_udp_addrs or settings.health_udp_addr,
            settings.heartbeat_key_file,
            settings.heartbeat_interval,
            agent_log_args=settings.log_offload.agent_args(),
        )
    if agent is None:
        from services.orchestrator.adapters.agent_client import GrpcAgentClient

        agent = GrpcAgentClient(ca)
    renderers = _renderers(settings, renderer, renderers)
    engine = make_engine(settings.sqlalchemy_url)
    uow = UnitOfWork(engine, session_info={SESSION_DEFAULTS_KEY: dict(settings.quota_defaults)})
    network = (
        netns_network_driver(NetnsLayout(settings.netns_cidr))
        if settings.compute_driver == "netns"
        else LoopbackNetworkDriver()
    )
    queue = ProcrastinateReconcileQueue()
    if certificates is None:
        certificates = _certificate_store(uow, settings.run_dir)  # type: ignore[assignment]
    drivers = Drivers(
        compute=compute,
        agent=agent,
        renderers=renderers,
        ca=ca,
        network=network,
        queue=queue,
        certificates=certificates,
    )
    reconciler = Reconciler(uow, drivers, settings)
    roller = Roller(uow, drivers, settings)
    worker_app = build_worker_app(settings.database_url, reconciler)
    sweeper = Sweeper(
        uow,
        queue,
        worker_app,
        settings.stalled_worker_timeout,
        version_check=lambda: roller.maybe_check(settings.renderer_check_interval),
    )
    housekeeper = Housekeeper(engine, [Chore("spares", SparePool(uow, drivers, settings).run)])
    housekeeper.add(Chore("certificates", CertificateRotator(uow, drivers, settings).run))
    if settings.compute_driver in ("local", "netns"):
        from services.orchestrator.adapters.compute_local import LocalComputeDriver

        if isinstance(compute, LocalComputeDriver):  # netns too: each agent's own key file
            housekeeper.add(Chore("heartbeat keys", compute.sync_heartbeat_keys))
    if settings.compute_driver == "remote":
        from services.orchestrator.adapters.compute_remote import RemoteComputeDriver

        if isinstance(compute, RemoteComputeDriver):  # the compute host's agents, over the wire
            housekeeper.add(Chore("heartbeat keys", compute.sync_heartbeat_keys))
    if settings.compute_driver == "netns":
        from services.orchestrator.adapters.compute_netns import NetnsComputeDriver
        from services.orchestrator.jobs.orphans import OrphanNamespaces

        if isinstance(compute, NetnsComputeDriver):
            housekeeper.add(Chore("orphan namespaces", OrphanNamespaces(uow, settings.run_dir).run))
    changes = ChangeFeed()
    changes.install(uow.sessions)
    servicer = OrchestratorServicer(
        uow,
        Deps(
            network=network,
            queue=queue,
            topologies=TOPOLOGIES_BY_DRIVER[settings.compute_driver],
            sizes=settings.compute_flavors,
        ),
        FeatureGate(
            renderers,
            standing=features.deployment(
                settings.log_offload.protocol,
                bool(settings.log_offload.tenant_targets or settings.log_offload.admin_targets),
            ),
        ),
        roller=roller,
        management=Management(uow, drivers, settings),
        certificate_driver=certificates,
        changes=changes,
    )
    return Orchestrator(
        settings=settings,
        engine=engine,
        uow=uow,
        queue=queue,
        reconciler=reconciler,
        roller=roller,
        worker_app=worker_app,
        sweeper=sweeper,
        housekeeper=housekeeper,
        servicer=servicer,
    )


def _certificate_store(uow: UnitOfWork, run_dir: Path) -> object:
    """The configured certificate driver (both CertificateStore for reconcile and
    CertificateDriver for the API); openstacksdk is imported only for the barbican driver."""
    from services.orchestrator.certificates_config import CertificateSettings

    cert_settings = CertificateSettings.from_env(run_dir)
    if cert_settings.driver == "barbican":
        from services.orchestrator.adapters.certificates_barbican import BarbicanCertificateStore

        return BarbicanCertificateStore(uow, cert_settings.barbican)  # type: ignore[arg-type]
    from services.orchestrator.adapters.certificates_local import LocalCertificateStore

    return LocalCertificateStore(uow, cert_settings.key_file)  # type: ignore[arg-type]


def _renderers(
    settings: Settings, renderer: Renderer | None, renderers: Mapping[str, Renderer] | None
) -> dict[str, Renderer]:
    if renderers is not None:
        return dict(renderers)
    if renderer is not None:
        return dict.fromkeys(RENDERER_DEFAULT_ADDRESSES, renderer)
    from services.orchestrator.adapters.renderer_client import GrpcRenderer

    return {
        backend: GrpcRenderer(
            settings.renderer_address(backend), tls=settings.tls, log_offload=settings.log_offload
        )
        for backend in RENDERER_DEFAULT_ADDRESSES
    }
