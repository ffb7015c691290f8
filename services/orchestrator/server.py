"""Runs the orchestrator: schema upgrade, gRPC server, in-process worker, sweep; clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import grpc
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from services.common.server import ServiceBinding, full_name, start_server
from services.orchestrator.adapters.db.engine import upgrade_to_head
from services.orchestrator.bootstrap import Orchestrator

log = logging.getLogger(__name__)


@dataclass
class Running:
    orchestrator: Orchestrator
    server: grpc.aio.Server
    port: int
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def stop_worker(self) -> None:
        """Stops the job worker and the sweep (running jobs are aborted; the sweep of this or
        another replica re-enqueues what they left PENDING)."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()

    async def stop(self, grace: float = 5.0) -> None:
        await self.server.stop(grace)
        await self.stop_worker()
        await self.orchestrator.worker_app.close_async()
        self.orchestrator.queue.close()
        self.orchestrator.engine.dispose()


# A safety net: LISTEN/NOTIFY wakes the worker for a new job (procrastinate's insert trigger)
# and for a job whose lock a finished job released (migration 0011); this fetch finds what a
# lost notification (a reconnect) left waiting, and delayed retries.
FETCH_JOB_POLLING_INTERVAL = 1.0


def start_worker(orch: Orchestrator, *, sweep: bool = True) -> list[asyncio.Task]:
    s = orch.settings
    tasks = [
        asyncio.create_task(
            orch.worker_app.run_worker_async(
                concurrency=s.worker_concurrency,
                install_signal_handlers=False,
                update_heartbeat_interval=s.worker_heartbeat_interval,
                stalled_worker_timeout=s.stalled_worker_timeout,
                fetch_job_polling_interval=FETCH_JOB_POLLING_INTERVAL,
                # A finished pass leaves nothing to keep: without this every change would leave
                # a job row and its event rows behind for good. Failed jobs stay for inspection.
                delete_jobs="successful",
            ),
            name="procrastinate-worker",
        )
    ]
    if sweep:
        tasks.append(asyncio.create_task(orch.sweeper.run_forever(s.sweep_interval), name="sweep"))
        tasks.append(
            asyncio.create_task(
                orch.housekeeper.run_forever(s.housekeeping_interval), name="housekeeping"
            )
        )
    return tasks


async def serve(
    orch: Orchestrator, address: str | None = None, *, api: bool = True, worker: bool = True
) -> Running:
    """api: serve OrchestratorService (and follow the change feed for its list etags); worker:
    run the reconcile jobs and the sweep. Either way the port serves grpc.health.v1, so a
    worker-only process is probed like every other service."""
    await asyncio.to_thread(upgrade_to_head, orch.engine)
    await orch.worker_app.open_async()
    bindings = (
        [
            ServiceBinding(
                orch.servicer,
                pb_grpc.add_OrchestratorServiceServicer_to_server,
                full_name(pb, "OrchestratorService"),
            )
        ]
        if api
        else []
    )
    running = Running(
        orch,
        *(await start_server(bindings, address or orch.settings.bind_addr, tls=orch.settings.tls)),
    )
    changes = orch.servicer.changes
    listener = (
        [asyncio.create_task(changes.listen(orch.settings.database_url), name="change-listener")]
        if api and changes is not None
        else []
    )
    if worker:
        # After a restart every load balancer is reconciled once: amphorae that died with the
        # host are recreated (is_alive is false) and their config pushed again.
        enqueued = await asyncio.to_thread(orch.sweeper.enqueue_orphaned, everything=True)
        log.info("startup: reconcile enqueued for %d load balancers", len(enqueued))
        running.tasks = start_worker(orch)
    running.tasks.extend(listener)
    log.info(
        "orchestrator (%s) serving on port %d",
        "+".join(part for part, on in (("api", api), ("worker", worker)) if on),
        running.port,
    )
    return running
