"""The reconcile job: make the appliances of one load balancer match its desired state."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, case, exists, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from services.common.errors import DomainError, InvalidInput, Precondition, Unavailable
from services.orchestrator import metrics
from services.orchestrator.adapters.db.admin_models import FlavorProfileRow, FlavorRow
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.adapters.db.models import (
    AmphoraRow,
    L7PolicyRow,
    ListenerRow,
    LoadBalancerRow,
    PoolRow,
    every_object,
)
from services.orchestrator.codec import encode
from services.orchestrator.config import Settings
from services.orchestrator.domain import amphora_lifecycle as life
from services.orchestrator.domain import certificates, pairs, sizes, status
from services.orchestrator.domain.ports import (
    RUNTIME_PLAN,
    AgentClient,
    AgentInfo,
    AmphoraSpec,
    CertificateAuthority,
    CertificateStore,
    ComputeDriver,
    NetworkDriver,
    Renderer,
)
from services.orchestrator.jobs import spares
from services.orchestrator.service_layer import amphorae, catalog
from services.orchestrator.service_layer.common import Deps, ReconcileQueue, alive


def _reached_pools(lb: LoadBalancerRow) -> set[str]:
    """Ids of the pools a live listener reaches: its default pool or an L7 redirect target."""
    out: set[str] = set()
    for listener in filter(alive, lb.listeners):
        if listener.default_pool_id:
            out.add(listener.default_pool_id)
        out.update(
            p.redirect_pool_id for p in filter(alive, listener.l7policies) if p.redirect_pool_id
        )
    return out


# Row class -> the object kind status.operating_after_success takes.
_KINDS = {
    "LoadBalancerRow": "loadbalancer",
    "ListenerRow": "listener",
    "PoolRow": "pool",
    "MemberRow": "member",
    "HealthMonitorRow": "healthmonitor",
    "L7PolicyRow": "l7policy",
    "L7RuleRow": "l7rule",
}

log = logging.getLogger(__name__)


class ApplyRejected(DomainError):
    """The agent refused or rolled back the config: retrying the same config cannot help."""


@dataclass(frozen=True)
class Amphora:
    id: str
    compute_id: str
    agent_address: str
    agent_port: int | None
    status: str = life.BOOTING
    # Marked for replacement (failover) or removal (DeleteAmphora): the pass builds or picks
    # another amphora, pushes the config to it, and only then deletes these.
    doomed: bool = False
    configure_requested: bool = False
    role: str = pairs.STANDALONE
    address: str = ""  # its own address (the compute driver's lb network); VRRP source
    compute_flavor: str = sizes.DEFAULT  # the compute size it is built with
    drain: bool = False  # a planned replacement: drained before it goes


@dataclass(frozen=True)
class Snapshot:
    """Desired state of one load balancer as read at `version`."""

    lb_id: str
    version: int
    deleting: bool
    vip_address: str
    graph: Any  # lbaas.common.v1.LoadBalancer without objects being deleted
    amphorae: tuple[Amphora, ...]
    backend: str = "haproxy"  # what its amphorae run, hence which renderer renders it
    topology: str = pairs.SINGLE
    # No listener or pool at all (none being deleted either): the load balancer alone, as
    # after its create; recording the outcome then has no child rows to read.
    childless: bool = False


@dataclass(frozen=True)
class Drivers:
    compute: ComputeDriver
    agent: AgentClient
    renderers: Mapping[str, Renderer]  # backend type -> that backend's renderer service
    ca: CertificateAuthority
    network: NetworkDriver
    queue: ReconcileQueue
    certificates: CertificateStore

    def renderer(self, backend: str) -> Renderer:
        renderer = self.renderers.get(backend)
        if renderer is None:
            raise Precondition(f"No renderer is configured for the {backend} backend.")
        return renderer


def _amphora(row: AmphoraRow) -> Amphora:
    return Amphora(
        row.id,
        row.compute_id,
        row.agent_address,
        row.agent_port,
        status=row.status,
        doomed=bool(row.failover_requested) or row.status == life.PENDING_DELETE,
        configure_requested=bool(row.configure_requested),
        role=row.role,
        address=row.lb_network_ip,
        compute_flavor=row.compute_flavor,
        drain=bool(row.drain_requested),
    )


def _cert_expiration(cert_pem: bytes) -> dt.datetime | None:
    try:
        from cryptography import x509

        return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
    except Exception:  # a fake CA in tests may not issue a parseable certificate
        return None


# The statements of a pass, built once: SQLAlchemy keeps a statement object's cache key on it,
# so reusing one skips building and keying the statement on every pass.
_LOCK = select(LoadBalancerRow).where(LoadBalancerRow.id == bindparam("lb_id")).with_for_update()
# The load balancer, whether it has listeners and pools, and its amphorae (a row each, or one
# row with none): one round trip.
_READ = (
    select(
        LoadBalancerRow,
        exists().where(ListenerRow.load_balancer_id == LoadBalancerRow.id),
        exists().where(PoolRow.load_balancer_id == LoadBalancerRow.id),
        AmphoraRow,
    )
    .outerjoin(AmphoraRow, AmphoraRow.load_balancer_id == LoadBalancerRow.id)
    .where(LoadBalancerRow.id == bindparam("lb_id"))
    .order_by(AmphoraRow.created_at, AmphoraRow.id)
)
# A load balancer's listeners with their L7 policies and rules, and its pools with their
# members and monitors: one query each (joined eager loads keep the relationships' order).
_LISTENERS = (
    select(ListenerRow)
    .where(ListenerRow.load_balancer_id == bindparam("lb_id"))
    .options(joinedload(ListenerRow.l7policies).joinedload(L7PolicyRow.rules))
    .order_by(ListenerRow.created_at)
)
_POOLS = (
    select(PoolRow)
    .where(PoolRow.load_balancer_id == bindparam("lb_id"))
    .options(joinedload(PoolRow.members), joinedload(PoolRow.health_monitors))
    .order_by(PoolRow.created_at)
)
_STILL_TO_REPLACE = select(
    exists().where(
        AmphoraRow.load_balancer_id == bindparam("lb_id"),
        AmphoraRow.failover_requested.is_(True),
    )
)
# A plain (table) UPDATE: SET takes the columns named in the parameters besides `amphora_id`.
# The ORM's bulk UPDATE would also look for the rows in the session, which holds none of them.
_amphora_table = AmphoraRow.__table__
_UPDATE_AMPHORA = _amphora_table.update().where(_amphora_table.c.id == bindparam("amphora_id"))


def _lock(session: Session, lb_id: str) -> LoadBalancerRow | None:
    return session.execute(_LOCK, {"lb_id": lb_id}).scalar_one_or_none()


def _update_amphora_row(session: Session, amphora_id: str, values: Mapping[str, Any]) -> None:
    """A new status is set only where the lifecycle has that move (else the row keeps its own:
    an amphora being removed is not made serving again); the other values are set as given."""
    if "status" not in values:
        session.execute(_UPDATE_AMPHORA, {"amphora_id": amphora_id, **values})
        return
    rest = {k: v for k, v in values.items() if k != "status"}
    new = life.Status(values["status"])
    column = _amphora_table.c.status
    session.execute(
        _amphora_table.update()
        .where(_amphora_table.c.id == amphora_id)
        .values(status=case((column.in_(life.sources_of(new)), new.value), else_=column), **rest)
    )


def _compute_flavor(session: Session, lb: LoadBalancerRow) -> str:
    """The compute size new amphorae of the load balancer get: its flavor's compute_flavor now
    (a resize changes the flavor; a flavor disabled since still builds what it names)."""
    flavor = session.get(FlavorRow, lb.flavor_id) if lb.flavor_id else None
    profile = session.get(FlavorProfileRow, flavor.flavor_profile_id) if flavor else None
    if profile is None:
        return sizes.DEFAULT
    try:
        return catalog.compute_flavor(json.loads(profile.flavor_data))
    except (ValueError, AttributeError):
        return sizes.DEFAULT


def _dead_halves(topology: str, amphorae: list[Amphora]) -> list[str]:
    """The addresses of a pair's halves that are replaced for being dead (an automatic
    failover: not drained, so not planned). Their replacements are built at the same address
    (and MAC), after fencing them: the survivor's haproxy.cfg and keepalived peer stay as they
    were, so its agent reloads no haproxy and the survivor keeps the stick-table entries the
    dead half taught it (haproxy does not hand remote-learned entries to its new process on a
    reload): SOURCE_IP persistence holds past the rebuild. A planned replacement (resize, an
    operator's failover) is alive until drained, so its replacement gets another address."""
    if topology != pairs.ACTIVE_STANDBY:
        return []
    return [a.address for a in amphorae if a.doomed and not a.drain and a.address]


def _one_half_at_a_time(topology: str, amphorae: list[Amphora]) -> list[Amphora]:
    """A pair whose two halves are both to be replaced (a failover of the load balancer) keeps
    its serving MASTER through this pass, so something holds the VIP while the other half is
    rebuilt; the MASTER stays marked and goes in the next pass (_succeed queues it)."""
    if topology != pairs.ACTIVE_STANDBY or any(not a.doomed for a in amphorae):
        return amphorae
    serving = [a for a in amphorae if a.status == life.ALLOCATED and a.compute_id]
    if len(serving) < 2:
        return amphorae
    keep = next((a for a in serving if a.role == pairs.MASTER), serving[0])
    return [replace(a, doomed=False) if a.id == keep.id else a for a in amphorae]


def _roles(topology: str, amphorae: list[Amphora]) -> dict[str, str]:
    live = [a for a in amphorae if not a.doomed]
    return pairs.assign_roles(
        topology, [pairs.Member(a.id, a.role, a.status == life.ALLOCATED) for a in live]
    )


def _roles_change(topology: str, amphorae: list[Amphora]) -> bool:
    roles = _roles(topology, amphorae)
    return any(roles.get(a.id, a.role) != a.role for a in amphorae)


# Reconciler._read without a transaction found rows to write: read again in one.
_WRITES_NEEDED = object()


def _assign_roles(session: Session, topology: str, amphorae: list[Amphora]) -> list[Amphora]:
    """The roles of the live amphorae (pairs.assign_roles), written where they changed."""
    roles = _roles(topology, amphorae)
    out = []
    for amphora in amphorae:
        role = roles.get(amphora.id, amphora.role)
        if role != amphora.role:
            _update_amphora_row(session, amphora.id, {"role": role})
            amphora = replace(amphora, role=role)
        out.append(amphora)
    return out


# Amphorae whose last applied files this process keeps, to ask the renderer for a runtime plan.
APPLIED_FILES_KEPT = 4096


class AppliedFiles:
    """The files this process last applied to each amphora, with their hash (bounded, least
    recently used first out). What an agent reports by hash is known here by content only if
    this process applied it; otherwise (a restart, another worker) the change is a reload."""

    def __init__(self, size: int = APPLIED_FILES_KEPT):
        self._size = size
        self._kept: OrderedDict[str, tuple[str, list[tuple[str, bytes, int]]]] = OrderedDict()

    def get(self, amphora_id: str, config_hash: str) -> list[tuple[str, bytes, int]]:
        kept = self._kept.get(amphora_id)
        if kept is None or not config_hash or kept[0] != config_hash:
            return []
        self._kept.move_to_end(amphora_id)
        return kept[1]

    def put(self, amphora_id: str, config_hash: str, files: list[tuple[str, bytes, int]]) -> None:
        self._kept[amphora_id] = (config_hash, list(files))
        self._kept.move_to_end(amphora_id)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)


