"""The management API (administrators only): a load balancer's config preview, its forced
re-push (resync), and the diagnostics and log tails of an amphora's agent.

The preview renders the load balancer's desired state as the reconcile pass would (same graph,
certificates, VRRP targets and compute size per amphora) with the renderer deployed now, and
compares each rendering's hash with what the amphora has applied; nothing is pushed and
nothing is locked. Diagnostics and logs relay the agent's own answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from lbaas.orchestrator.v1 import management_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput, Precondition
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.adapters.db.models import AmphoraRow
from services.orchestrator.codec import encode
from services.orchestrator.config import Settings
from services.orchestrator.domain import amphora_lifecycle as life
from services.orchestrator.domain import config_preview, pairs, sizes, status
from services.orchestrator.service_layer import amphorae, loadbalancers
from services.orchestrator.service_layer.common import Deps, Scope, alive, lock_loadbalancer

if TYPE_CHECKING:
    from services.orchestrator.jobs.reconcile import Drivers

T = TypeVar("T")

# GetAmphoraLogs: lines of each log when the request says 0, and at most.
DEFAULT_LOG_LINES = 100
MAX_LOG_LINES = 1000


@dataclass(frozen=True)
class _Amphora:
    id: str
    agent_address: str
    role: str
    address: str
    compute_flavor: str
    applied_config_hash: str
    applied_renderer_version: str


@dataclass(frozen=True)
class _Desired:
    backend: str
    vip_address: str
    topology: str
    graph: Any  # lbaas.common.v1.LoadBalancer without objects being deleted
    amphorae: tuple[_Amphora, ...]


def _serving(session: Session, lb_id: str, *, lock: bool = False) -> list[AmphoraRow]:
    """The amphorae serving the load balancer: ALLOCATED and not marked for replacement."""
    query = (
        select(AmphoraRow)
        .where(AmphoraRow.load_balancer_id == lb_id, AmphoraRow.status == life.ALLOCATED)
        .order_by(AmphoraRow.created_at, AmphoraRow.id)
    )
    if lock:
        query = query.with_for_update()
    return [a for a in session.scalars(query) if a.agent_address and not a.failover_requested]


def _read_desired(session: Session, scope: Scope, lb_id: str) -> _Desired:
    lb = loadbalancers.get(session, scope, lb_id)
    serving = _serving(session, lb.id)
    if not serving:
        raise Precondition(f"Load Balancer {lb.id} has no amphora serving it yet.", field="id")
    return _Desired(
        lb.backend,
        lb.vip_address,
        lb.topology,
        encode.loadbalancer(lb, include=alive),
        tuple(
            _Amphora(
                a.id,
                a.agent_address,
                a.role,
                a.lb_network_ip or "",
                a.compute_flavor,
                a.applied_config_hash or "",
                a.applied_renderer_version or "",
            )
            for a in serving
        ),
    )


def resync(session: Session, deps: Deps, scope: Scope, lb_id: str) -> list[str]:
    """ConfigureAmphora for every serving amphora of the load balancer, in one transaction: its
    next reconcile pass (deferred here) re-renders and force-pushes each (the agent validates,
    swaps and reloads even an identical config). The load balancer's status does not change."""
    lb = lock_loadbalancer(session, lb_id, scope, field="id")
    if lb.provisioning_status == status.PENDING_DELETE:
        raise Precondition(f"Load Balancer {lb.id} is being deleted.", field="id")
    serving = _serving(session, lb.id, lock=True)
    if not serving:
        raise Precondition(f"Load Balancer {lb.id} has no amphora serving it yet.", field="id")
    for row in serving:
        row.configure_requested = True
    session.flush()
    deps.queue.enqueue(session, lb.id)
    return [row.id for row in serving]


