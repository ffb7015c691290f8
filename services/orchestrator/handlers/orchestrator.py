"""OrchestratorService: thin handlers over the service layer (one transaction per call)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy.exc
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc
from sqlalchemy.orm import Session

from services.common.errors import DomainError, Unavailable, Unsupported
from services.orchestrator.adapters.db.changes import ChangeFeed
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.codec import decode, encode
from services.orchestrator.domain import features
from services.orchestrator.handlers.admin import AdminHandlers
from services.orchestrator.handlers.batching import Batcher
from services.orchestrator.handlers.certificates import CertificateHandlers
from services.orchestrator.handlers.management import ManagementHandlers
from services.orchestrator.service_layer import (
    l7,
    listeners,
    loadbalancers,
    members,
    operations,
    pools,
)
from services.orchestrator.service_layer.common import (
    BackendCheck,
    Deps,
    Scope,
    with_backend_check,
)
from services.orchestrator.service_layer.feature_gate import FeatureGate

T = TypeVar("T")
log = logging.getLogger(__name__)
# Load balancer lists kept for reuse while their etag holds, one per scope (project or all).
LIST_CACHE_SIZE = 64


def _scope(request: Any) -> Scope:
    return Scope(project_id=request.scope.project_id, all_projects=request.scope.all_projects)


class OrchestratorServicer(
    AdminHandlers, CertificateHandlers, ManagementHandlers, pb_grpc.OrchestratorServiceServicer
):
    def __init__(
        self,
        uow: UnitOfWork,
        deps: Deps,
        feature_gate: FeatureGate | None = None,
        *,
        roller: Any = None,
        management: Any = None,
        certificate_driver: Any = None,
        changes: ChangeFeed | None = None,
    ):
        self._uow = uow
        self._deps = deps
        # Plain load balancer creates that arrive while others are being written are written
        # together (handlers/batching.py): one transaction and one INSERT per table for many.
        self._plain_creates: Batcher[tuple[Scope, dict[str, Any]], Any] = Batcher(
            self._create_plain
        )
        self._features = feature_gate
        self._roller = roller  # jobs.roll.Roller: RefreshConfigs
        self._management = management  # service_layer.management.Management
        self.certificate_driver = certificate_driver
        # The count of committed changes behind ListLoadBalancers' etags.
        self.changes = changes
        self._lists: OrderedDict[tuple[str, bool], pb.ListLoadBalancersResponse] = OrderedDict()

    async def _gate(
        self, needs: Iterable[features.Need] | Callable[[Session], Iterable[features.Need]]
    ) -> BackendCheck | None:
        """Refuses (Unsupported, 501), with nothing written, what the renderer of the load
        balancer's backend cannot render. Here: the renderers' Describe is made fresh (no
        database). With one renderer for every backend the needs are checked now, before the
        transaction and anything else; else the check returned is for the write's transaction
        (_tx), which runs it where it finds the load balancer and its backend: after a 404 or
        403 for the object, before the use case's own checks. needs may be a function of that
        transaction's session (what stored values decide); it is then checked there in
        either case."""
        gate = self._features
        if gate is None:
            return None
        if callable(needs):
            needs_of = needs
            await gate.ready()
            return lambda session, backend: gate.check_now(needs_of(session), backend)
        needs = list(needs)
        if not needs and not gate.standing:
            return None
        await gate.ready()
        if not gate.needs_backend:
            gate.check_now(needs)
            return None
        return self._backend_check(needs)

    def _backend_check(self, needs: list[features.Need]) -> BackendCheck | None:
        """The check of needs against the backend the transaction finds (None: nothing to
        check, or no need of a backend)."""
        gate = self._features
        if gate is None or not gate.needs_backend or not (needs or gate.standing):
            return None
        return lambda _session, backend: gate.check_now(needs, backend)

    async def _tx(self, work: Callable[[Session], T], check: BackendCheck | None = None) -> T:
        """Runs work in one transaction on a worker thread (the engine is synchronous). A
        database that cannot be reached is UNAVAILABLE (503), not an internal error. check (from
        _gate) runs in that transaction where it finds the load balancer."""
        if check is not None:
            work = with_backend_check(check, work)
        try:
            return await asyncio.to_thread(self._uow.run, work)
        except sqlalchemy.exc.OperationalError as err:
            log.warning("database unavailable: %s", err)
            raise Unavailable("The database is unavailable; retry the request.") from err

    async def _update(
        self,
        check: BackendCheck | None,
        decode_changes: Callable[[], dict[str, Any]],
        write: Callable[[Session, dict[str, Any]], T],
    ) -> T:
        """write(session, changes) in one transaction (_tx, with check). A field the request
        may not change (decode_changes raises) is answered after the backend's check, as when
        the check came first: the transaction finds the object and its load balancer with no
        change to make (nothing is written) and a 501 is answered; else, or when the object is
        not found or not the caller's, the request's 400."""
        try:
            changes = decode_changes()
        except DomainError as invalid:
            if check is None:
                raise
            try:
                await self._tx(lambda s: write(s, {}), check)
            except Unsupported:
                raise
            except DomainError:
                pass  # not found, or not the caller's: the 400 first, as before
            raise invalid from None
        return await self._tx(lambda s: write(s, changes), check)

    # -- load balancers --------------------------------------------------------------------

    async def CreateLoadBalancer(self, request, context):
        # The create checks the backend its flavor gives (loadbalancers.create).
        needs = list(features.loadbalancer(request.loadbalancer))
        check = await self._gate(needs)
        fields = decode.loadbalancer_fields(request.loadbalancer)
        if loadbalancers.is_plain(fields) and not needs:
            # Only the standing needs, the same for every plain create: _create_plain checks
            # them for the batch.
            lb = await self._plain_creates.submit((_scope(request), fields))
        else:
            lb = await self._create_one(_scope(request), fields, check)
        return pb.CreateLoadBalancerResponse(loadbalancer=lb)

    async def _create_one(
        self, scope: Scope, fields: dict[str, Any], check: BackendCheck | None
    ) -> Any:
        return await self._tx(
            lambda s: encode.loadbalancer(loadbalancers.create(s, self._deps, scope, fields)),
            check,
        )

    async def _create_plain(self, requests: list[tuple[Scope, dict[str, Any]]]) -> list[Any]:
        """Plain creates that arrived together: one transaction for all of them. When it fails
        on a domain error (a quota that admits only some, an address taken, an invalid field, a
        backend that lacks a standing need), nothing was written and each runs on its own, so
        that only the requests at fault fail, with their own error. (Their callers made the
        renderers' Describe fresh, _gate.)"""
        check = self._backend_check([])
        if len(requests) > 1:
            try:
                return await self._tx(
                    lambda s: [
                        encode.loadbalancer(lb)
                        for lb in loadbalancers.create_plain_many(s, self._deps, requests)
                    ],
                    check,
                )
            except DomainError as err:
                log.debug("batch of %d creates failed (%s); one by one", len(requests), err)
        return await asyncio.gather(
            *(self._create_one(scope, fields, check) for scope, fields in requests),
            return_exceptions=True,
        )

    async def GetLoadBalancer(self, request, context):
        lb = await self._tx(
            lambda s: encode.loadbalancer(loadbalancers.get(s, _scope(request), request.id))
        )
        return pb.GetLoadBalancerResponse(loadbalancer=lb)

    async def ListLoadBalancers(self, request, context):
        """A conditional list: the etag is read before the transaction, so what is read is at
        least as new as it says; an answer is kept per scope and reused while the etag holds."""
        etag = self.changes.current_etag() if self.changes is not None else ""
        if etag and request.if_none_match == etag:
            return pb.ListLoadBalancersResponse(etag=etag, not_modified=True)
        key = (request.scope.project_id, request.scope.all_projects)
        kept = self._lists.get(key)
        if etag and kept is not None and kept.etag == etag:
            self._lists.move_to_end(key)
            return kept

        def work(s: Session) -> pb.ListLoadBalancersResponse:
            found = loadbalancers.list_summaries(s, _scope(request))
            listeners_of, pools_of = found.listener_ids, found.pool_ids
            return pb.ListLoadBalancersResponse(
                loadbalancers=[
                    encode.loadbalancer_summary(row, listeners_of.get(row.id), pools_of.get(row.id))
                    for row in found.rows
                ]
            )

        answer = await self._tx(work)
        if etag:
            answer.etag = etag
            self._lists[key] = answer
            self._lists.move_to_end(key)
            while len(self._lists) > LIST_CACHE_SIZE:
                self._lists.popitem(last=False)
        return answer

    async def UpdateLoadBalancer(self, request, context):
        check = await self._gate(
            features.loadbalancer(request.loadbalancer, request.update_mask.paths)
        )
        lb = await self._update(
            check,
            lambda: decode.changes(
                request.loadbalancer, request.update_mask.paths, decode.LOADBALANCER_PATHS
            ),
            lambda s, changes: encode.loadbalancer(
                loadbalancers.update(
                    s, self._deps, _scope(request), request.loadbalancer.meta.id, changes
                )
            ),
        )
        return pb.UpdateLoadBalancerResponse(loadbalancer=lb)

    async def DeleteLoadBalancer(self, request, context):
        await self._tx(
            lambda s: loadbalancers.delete(
                s, self._deps, _scope(request), request.id, request.cascade
            )
        )
        return pb.DeleteLoadBalancerResponse()

    async def GetLoadBalancerStatusTree(self, request, context):
        tree = await self._tx(
            lambda s: encode.status_tree(loadbalancers.get(s, _scope(request), request.id))
        )
        return pb.GetLoadBalancerStatusTreeResponse(tree=tree)

    # -- listeners -------------------------------------------------------------------------

    async def CreateListener(self, request, context):
        check = await self._gate(features.listener(request.listener))
        fields = decode.listener_fields(request.listener)
        out = await self._tx(
            lambda s: encode.listener(listeners.create(s, self._deps, _scope(request), fields)),
            check,
        )
        return pb.CreateListenerResponse(listener=out)

    async def UpdateListener(self, request, context):
        check = await self._gate(features.listener(request.listener, request.update_mask.paths))
        out = await self._update(
            check,
            lambda: decode.changes(
                request.listener, request.update_mask.paths, decode.LISTENER_PATHS
            ),
            lambda s, changes: encode.listener(
                listeners.update(s, self._deps, _scope(request), request.listener.meta.id, changes)
            ),
        )
        return pb.UpdateListenerResponse(listener=out)

    # -- pools -----------------------------------------------------------------------------

    async def CreatePool(self, request, context):
        check = await self._gate(features.pool(request.pool))
        fields = decode.pool_fields(request.pool)
        # Children created with the pool (Octavia's PoolPOST members / healthmonitor).
        children = [decode.member_fields(m) for m in request.pool.members]
        monitor = None
        if request.pool.HasField("healthmonitor") and request.pool.healthmonitor.type:
            monitor = decode.health_monitor_fields(request.pool.healthmonitor)
        out = await self._tx(
            lambda s: encode.pool(
                pools.create(
                    s,
                    self._deps,
                    _scope(request),
                    fields,
                    request.listener_id,
                    members=children,
                    healthmonitor=monitor,
                )
            ),
            check,
        )
        return pb.CreatePoolResponse(pool=out)

    async def UpdatePool(self, request, context):
        check = await self._gate(features.pool(request.pool, request.update_mask.paths))
        out = await self._update(
            check,
            lambda: decode.changes(request.pool, request.update_mask.paths, decode.POOL_PATHS),
            lambda s, changes: encode.pool(
                pools.update(s, self._deps, _scope(request), request.pool.meta.id, changes)
            ),
        )
        return pb.UpdatePoolResponse(pool=out)

    # -- members ---------------------------------------------------------------------------

    async def CreateMember(self, request, context):
        check = await self._gate(features.member(request.member))
        fields = decode.member_fields(request.member)
        out = await self._tx(
            lambda s: encode.member(members.create_member(s, self._deps, _scope(request), fields)),
            check,
        )
        return pb.CreateMemberResponse(member=out)

    async def UpdateMember(self, request, context):
        check = await self._gate(features.member(request.member, request.update_mask.paths))
        m = request.member
        out = await self._update(
            check,
            lambda: decode.changes(request.member, request.update_mask.paths, decode.MEMBER_PATHS),
            lambda s, changes: encode.member(
                members.update_member(s, self._deps, _scope(request), m.pool_id, m.meta.id, changes)
            ),
        )
        return pb.UpdateMemberResponse(member=out)

    # -- health monitors -------------------------------------------------------------------

    async def CreateHealthMonitor(self, request, context):
        check = await self._gate(features.healthmonitor(request.healthmonitor))
        fields = decode.health_monitor_fields(request.healthmonitor)
        out = await self._tx(
            lambda s: encode.health_monitor(
                members.create_health_monitor(s, self._deps, _scope(request), fields)
            ),
            check,
        )
        return pb.CreateHealthMonitorResponse(healthmonitor=out)

    async def UpdateHealthMonitor(self, request, context):
        check = await self._gate(
            features.healthmonitor(request.healthmonitor, request.update_mask.paths)
        )
        out = await self._update(
            check,
            lambda: decode.changes(
                request.healthmonitor, request.update_mask.paths, decode.HEALTH_MONITOR_PATHS
            ),
            lambda s, changes: encode.health_monitor(
                members.update_health_monitor(
                    s, self._deps, _scope(request), request.healthmonitor.meta.id, changes
                )
            ),
        )
        return pb.UpdateHealthMonitorResponse(healthmonitor=out)

    async def BatchUpdateMembers(self, request, context):
        check = await self._gate(n for m in request.members for n in features.member(m))
        wanted = [decode.member_fields(m) for m in request.members]
        await self._tx(
            lambda s: members.batch_update_members(
                s, self._deps, _scope(request), request.pool_id, wanted, request.additive_only
            ),
            check,
        )
        return pb.BatchUpdateMembersResponse()

    # -- L7 policies and rules -------------------------------------------------------------

    async def CreateL7Policy(self, request, context):
        check = await self._gate(features.l7policy(request.l7policy))
        fields = decode.l7policy_fields(request.l7policy)
        fields["rules"] = [decode.l7rule_fields(rule) for rule in request.l7policy.rules]
        out = await self._tx(
            lambda s: encode.l7policy(l7.create_policy(s, self._deps, _scope(request), fields)),
            check,
        )
        return pb.CreateL7PolicyResponse(l7policy=out)

    async def UpdateL7Policy(self, request, context):
        check = await self._gate(features.l7policy(request.l7policy, request.update_mask.paths))
        out = await self._update(
            check,
            lambda: decode.changes(
                request.l7policy, request.update_mask.paths, decode.L7POLICY_PATHS
            ),
            lambda s, changes: encode.l7policy(
                l7.update_policy(s, self._deps, _scope(request), request.l7policy.meta.id, changes)
            ),
        )
        return pb.UpdateL7PolicyResponse(l7policy=out)

    async def CreateL7Rule(self, request, context):
        check = await self._gate(features.l7rule(request.l7rule))
        fields = decode.l7rule_fields(request.l7rule)
        out = await self._tx(
            lambda s: encode.l7rule(l7.create_rule(s, self._deps, _scope(request), fields)),
            check,
        )
        return pb.CreateL7RuleResponse(l7rule=out)

    async def UpdateL7Rule(self, request, context):
        r, paths = request.l7rule, request.update_mask.paths
        if "key" in paths and "type" not in paths:
            # What a key needs depends on the rule's type, which this update keeps: read in the
            # write's transaction (the rule is in its session by the time it locks).
            def needs(session: Session) -> Iterable[features.Need]:
                probe = type(r)()
                probe.CopyFrom(r)
                probe.type = l7.rule_type(session, r.meta.id)
                return list(features.l7rule(probe, paths))

            check = await self._gate(needs)
        else:
            check = await self._gate(features.l7rule(r, paths))
        out = await self._update(
            check,
            lambda: decode.changes(r, paths, decode.L7RULE_PATHS),
            lambda s, changes: encode.l7rule(
                l7.update_rule(s, self._deps, _scope(request), r.l7policy_id, r.meta.id, changes)
            ),
        )
        return pb.UpdateL7RuleResponse(l7rule=out)

    # -- network view ----------------------------------------------------------------------

    async def ListNetworks(self, request, context):
        nets = self._deps.network.list_networks(id=request.id, name=request.name)
        return pb.ListNetworksResponse(
            networks=[
                pb.Network(
                    id=n.id,
                    name=n.name,
                    subnet_ids=list(n.subnet_ids),
                    admin_state_up=True,
                    status="ACTIVE",
                    shared=True,
                )
                for n in nets
            ]
        )

    async def ListSubnets(self, request, context):
        subs = self._deps.network.list_subnets(
            id=request.id, name=request.name, network_id=request.network_id
        )
        return pb.ListSubnetsResponse(
            subnets=[
                pb.Subnet(
                    id=s.id,
                    name=s.name,
                    network_id=s.network_id,
                    cidr=s.cidr,
                    ip_version=s.ip_version,
                    gateway_ip=s.gateway_ip,
                )
                for s in subs
            ]
        )

    async def ListPorts(self, request, context):
        scope = _scope(request)

        def work(session: Session) -> list[pb.Port]:
            rows = self._deps.network.list_ports(
                session, id=request.id, name=request.name, network_id=request.network_id
            )
            return [
                pb.Port(
                    id=r.id,
                    name=r.name,
                    network_id=r.network_id,
                    project_id=r.project_id,
                    fixed_ips=[pb.FixedIp(subnet_id=r.subnet_id, ip_address=r.ip_address)],
                    device_owner=r.device_owner,
                    device_id=r.device_id,
                    admin_state_up=True,
                    status="ACTIVE",
                )
                for r in rows
                if scope.sees(r.project_id)
            ]

        return pb.ListPortsResponse(ports=await self._tx(work))

    # -- health service --------------------------------------------------------------------

    # GetAmphora and ListAmphorae are in AdminHandlers (with the operator fields).

    async def SetOperatingStatuses(self, request, context):
        statuses = {
            s.id: encode.operating_status_name(s.operating_status)
            for s in request.statuses
            if s.operating_status
        }
        changed = await self._tx(lambda s: operations.set_operating_statuses(s, statuses))
        return pb.SetOperatingStatusesResponse(changed=changed)


# -- reads and deletes of the child resources: one generic path -------------------------------


@dataclass(frozen=True)
class _Family:
    """How one child resource is read, listed and deleted: the RPCs Get<noun>, List<plural>
    and Delete<noun> run the use cases in one transaction each; `keys` are the request fields
    naming the object (its parent's id first, where the use case wants it), `filters` those of a
    list."""

    noun: str
    plural: str
    field: str
    encode: Callable[[Any], Any]
    get: Callable[..., Any]
    list_: Callable[..., Any]
    delete: Callable[..., Any]
    keys: tuple[str, ...] = ("id",)
    filters: tuple[str, ...] = ()


_FAMILIES = (
    _Family(
        "Listener", "Listeners", "listener", encode.listener,
        listeners.get, listeners.list_, listeners.delete, filters=("loadbalancer_id",),
    ),
    _Family(
        "Pool", "Pools", "pool", encode.pool,
        pools.get, pools.list_, pools.delete, filters=("loadbalancer_id",),
    ),
    _Family(
        "Member", "Members", "member", encode.member,
        members.get_member, members.list_members, members.delete_member,
        keys=("pool_id", "id"), filters=("pool_id",),
    ),
    _Family(
        "HealthMonitor", "HealthMonitors", "healthmonitor", encode.health_monitor,
        members.get_health_monitor, members.list_health_monitors, members.delete_health_monitor,
    ),
    _Family(
        "L7Policy", "L7Policies", "l7policy", encode.l7policy,
        l7.get_policy, l7.list_policies, l7.delete_policy, filters=("listener_id",),
    ),
    _Family(
        "L7Rule", "L7Rules", "l7rule", encode.l7rule,
        l7.get_rule, l7.list_rules, l7.delete_rule,
        keys=("l7policy_id", "id"), filters=("l7policy_id",),
    ),
)  # fmt: skip


def _install(family: _Family) -> None:
    get_response = getattr(pb, f"Get{family.noun}Response")
    list_response = getattr(pb, f"List{family.plural}Response")
    delete_response = getattr(pb, f"Delete{family.noun}Response")
    list_field = list_response.DESCRIPTOR.fields[0].name

    async def get(self: OrchestratorServicer, request: Any, context: Any) -> Any:
        keys = [getattr(request, k) for k in family.keys]
        out = await self._tx(lambda s: family.encode(family.get(s, _scope(request), *keys)))
        return get_response(**{family.field: out})

    async def list_(self: OrchestratorServicer, request: Any, context: Any) -> Any:
        filters = [getattr(request, k) for k in family.filters]
        out = await self._tx(
            lambda s: [family.encode(r) for r in family.list_(s, _scope(request), *filters)]
        )
        return list_response(**{list_field: out})

    async def delete(self: OrchestratorServicer, request: Any, context: Any) -> Any:
        keys = [getattr(request, k) for k in family.keys]
        await self._tx(lambda s: family.delete(s, self._deps, _scope(request), *keys))
        return delete_response()

    for name, method in (
        (f"Get{family.noun}", get),
        (f"List{family.plural}", list_),
        (f"Delete{family.noun}", delete),
    ):
        method.__name__ = method.__qualname__ = name
        setattr(OrchestratorServicer, name, method)


for _family in _FAMILIES:
    _install(_family)