def _probe_key(amphora: Amphora) -> tuple[str, str, str]:
    return amphora.id, amphora.compute_id, amphora.agent_address


# How long an agent's last answer to this process stands in for asking it again (GetInfo).
AGENT_ANSWER_FRESH = 10.0


class AgentAnswers:
    """What each agent last told this process (GetInfo, with the applied hash of each ApplyConfig
    it answered since) and when, by amphora (_probe_key: same compute instance, same agent
    address), bounded, least recently used first out. A pass reuses an answer younger than
    `fresh` seconds instead of asking (_Probes): a burst of changes to one load balancer asks
    its agents once. Versions and capabilities change only with the agent's image, that is with
    a new amphora, which is asked; an agent that died since does not take the config, and the
    pass then checks its amphorae as if nothing were known (Reconciler._converge)."""

    def __init__(self, fresh: float | None = None, size: int = APPLIED_FILES_KEPT):
        self._fresh = AGENT_ANSWER_FRESH if fresh is None else fresh
        self._size = size
        self._kept: OrderedDict[tuple[str, str, str], tuple[float, AgentInfo]] = OrderedDict()

    def get(self, amphora: Amphora) -> AgentInfo | None:
        kept = self._kept.get(_probe_key(amphora))
        if kept is None or time.monotonic() - kept[0] >= self._fresh:
            return None
        return kept[1]

    def put(self, amphora: Amphora, info: AgentInfo) -> None:
        key = _probe_key(amphora)
        self._kept[key] = (time.monotonic(), info)
        self._kept.move_to_end(key)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def applied(self, amphora: Amphora, config_hash: str) -> None:
        """The agent answered an ApplyConfig: it runs config_hash now."""
        kept = self._kept.get(_probe_key(amphora))
        if kept is not None:
            self.put(amphora, replace(kept[1], applied_config_hash=config_hash))

    def forget(self, amphora: Amphora) -> None:
        self._kept.pop(_probe_key(amphora), None)