class Management:
    """The I/O side of the management API: the agents and the renderers."""

    def __init__(self, uow: UnitOfWork, drivers: Drivers, settings: Settings) -> None:
        self._uow = uow
        self._d = drivers
        self._settings = settings

    async def _db(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self._uow.run, work)

    # -- config preview ----------------------------------------------------------------------

    async def preview(self, scope: Scope, lb_id: str) -> pb.PreviewLoadBalancerConfigResponse:
        desired = await self._db(lambda s: _read_desired(s, scope, lb_id))
        renderer = self._d.renderer(desired.backend)
        try:
            materials = await asyncio.to_thread(self._d.certificates.resolve, desired.graph)
        except (InvalidInput, Precondition) as err:
            raise _unrenderable(err) from err
        vrrps: dict[str, Any] = dict.fromkeys((a.id for a in desired.amphorae), None)
        if desired.topology == pairs.ACTIVE_STANDBY:
            vrrps = pairs.vrrp_targets(
                [pairs.Half(a.id, a.role, a.address) for a in desired.amphorae],
                self._settings.vrrp_advert_interval,
                self._d.network.prefix_length,
            )

        async def one(amphora: _Amphora) -> management_pb2.AmphoraConfigPreview:
            info = await self._d.agent.get_info(amphora.agent_address, amphora.id)
            try:
                rendered = await renderer.render(
                    desired.graph,
                    info,
                    desired.vip_address,
                    materials,
                    vrrp=vrrps[amphora.id],
                    size=sizes.of(self._settings.compute_flavors, amphora.compute_flavor),
                )
            except (InvalidInput, Precondition) as err:
                raise _unrenderable(err) from err
            applied_hash = info.applied_config_hash or amphora.applied_config_hash
            differs = applied_hash != rendered.config_hash
            diff = ""
            if differs:
                applied = await self._d.agent.get_applied_config(amphora.agent_address, amphora.id)
                diff = config_preview.diff(applied.files, rendered.files)
            return management_pb2.AmphoraConfigPreview(
                amphora_id=amphora.id,
                role=amphora.role,
                config_hash=rendered.config_hash,
                renderer_version=rendered.renderer_version,
                files=[
                    management_pb2.PreviewFile(
                        path=f.path,
                        mode=f.mode,
                        content=f.content,
                        redacted=f.redacted,
                        sha256=f.sha256,
                    )
                    for f in config_preview.shown(rendered.files)
                ],
                applied_config_hash=applied_hash,
                applied_renderer_version=(
                    info.applied_renderer_version or amphora.applied_renderer_version
                ),
                differs=differs,
                diff=diff,
            )

        previews = await asyncio.gather(*(one(a) for a in desired.amphorae))
        return pb.PreviewLoadBalancerConfigResponse(
            loadbalancer_id=lb_id,
            differs=any(p.differs for p in previews),
            amphorae=previews,
        )

    # -- an amphora's agent ------------------------------------------------------------------

    async def _agent_of(self, amphora_id: str) -> tuple[str, str]:
        """(agent address, load balancer id) of the amphora; Precondition without an agent."""

        def read(session: Session) -> tuple[str, str]:
            row = amphorae.get(session, amphora_id)
            return row.agent_address or "", row.load_balancer_id or ""

        address, lb_id = await self._db(read)
        if not address:
            raise Precondition(f"Amphora {amphora_id} has no agent to ask yet.", field="id")
        return address, lb_id

    async def diagnostics(self, amphora_id: str) -> pb.GetAmphoraDiagnosticsResponse:
        address, lb_id = await self._agent_of(amphora_id)
        found = await self._d.agent.get_diagnostics(address, amphora_id)
        return pb.GetAmphoraDiagnosticsResponse(
            amphora_id=amphora_id, loadbalancer_id=lb_id, diagnostics=found
        )

    async def logs(self, amphora_id: str, lines: int) -> pb.GetAmphoraLogsResponse:
        if lines > MAX_LOG_LINES:
            raise InvalidInput(
                f"lines must be at most {MAX_LOG_LINES}, not {lines}.", field="lines"
            )
        address, _ = await self._agent_of(amphora_id)
        tails = await self._d.agent.get_logs(address, amphora_id, lines or DEFAULT_LOG_LINES)
        return pb.GetAmphoraLogsResponse(amphora_id=amphora_id, logs=tails)


def _unrenderable(err: InvalidInput | Precondition) -> Precondition:
    """A refusal while previewing is a fact about the desired state, not about the request."""
    return Precondition(
        f"The load balancer's desired state cannot be rendered now: {err.user_message}",
        field="id",
        operator_detail=err.operator_detail,
    )
