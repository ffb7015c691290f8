"""Composition root: builds the health service's adapters and wires them to the domain."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import grpc

from services.health import metrics
from services.health.adapters.db.store import PostgresHealthStore
from services.health.adapters.key_file import KeyFile
from services.health.adapters.orchestrator_client import GrpcOrchestrator
from services.health.adapters.udp import start_receiver
from services.health.config import Settings, split_host_port
from services.health.domain.amphora_keys import AmphoraKeys
from services.health.domain.batch import PendingBeats
from services.health.domain.drops import DropCounts, DropRecorder
from services.health.domain.failover import BreakerPolicy, FailoverGate
from services.health.domain.intake import HeartbeatIntake
from services.health.domain.ports import HealthStore, Orchestrator
from services.health.domain.replay import ReplayGuard
from services.health.domain.reporter import StatusReporter
from services.health.domain.watch import StaleWatch
from services.health.domain.writer import BatchWriter
from services.health.server import serve

log = logging.getLogger(__name__)


@dataclass
class HealthApp:
    """A running health service; tests read its parts directly."""

    settings: Settings
    store: HealthStore
    intake: HeartbeatIntake
    drop_recorder: DropRecorder
    writer: BatchWriter
    gate: FailoverGate
    watch: StaleWatch
    reporter: StatusReporter
    grpc_server: grpc.aio.Server
    grpc_port: int
    udp_port: int
    _udp_transport: object
    _orchestrator_client: GrpcOrchestrator | None
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @property
    def drops(self) -> DropCounts:
        return self.drop_recorder.counts

    async def stop(self, grace: float = 1.0) -> None:
        """Stops the gRPC server too; use close() when the server was stopped elsewhere."""
        await self.grpc_server.stop(grace)
        await self.close()

    async def close(self) -> None:
        """Every step is bounded: a stop must end even if a call in flight never answers."""
        self._udp_transport.close()  # type: ignore[attr-defined]
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await _bounded(asyncio.wait(self._tasks, timeout=_CLOSE_STEP), "background tasks")
        # What was received but not yet written goes now (a clean stop loses nothing).
        await _bounded(self.writer.flush(), "last heartbeats")
        await _bounded(self.reporter.close(), "status reports")
        if self._orchestrator_client is not None:
            await _bounded(self._orchestrator_client.close(), "orchestrator channel")
        close = getattr(self.store, "close", None)
        if close is not None:
            await _bounded(close(), "database pool")


# How long each step of a stop may take.
_CLOSE_STEP = 5.0


async def _bounded(awaitable, what: str) -> None:
    """Awaits, for at most _CLOSE_STEP; a step that does not end is left behind (logged)."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=_CLOSE_STEP)
    if not done:
        task.cancel()
        log.warning("stopping: %s did not end within %.0fs; left behind", what, _CLOSE_STEP)
        return
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()


async def start(
    settings: Settings,
    *,
    orchestrator: Orchestrator | None = None,
    store: HealthStore | None = None,
) -> HealthApp:
    """Upgrades the health tables, starts the UDP receiver, the writer, the stale watch and the
    gRPC server."""
    client = None
    if orchestrator is None:
        client = GrpcOrchestrator(
            settings.orchestrator_addr, timeout=settings.rpc_timeout, tls=settings.tls
        )
        orchestrator = client
    if store is None:
        pg = PostgresHealthStore(settings.database_url)
        await pg.upgrade()
        await pg.open()
        store = pg
    replay = ReplayGuard(settings.max_clock_skew)
    try:
        for state in await store.replay_state():
            replay.seed(state.amphora_id, state.boot_id, state.sequence, state.sent_at)
    except Exception as err:  # the database is down: start anyway, the gate holds off
        log.warning("replay state not loaded: %s", err)
    gate = FailoverGate(
        BreakerPolicy(settings.breaker_count, settings.breaker_percent),
        settings.stale_after,
        time.monotonic(),
        confirm_after=settings.failover_confirm,
    )
    pending = PendingBeats()
    writer = BatchWriter(
        pending,
        store,
        min_interval=settings.write_interval,
        on_failure=lambda why: gate.interrupt(time.monotonic(), why),
        on_written=metrics.heartbeats_written,
    )
    drops = DropRecorder()
    reporter = StatusReporter(
        orchestrator,
        graph_ttl=settings.graph_ttl,
        resend_interval=settings.resend_interval,
        drift_after=settings.heartbeat_interval,
    )

    def accepted(heartbeat) -> None:
        writer.notify()
        if heartbeat.leaving:
            reporter.forget(heartbeat.amphora_id)
        else:
            reporter.submit(heartbeat)

    if settings.accept_master_key:
        log.warning(
            "LBAAS_HEALTH_ACCEPT_MASTER_KEY is on: heartbeats signed with the master key are "
            "accepted, so any amphora holding it can forge any other's health"
        )
    intake = HeartbeatIntake(
        keyring=KeyFile(settings.key_file),
        amphora_keys=AmphoraKeys(),
        accept_master_key=settings.accept_master_key,
        replay=replay,
        pending=pending,
        drops=drops,
        on_accepted=accepted,
        wall_clock=time.time,
        monotonic_clock=time.monotonic,
    )

    def forget(amphora_id: str) -> None:
        replay.forget(amphora_id)
        reporter.forget(amphora_id)

    watch = StaleWatch(
        store,
        gate,
        orchestrator,
        stale_after=settings.stale_after,
        suspect_after=settings.suspect_after,
        interval=settings.check_interval,
        behind=lambda: writer.behind,
        on_stale=reporter.report_stale,
        on_forget=forget,
    )
    host, port = split_host_port(settings.udp_addr)
    transport, udp_port = await start_receiver(host, port, intake.receive)
    try:
        server, grpc_port = await serve(
            store,
            settings.grpc_addr,
            stale_after=settings.stale_after,
            gate=gate,
            watch=watch,
            tls=settings.tls,
        )
    except BaseException:
        transport.close()
        if client is not None:
            await client.close()
        raise
    tasks = [
        asyncio.create_task(writer.run(), name="health-writer"),
        asyncio.create_task(watch.run_forever(), name="health-stale-watch"),
    ]
    log.info(
        "health service: gRPC on port %d, heartbeats on UDP %s:%d, orchestrator at %s, "
        "stale after %.1fs",
        grpc_port,
        host,
        udp_port,
        settings.orchestrator_addr,
        settings.stale_after,
    )
    return HealthApp(
        settings=settings,
        store=store,
        intake=intake,
        drop_recorder=drops,
        writer=writer,
        gate=gate,
        watch=watch,
        reporter=reporter,
        grpc_server=server,
        grpc_port=grpc_port,
        udp_port=udp_port,
        _udp_transport=transport,
        _orchestrator_client=client,
        _tasks=tasks,
    )