class _Probes:
    """What the agents of the amphorae the last pass of a load balancer served report
    (GetInfo), asked when the next pass starts, while it reads the desired state. For the
    amphorae it then finds the same (same compute instance, same agent address) the pass has
    the answers and does not ask again; one whose agent did not answer gets the pass's own
    checks (is_alive: built again, or waited for). An agent that answers is up: the channel
    checks that the server is that amphora's (agent_client), so the compute driver is not asked
    as well. Passes of a load balancer do not overlap, so what a probe sees is what the pass
    would."""

    def __init__(
        self,
        drivers: Drivers,
        amphorae: tuple[Amphora, ...],
        known: AgentAnswers | None = None,
    ):
        """known: answers fresh enough to stand in for asking (AgentAnswers); the new answers
        go there too."""
        self._d = drivers
        self._known = known
        self._reused: dict[tuple[str, str, str], AgentInfo] = {}
        self._asked: dict[tuple[str, str, str], asyncio.Future[AgentInfo | None]] = {}
        for amphora in amphorae:
            info = known.get(amphora) if known is not None else None
            if info is not None:
                self._reused[_probe_key(amphora)] = info
            else:
                self._asked[_probe_key(amphora)] = asyncio.ensure_future(self._probe(amphora))

    async def _probe(self, amphora: Amphora) -> AgentInfo | None:
        try:
            info = await self._d.agent.get_info(amphora.agent_address, amphora.id)
        except Exception as err:  # the pass's own checks ask again, and handle it
            log.debug("probe of amphora %s: %r", amphora.id, err)
            return None
        if self._known is not None:
            self._known.put(amphora, info)
        return info

    async def answers(self, amphorae: list[Amphora]) -> dict[str, AgentInfo]:
        """Amphora id -> what its agent reported, for those of `amphorae` probed and answering
        (or whose recent answer is reused)."""
        found: dict[str, AgentInfo] = {}
        for amphora in amphorae:
            key = _probe_key(amphora)
            if key in self._reused:
                found[amphora.id] = self._reused[key]
                continue
            asked = self._asked.get(key)
            if asked is not None and (info := await asked) is not None:
                found[amphora.id] = info
        return found

    def reused(self, amphorae: list[Amphora]) -> bool:
        """Whether any of `amphorae` got an earlier answer instead of being asked."""
        return any(_probe_key(a) in self._reused for a in amphorae)

    async def close(self) -> None:
        for asked in self._asked.values():
            asked.cancel()
        await asyncio.gather(*self._asked.values(), return_exceptions=True)


class Reconciler:
    def __init__(self, uow: UnitOfWork, drivers: Drivers, settings: Settings):
        self._uow = uow
        self._d = drivers
        self._settings = settings
        self._applied = AppliedFiles()
        # Load balancer id -> the amphorae its last converged pass in this process served.
        self._served: OrderedDict[str, tuple[Amphora, ...]] = OrderedDict()
        self._answers = AgentAnswers()

    async def run(self, lb_id: str) -> None:
        started = time.perf_counter()
        outcome = metrics.RETRIED  # a pass that raises out of here is retried by the sweep
        try:
            outcome = await self._run(lb_id)
        finally:
            metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
            metrics.RECONCILE_PASSES.labels(outcome).inc()

    async def _run(self, lb_id: str) -> str:
        """One pass; returns its outcome (metrics.OUTCOMES)."""
        # The amphorae the last pass served are asked for their state while the desired state
        # is read (_Probes): a pass that finds the same ones has their answers already.
        probes = _Probes(self._d, self._served.get(lb_id, ()), self._answers)
        try:
            snap = await asyncio.to_thread(self._load, lb_id)
            if snap is None:
                self._served.pop(lb_id, None)
                return metrics.GONE
            return await self._act(snap, probes)
        finally:
            await probes.close()

    async def _act(self, snap: Snapshot, probes: _Probes) -> str:
        lb_id = snap.lb_id
        try:
            if snap.deleting:
                self._served.pop(lb_id, None)
                await self._teardown(snap)
            else:
                await self._converge(snap, probes)
        except (InvalidInput, Precondition, ApplyRejected) as err:
            reason = f"{type(err).__name__}: {err.user_message}"
            log.warning("load balancer %s version %d failed: %s", lb_id, snap.version, reason)
            await asyncio.to_thread(self._fail, lb_id, snap.version, reason)
            return metrics.FAILED
        except Exception as err:  # Unavailable and anything unexpected: retried, then ERROR
            log.warning(
                "load balancer %s version %d: transient failure: %r", lb_id, snap.version, err
            )
            await asyncio.to_thread(self._transient_failure, lb_id, snap.version, err)
            return metrics.RETRIED
        return metrics.SUCCEEDED

    # -- reading desired state ---------------------------------------------------------------

    def _load(self, lb_id: str) -> Snapshot | None:
        """The desired state. A pass that has rows to write reads it in one transaction with
        them: the record of the amphora the pass is to build when none serves (first create,
        failover), whose id is written before the compute driver is called, so a restart reuses
        it instead of leaking one; or a role that changes. Most passes only read (a change to the
        graph): they read without a transaction, which saves its BEGIN and COMMIT round trips
        and reads the same (under READ COMMITTED each statement has its own snapshot inside a
        transaction as well); one that finds rows to write reads again in a transaction."""
        with self._uow.reading() as session:
            snap = self._read(session, lb_id, write=False)
        if snap is not _WRITES_NEEDED:
            return snap
        with self._uow.transaction() as session:
            return self._read(session, lb_id, write=True)

    def _read(self, session: Session, lb_id: str, write: bool) -> Snapshot | None | object:
        """The snapshot; _WRITES_NEEDED when `write` is False and the pass has rows to write."""
        found = session.execute(_READ, {"lb_id": lb_id}).all()
        if not found:
            return None
        lb, has_listeners, has_pools, _ = found[0]
        childless = not has_listeners and not has_pools
        amphorae = [_amphora(row[3]) for row in found if row[3] is not None]
        deleting = lb.provisioning_status == status.PENDING_DELETE
        if not deleting:
            amphorae = _one_half_at_a_time(lb.topology, amphorae)
            missing = pairs.size(lb.topology) - sum(not a.doomed for a in amphorae)
            if not write and (missing > 0 or _roles_change(lb.topology, amphorae)):
                return _WRITES_NEEDED
            size = _compute_flavor(session, lb) if missing else sizes.DEFAULT
            reusable = _dead_halves(lb.topology, amphorae)
            for _ in range(missing):
                if reusable:
                    # Not a spare: built once the dead half is fenced, at its address.
                    amphorae.append(
                        self._record_amphora(session, lb, size, address=reusable.pop(0))
                    )
                    continue
                spare = spares.take(session, lb.backend, lb.id, lb.vip_address, size)
                amphorae.append(
                    _amphora(spare) if spare else self._record_amphora(session, lb, size)
                )
            amphorae = _assign_roles(session, lb.topology, amphorae)
        # The children in one query per kind, each with its own children joined (not a query per
        # listener and per pool, as encoding would make them one by one); none when known empty.
        set_committed_value(
            lb,
            "listeners",
            session.scalars(_LISTENERS, {"lb_id": lb_id}).unique().all() if has_listeners else [],
        )
        set_committed_value(
            lb,
            "pools",
            session.scalars(_POOLS, {"lb_id": lb_id}).unique().all() if has_pools else [],
        )
        return Snapshot(
            lb_id=lb.id,
            version=lb.desired_version,
            deleting=deleting,
            vip_address=lb.vip_address,
            graph=encode.loadbalancer(lb, include=alive),
            amphorae=tuple(amphorae),
            backend=lb.backend,
            topology=lb.topology,
            childless=childless,
        )

    # -- acting ----------------------------------------------------------------------------

    async def _converge(self, snap: Snapshot, probes: _Probes | None = None) -> None:
        """Pushes the config to the live amphorae that are not marked for replacement (building
        them when needed: one for SINGLE, a MASTER and a BACKUP for ACTIVE_STANDBY), then deletes
        the replaced ones: failover builds first, as Octavia does. The push always happens; the
        agent answers UNCHANGED when nothing differs, unless ConfigureAmphora asked for this
        amphora: then the push is forced (validate, swap and reload even an identical config),
        as Octavia's amphora configure.

        The renderer is the one of the load balancer's backend; it gets the versions each agent
        reports (GetInfo) and refuses (Precondition) what that target cannot run, so nothing is
        pushed then and the load balancer goes to ERROR with the renderer's reason. Each half of
        a pair gets its own rendering (its VRRP role and peer)."""
        live = [a for a in snap.amphorae if not a.doomed]  # _load recorded what was missing
        # Resolved while the amphorae are checked: it needs the graph only.
        resolving = asyncio.ensure_future(self._materials(snap.graph))
        try:
            ready = await self._ready(snap, live, probes)
            if ready is None:
                return  # an amphora that served does not answer: failed over
            live, infos = ready
            materials = await resolving
        finally:
            # Not needed when the pass ends here (its thread ends on its own); an error it may
            # hold is the pass's to raise only when it gets that far.
            if not resolving.done():
                resolving.cancel()
            await asyncio.gather(resolving, return_exceptions=True)
        renderer = self._d.renderer(snap.backend)
        vrrps = self._vrrp_targets(snap, live)
        if snap.topology == pairs.ACTIVE_STANDBY:
            for amphora, info in zip(live, infos, strict=True):
                if pairs.CAPABILITY not in info.capabilities:
                    raise Precondition(
                        f"The agent of amphora {amphora.id} cannot run keepalived (no "
                        f"{pairs.CAPABILITY!r} capability): ACTIVE_STANDBY needs an agent of "
                        "this release with keepalived installed."
                    )
        size_catalog = self._settings.compute_flavors

        def plan_from(amphora: Amphora, info: AgentInfo) -> dict[str, Any]:
            # The files the agent runs, when this process applied them and the agent can take a
            # runtime plan: the renderer then also answers the runtime-API commands that make
            # a members-only change without a reload.
            if RUNTIME_PLAN not in info.capabilities or amphora.configure_requested:
                return {}
            files = self._applied.get(amphora.id, info.applied_config_hash)
            return {"applied_files": files} if files else {}

        rendered = await asyncio.gather(
            *(
                renderer.render(
                    snap.graph,
                    info,
                    snap.vip_address,
                    materials,
                    vrrp=vrrps[a.id],
                    size=sizes.of(size_catalog, a.compute_flavor),
                    **plan_from(a, info),
                )
                for a, info in zip(live, infos, strict=True)
            )
        )
        plans = {
            a.id: config.runtime_plan
            for a, info, config in zip(live, infos, rendered, strict=True)
            if config.runtime_plan is not None and RUNTIME_PLAN in info.capabilities
        }
        try:
            applied = await self._apply_all(snap, live, rendered, plans)
        except Unavailable as err:
            if probes is None or not probes.reused(live):
                raise
            # An agent that was not asked (it had answered a moment ago) does not answer now:
            # the pass starts over as one that knows nothing of its amphorae (alive? built
            # again, waited for, or failed over). What was pushed before is pushed again.
            log.info("load balancer %s: an agent stopped answering (%s); checking", snap.lb_id, err)
            for amphora in live:
                self._answers.forget(amphora)
            return await self._converge(snap)
        if applied is None:
            return  # an amphora broke: failed over, the next pass builds its replacement
        retired = [a for a in snap.amphorae if a.doomed and a.id not in {b.id for b in live}]
        # A planned replacement: what goes first stops taking connections and lets those under
        # way end, so moving the VIP (or keepalived's takeover) cuts none of them.
        await asyncio.gather(*(self._drain(snap, a) for a in retired if a.drain))
        if snap.topology != pairs.ACTIVE_STANDBY and (live[0].status != life.ALLOCATED or retired):
            # keepalived holds the VIP of a pair; a single amphora is given it once its config
            # is in, before the one it replaces goes.
            take_vip = getattr(self._d.compute, "take_vip", None)
            if take_vip is not None:
                await take_vip(
                    live[0].id,
                    snap.vip_address,
                    self._d.network.prefix_length,
                    [a.id for a in retired],
                )
        for old in retired:
            log.info("amphora %s replaced; deleting it", old.id)
            await self._d.compute.delete_amphora(old.id, old.compute_id)
        await asyncio.to_thread(
            self._succeed,
            snap.lb_id,
            snap.version,
            applied,
            [a.id for a in retired],
            rendered[0].renderer_version,
            childless=snap.childless,
        )
        self._served[snap.lb_id] = tuple(live)
        self._served.move_to_end(snap.lb_id)
        while len(self._served) > APPLIED_FILES_KEPT:
            self._served.popitem(last=False)

    async def _materials(self, graph: Any) -> list[Any]:
        """The TLS material the graph references (none: no thread, no transaction)."""
        if not certificates.graph_refs(graph):
            return []
        return await asyncio.to_thread(self._d.certificates.resolve, graph)

    async def _ready(
        self, snap: Snapshot, live: list[Amphora], probes: _Probes | None
    ) -> tuple[list[Amphora], list[AgentInfo]] | None:
        """The live amphorae, built where needed, and what each agent reports (GetInfo); None
        when one that served does not answer (it is failed over: the next pass builds its
        replacement). Amphorae the probes found up and answering are not checked again."""
        await self._fence_dead_halves(snap, live)
        answered = await probes.answers(live) if probes is not None else {}

        async def ensured(amphora: Amphora) -> Amphora:
            if amphora.id in answered:
                return amphora
            return await self._ensure_amphora(snap, amphora)

        async def waited(amphora: Amphora) -> AgentInfo:
            info = answered.get(amphora.id)
            return info if info is not None else await self._wait_for_agent(amphora)

        live = list(await asyncio.gather(*(ensured(a) for a in live)))
        found = await asyncio.gather(*(waited(a) for a in live), return_exceptions=True)
        for amphora, result in zip(live, found, strict=True):
            if isinstance(result, Unavailable) and amphora.status == life.ALLOCATED:
                await asyncio.to_thread(
                    self._replace_unreachable, snap.lb_id, amphora.id, result.operator_detail
                )
                return None
        for result in found:
            if isinstance(result, BaseException):
                raise result  # a new amphora that does not come up: retried, then ERROR
        return live, list(found)

    async def _fence_dead_halves(self, snap: Snapshot, live: list[Amphora]) -> None:
        """Deletes the dead half whose address a half still to be built takes (_dead_halves)
        before that one is built. Idempotent: the pass deletes it again with the others it
        replaced."""
        to_build = {a.address for a in live if not a.compute_id and a.address}
        for dead in snap.amphorae:
            if dead.doomed and dead.compute_id and dead.address in to_build:
                log.info(
                    "amphora %s: fenced before its replacement takes its address %s",
                    dead.id,
                    dead.address,
                )
                await self._d.compute.delete_amphora(dead.id, dead.compute_id)

    async def _drain(self, snap: Snapshot, amphora: Amphora) -> None:
        """Drains one amphora that is about to go (agent Drain). Best effort: one that cannot
        be drained (gone, or an agent of an older release) is deleted anyway, as in a failover."""
        if not amphora.agent_address or amphora.status != life.ALLOCATED:
            return
        try:
            remaining = await self._d.agent.drain(
                amphora.agent_address,
                amphora.id,
                [snap.vip_address],
                self._settings.drain_timeout,
            )
        except Exception as err:  # noqa: BLE001  (the replacement serves already)
            log.warning("amphora %s could not be drained before it goes: %r", amphora.id, err)
            return
        if remaining:
            log.warning(
                "amphora %s still had %d connections after %.1f s of draining; they are cut",
                amphora.id,
                remaining,
                self._settings.drain_timeout,
            )
        else:
            log.info("amphora %s drained", amphora.id)

    def _vrrp_targets(self, snap: Snapshot, live: list[Amphora]) -> dict[str, Any]:
        if snap.topology != pairs.ACTIVE_STANDBY:
            return {a.id: None for a in live}
        return pairs.vrrp_targets(
            [pairs.Half(a.id, a.role, a.address) for a in live],
            self._settings.vrrp_advert_interval,
            self._d.network.prefix_length,
        )

    async def _apply_all(
        self,
        snap: Snapshot,
        live: list[Amphora],
        rendered: list[Any],
        plans: Mapping[str, Any] | None = None,
    ) -> dict[str, str] | None:
        """Pushes each amphora its rendering (with its runtime plan, if it has one: the agent
        makes the change over the runtime API, or reloads); amphora id -> applied hash, or None
        when one broke (it is failed over). The halves of a pair are pushed one at a time."""
        plans = plans or {}

        async def push(amphora: Amphora, config: Any) -> Any:
            plan = plans.get(amphora.id)
            return await self._d.agent.apply_config(
                amphora.agent_address,
                amphora.id,
                config.files,
                config.config_hash,
                config.renderer_version,
                force=amphora.configure_requested,
                **({"runtime_plan": plan} if plan is not None else {}),
            )

        pushes = list(zip(live, rendered, strict=True))
        # What serves first, then the MASTER: a survivor learns its new peer before the new
        # half starts keepalived, and a fresh BACKUP hears its MASTER from its first moment
        # (else either, deaf to the other, would claim the VIP for a while).
        pushes.sort(key=lambda p: (p[0].status != life.ALLOCATED, p[0].role != pairs.MASTER))
        outcomes = [await push(a, c) for a, c in pushes]
        applied: dict[str, str] = {}
        for (amphora, config), outcome in zip(pushes, outcomes, strict=True):
            if outcome.applied_config_hash:
                self._answers.applied(amphora, outcome.applied_config_hash)
            if outcome.result == "BROKEN" and amphora.status == life.ALLOCATED:
                # Its reload failed and so did the restore of the last good config: it serves
                # nothing now. A replacement gets the config (a config that breaks a fresh
                # amphora too puts the load balancer in ERROR there, with no further failover).
                await asyncio.to_thread(
                    self._replace_unreachable, snap.lb_id, amphora.id, outcome.detail
                )
                return None
            if not outcome.ok:
                raise ApplyRejected(f"amphora {amphora.id} {outcome.result}: {outcome.detail}")
            applied[amphora.id] = outcome.applied_config_hash or config.config_hash
            if applied[amphora.id] == config.config_hash:
                self._applied.put(amphora.id, config.config_hash, config.files)
        return applied

    async def _ensure_amphora(self, snap: Snapshot, amphora: Amphora) -> Amphora:
        """The amphora, alive. Its id and agent port are recorded before the compute driver is
        called, so a restart reuses them instead of leaking one. Each start gets a freshly
        issued certificate, so no amphora private key is ever stored."""
        if amphora.compute_id and await self._d.compute.is_alive(amphora.compute_id):
            return amphora
        if amphora.compute_id:
            log.info("amphora %s (%s) is gone; recreating it", amphora.id, amphora.compute_id)
            await self._d.compute.delete_amphora(amphora.id, amphora.compute_id)
        certificate = await asyncio.to_thread(self._d.ca.issue_amphora_certificate, amphora.id)
        instance = await self._d.compute.create_amphora(
            AmphoraSpec(
                amphora_id=amphora.id,
                loadbalancer_id=snap.lb_id,
                backend_type=snap.backend,
                vip_address=snap.vip_address,
                certificate=certificate,
                agent_port=amphora.agent_port,
                address=amphora.address,
            )
        )
        host, _, port_text = instance.agent_address.rpartition(":")
        port = int(port_text)
        await asyncio.to_thread(
            self._update_amphora,
            amphora.id,
            compute_id=instance.compute_id,
            agent_address=instance.agent_address,
            agent_port=port,
            status=life.BOOTING,
            lb_network_ip=host,
            cert_expiration=_cert_expiration(certificate.cert_pem),
        )
        return Amphora(
            amphora.id,
            instance.compute_id,
            instance.agent_address,
            port,
            configure_requested=amphora.configure_requested,
            role=amphora.role,
            address=host,
            compute_flavor=amphora.compute_flavor,
        )

    @staticmethod
    def _record_amphora(
        session: Session, lb: LoadBalancerRow, size: str, address: str = ""
    ) -> Amphora:
        row = AmphoraRow(
            id=str(uuid.uuid4()),
            load_balancer_id=lb.id,
            status=life.BOOTING,
            role="STANDALONE",
            backend_type=lb.backend,
            compute_id="",
            agent_address="",
            vip_address=lb.vip_address,
            applied_config_hash="",
            compute_flavor=size,
            lb_network_ip=address,  # the address it is to take (_dead_halves)
        )
        session.add(row)
        session.flush()
        return _amphora(row)

    def _update_amphora(self, amphora_id: str, **values: Any) -> None:
        with self._uow.transaction() as session:
            _update_amphora_row(session, amphora_id, values)

    def _replace_unreachable(self, lb_id: str, amphora_id: str, detail: str) -> None:
        """An amphora that served does not answer (or cannot load any config): failed over, as
        if the health service had found it silent. The next pass builds the replacement."""
        log.error(
            "amphora %s of load balancer %s is broken: failing it over (%s)",
            amphora_id,
            lb_id,
            detail,
        )
        with self._uow.transaction() as session:
            if _lock(session, lb_id) is None:
                return
            amphorae.failover_amphora(
                session,
                Deps(network=self._d.network, queue=self._d.queue),
                amphora_id,
                automatic=True,
            )

    async def _wait_for_agent(self, amphora: Amphora):
        # One that served before is given less time: if it stays unreachable it is replaced.
        wait = (
            self._settings.unreachable_failover_after
            if amphora.status == life.ALLOCATED
            else self._settings.agent_wait_timeout
        )
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Unavailable),
            stop=stop_after_delay(wait),
            wait=wait_exponential(multiplier=0.05, max=2.0),
            reraise=True,
        ):
            with attempt:
                info = await self._d.agent.get_info(amphora.agent_address, amphora.id)
                self._answers.put(amphora, info)
                return info
        raise AssertionError("unreachable")

    async def _teardown(self, snap: Snapshot) -> None:
        for amphora in snap.amphorae:
            await self._d.compute.delete_amphora(amphora.id, amphora.compute_id)
        await asyncio.to_thread(self._remove, snap.lb_id)

    # -- recording the outcome -------------------------------------------------------------

    def _remove(self, lb_id: str) -> None:
        with self._uow.transaction() as session:
            lb = _lock(session, lb_id)
            if lb is None:
                return
            self._d.network.release_vip(session, lb_id)
            session.delete(lb)  # children and amphora rows go by ON DELETE CASCADE
        log.info("load balancer %s deleted", lb_id)

    def _succeed(
        self,
        lb_id: str,
        version: int,
        applied: Mapping[str, str],
        retired: list[str] | None = None,
        renderer_version: str = "",
        *,
        childless: bool = False,
    ) -> None:
        with self._uow.transaction() as session:
            lb = _lock(session, lb_id)
            if lb is None:
                return
            if childless and lb.desired_version == version:
                # Every change to the children moves desired_version: at the version the pass
                # read, the load balancer had none, so there are none to load now.
                set_committed_value(lb, "listeners", [])
                set_committed_value(lb, "pools", [])
            for amphora_id, config_hash in applied.items():
                _update_amphora_row(
                    session,
                    amphora_id,
                    {
                        "applied_config_hash": config_hash,
                        "applied_renderer_version": renderer_version,
                        "status": life.ALLOCATED,  # it serves its load balancer
                        "status_reason": "",
                        "configure_requested": False,
                    },
                )
            for old_id in retired or ():
                # Their compute resources are gone: the rows go even if a newer change is
                # still to be applied (the new amphora serves the load balancer now).
                old = session.get(AmphoraRow, old_id)
                if old is not None:
                    session.delete(old)
            outcome = status.fold(version, lb.desired_version)
            if outcome.requeue:
                # Changes arrived while this pass ran: they are folded into the next pass and
                # the objects stay PENDING until a pass applies the newest version.
                self._d.queue.enqueue(session, lb_id)
                return
            reached = _reached_pools(lb)
            for row in every_object(lb):
                new = status.after_success(row.provisioning_status)
                if new is None:
                    session.delete(row)
                    continue
                row.operating_status = status.operating_after_success(
                    _KINDS.get(type(row).__name__, ""),
                    row.provisioning_status,
                    row.operating_status,
                    row.admin_state_up,
                    unreached=type(row).__name__ == "PoolRow" and row.id not in reached,
                )
                row.provisioning_status = new
            lb.applied_version = version
            lb.status_reason = None
            lb.reconcile_failures = 0
            if session.scalar(_STILL_TO_REPLACE, {"lb_id": lb_id}):
                # A pair's second half of a load balancer failover (_one_half_at_a_time).
                self._d.queue.enqueue(session, lb_id)
        log.info(
            "load balancer %s version %d applied (%s)",
            lb_id,
            version,
            ", ".join(h[:12] for h in applied.values()),
        )

    def _fail(self, lb_id: str, version: int, reason: str) -> None:
        with self._uow.transaction() as session:
            lb = _lock(session, lb_id)
            if lb is None:
                return
            if lb.desired_version != version:
                # A newer change may fix what failed: try it rather than report a stale error.
                self._d.queue.enqueue(session, lb_id)
                return
            rows = every_object(lb)
            for row in rows:
                row.provisioning_status = status.after_failure(row.provisioning_status)
            lb.status_reason = reason
            if any(row.provisioning_status == status.PENDING_DELETE for row in rows):
                self._retry_deletes(session, lb)
            else:
                lb.reconcile_failures = 0
            # An amphora that never came up (a failed create or failover) is broken: ERROR,
            # which DeleteAmphora accepts. The amphora it was to replace keeps serving.
            for amphora in session.scalars(
                select(AmphoraRow).where(
                    AmphoraRow.load_balancer_id == lb_id, AmphoraRow.status == life.BOOTING
                )
            ):
                amphora.status = life.move(amphora.status, life.ERROR)
                amphora.status_reason = reason

    def _retry_deletes(self, session: Session, lb: LoadBalancerRow) -> None:
        """Deletes the API accepted stay wanted after a failed pass (PENDING_DELETE, never
        rendered): the next attempt is deferred here, at the backoff's cap. Left to the sweep,
        which re-enqueues a load balancer with PENDING objects and no job at its next tick, a
        failure that lasts would be retried every sweep interval. The failure count is kept, so
        a transient failure that lasts comes straight back here: one attempt per cap, not a new
        round of quick retries. A change or a failover brings the attempt forward (enqueue)."""
        self._d.queue.enqueue(session, lb.id, delay=self._settings.job_retry_max_delay)

    def _transient_failure(self, lb_id: str, version: int, err: Exception) -> None:
        reason = err.user_message if isinstance(err, DomainError) else repr(err)
        with self._uow.transaction() as session:
            lb = _lock(session, lb_id)
            if lb is None:
                return
            lb.reconcile_failures += 1
            failures = lb.reconcile_failures
            if failures < self._settings.job_max_attempts or lb.desired_version != version:
                delay = status.retry_delay(
                    failures,
                    self._settings.job_retry_base_delay,
                    self._settings.job_retry_max_delay,
                )
                self._d.queue.enqueue(session, lb_id, delay=delay)
                return
        self._fail(lb_id, version, f"Unavailable after {failures} attempts: {reason}")
