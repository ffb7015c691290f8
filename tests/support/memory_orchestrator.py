"""An in-memory OrchestratorPort: the gateway's tests run against it, with no orchestrator.

It keeps the contract's shapes (ids, statuses, timestamps, children by id, scopes) and records
every call, so a test can assert that nothing was written when validation failed.
"""

from __future__ import annotations

import copy
import uuid

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2 as g
from lbaas.common.v1 import status_pb2 as st
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.common.errors import DomainError, InvalidInput, NotFound
from services.orchestrator.domain import rules
from tests.support.memory_certificates import RPCS as CERTIFICATE_RPCS
from tests.support.memory_certificates import MemoryCertificates

_KINDS = {
    "LoadBalancer": ("loadbalancer", g.LoadBalancer),
    "Listener": ("listener", g.Listener),
    "Pool": ("pool", g.Pool),
    "Member": ("member", g.Member),
    "HealthMonitor": ("healthmonitor", g.HealthMonitor),
    "L7Policy": ("l7policy", g.L7Policy),
    "L7Rule": ("l7rule", g.L7Rule),
}
_PLURAL = {"L7Policies": "L7Policy"}
_LIST_FIELD = {
    "LoadBalancer": "loadbalancers",
    "HealthMonitor": "healthmonitors",
    "L7Policy": "l7policies",
    "L7Rule": "l7rules",
}
# Child kind -> the field naming its parent, for Get/List/Delete of nested objects.
_PARENT = {"Member": "pool_id", "L7Rule": "l7policy_id"}


def _resolve_action(policy: g.L7Policy, sent_fields: list[str], *, create: bool) -> list[str]:
    """The orchestrator's action resolution (rules.l7policy_action) on the proto; the fields it
    set."""
    sent = {}
    for f in sent_fields:
        if f == "redirect_http_code":
            sent[f] = policy.redirect_http_code if policy.HasField(f) else None
        else:
            sent[f] = getattr(policy, f)
    resolved, problem = rules.l7policy_action(sent, create=create)
    if problem is not None:
        raise InvalidInput(problem[1], field=problem[0])
    for f, value in resolved.items():
        if f == "redirect_http_code" and value is None:
            policy.ClearField(f)
        else:
            setattr(policy, f, value or type(getattr(policy, f))())
    return sorted(resolved)


def _set(msg: Message, values: dict, names) -> None:
    for name in names:
        value = values[name]
        if isinstance(value, list):
            del getattr(msg, name)[:]
            getattr(msg, name).extend(value)
        else:
            setattr(msg, name, value)


def _defaults(kind: str, obj: Message, names=None) -> list[str]:
    """The orchestrator's defaults (rules.*_defaults) on the proto; the fields they filled."""
    if kind == "Listener":
        wanted = rules.LISTENER_TLS_DEFAULTS
        fill = lambda v: rules.listener_defaults(v, obj.protocol, names)  # noqa: E731
    elif kind == "Pool":
        wanted = rules.POOL_TLS_DEFAULTS
        fill = rules.pool_defaults if names is None else (lambda v: v)  # noqa: E731
    elif kind == "HealthMonitor":
        wanted = rules.HTTP_MONITOR_DEFAULTS
        fill = lambda v: rules.monitor_defaults(v, obj.type, names)  # noqa: E731
    else:
        return []
    values = {n: (list(v) if not isinstance(v := getattr(obj, n), str) else v) for n in wanted}
    values["tls_enabled"] = getattr(obj, "tls_enabled", False)
    filled = fill(values)
    changed = [n for n in wanted if filled[n] != values[n]]
    _set(obj, filled, changed)
    return changed


def _all_defaults(kind: str, obj: Message) -> None:
    """Defaults on a create and on what it nests."""
    _defaults(kind, obj)
    if kind == "LoadBalancer":
        for listener in obj.listeners:
            _defaults("Listener", listener)
        for pool in obj.pools:
            _all_defaults("Pool", pool)
    if kind == "Pool" and obj.HasField("healthmonitor"):
        _defaults("HealthMonitor", obj.healthmonitor)


_WRITE_PREFIXES = ("Create", "Update", "Delete", "BatchUpdate", "Failover", "Resize")


class MemoryOrchestrator:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Message]] = {k: {} for k in _KINDS}
        self.calls: list[tuple[str, Message]] = []
        self.networks: list[pb.Network] = []
        self.subnets: list[pb.Subnet] = []
        self.ports: list[pb.Port] = []
        # Set to make the next call fail with this error (error-mapping tests).
        self.fail_next: DomainError | None = None
        self.certs = MemoryCertificates()

    @property
    def writes(self) -> list[tuple[str, Message]]:
        return [(rpc, req) for rpc, req in self.calls if rpc.startswith(_WRITE_PREFIXES)]

    async def close(self) -> None:
        return None

    async def call(self, rpc: str, request: Message) -> Message:
        self.calls.append((rpc, copy.deepcopy(request)))
        if self.fail_next is not None:
            err, self.fail_next = self.fail_next, None
            raise err
        if rpc in CERTIFICATE_RPCS:
            return self.certs.call(rpc, request)
        for verb in ("Create", "Get", "Update", "Delete", "List"):
            if rpc.startswith(verb):
                handler = getattr(self, f"_{verb.lower()}", None)
                break
        else:
            handler = None
        if rpc == "GetLoadBalancerStatusTree":
            return self._status_tree(request)
        if rpc == "BatchUpdateMembers":
            return self._batch_members(request)
        if rpc == "FailoverLoadBalancer":
            self._find("LoadBalancer", request.scope, request.id)
            return pb.FailoverLoadBalancerResponse()
        if rpc == "ResizeLoadBalancer":
            self._find("LoadBalancer", request.scope, request.id)
            return pb.ResizeLoadBalancerResponse()
        if rpc == "CreateLoadBalancer" and (
            request.loadbalancer.listeners or request.loadbalancer.pools
        ):
            return self._create_graph(request)
        if rpc in ("ListNetworks", "ListSubnets", "ListPorts"):
            return self._list_network(rpc, request)
        if handler is None:
            raise NotImplementedError(rpc)
        return handler(rpc, request)

    # -- generic CRUD ---------------------------------------------------------------------
    @staticmethod
    def _kind(rpc: str, verb: str) -> str:
        noun = rpc[len(verb) :]
        if noun in _PLURAL:
            return _PLURAL[noun]
        return noun[:-1] if verb == "List" and noun.endswith("s") else noun

    def _visible(self, scope: pb.Scope, obj: Message) -> bool:
        return scope.all_projects or obj.meta.project_id == scope.project_id

    def _find(self, kind: str, scope: pb.Scope, obj_id: str) -> Message:
        obj = self.objects[kind].get(obj_id)
        if obj is None or not self._visible(scope, obj):
            label = {
                "LoadBalancer": "Load Balancer",
                "HealthMonitor": "Health Monitor",
                "L7Policy": "L7 Policy",
                "L7Rule": "L7 Rule",
            }
            raise NotFound(f"{label.get(kind, kind)} {obj_id} not found.")
        return obj

    def _store(self, kind: str, obj: Message, scope: pb.Scope) -> Message:
        now = Timestamp()
        now.GetCurrentTime()
        now.nanos = 0
        obj.meta.id = str(uuid.uuid4())
        obj.meta.created_at.CopyFrom(now)
        obj.meta.provisioning_status = st.PROVISIONING_STATUS_ACTIVE
        obj.meta.operating_status = st.OPERATING_STATUS_ONLINE
        if not obj.meta.project_id:
            obj.meta.project_id = scope.project_id
        self.objects[kind][obj.meta.id] = obj
        return obj

    def _create(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Create")
        field, cls = _KINDS[kind]
        obj = cls()
        obj.CopyFrom(getattr(request, field))
        _all_defaults(kind, obj)
        if kind == "L7Policy":
            _resolve_action(obj, ["action", *rules.L7_REDIRECT_FIELDS], create=True)
        self._link(kind, obj, request)
        self._store(kind, obj, request.scope)
        if kind == "L7Policy":
            self._place_policy(obj)
            for rule in list(obj.rules):
                self._store(
                    "L7Rule", g.L7Rule(l7policy_id=obj.meta.id, **_fields(rule)), request.scope
                )
            del obj.rules[:]
        out = cls()
        out.CopyFrom(self._expand(kind, obj))
        out.meta.provisioning_status = st.PROVISIONING_STATUS_PENDING_CREATE
        out.meta.operating_status = st.OPERATING_STATUS_OFFLINE
        return self._response("Create", kind, out)

    def _link(self, kind: str, obj: Message, request: Message) -> None:
        scope = request.scope
        if kind == "LoadBalancer":
            if not obj.vip.address:
                obj.vip.address = f"203.0.113.{len(self.objects['LoadBalancer']) + 10}"
            obj.vip.port_id = obj.vip.port_id or str(uuid.uuid4())
            obj.provider = obj.provider or "amphora"
        elif kind == "Listener":
            self._find("LoadBalancer", scope, obj.loadbalancer_id)
        elif kind == "Pool":
            if request.listener_id:
                listener = self._find("Listener", scope, request.listener_id)
                obj.loadbalancer_id = listener.loadbalancer_id
                obj.listener_ids.append(listener.meta.id)
                listener.default_pool_id = obj.meta.id
            self._find("LoadBalancer", scope, obj.loadbalancer_id)
        elif kind == "Member":
            self._find("Pool", scope, obj.pool_id)
        elif kind == "HealthMonitor":
            pool = self._find("Pool", scope, obj.pool_id)
            if any(h.pool_id == pool.meta.id for h in self.objects["HealthMonitor"].values()):
                raise InvalidInput("This pool already has a health monitor", field="pool_id")
        elif kind == "L7Policy":
            listener = self._find("Listener", scope, obj.listener_id)
            if listener.protocol not in ("HTTP", "TERMINATED_HTTPS"):
                # As the orchestrator does: the error names the field, the gateway shows it.
                raise InvalidInput(
                    "L7 policies are only valid on HTTP and TERMINATED_HTTPS listeners.",
                    field="listener_id",
                )
            if obj.redirect_pool_id:
                self._find("Pool", scope, obj.redirect_pool_id)
        elif kind == "L7Rule":
            self._find("L7Policy", scope, obj.l7policy_id)

    def _expand(self, kind: str, obj: Message) -> Message:
        """Fills the child references the contract returns (children by id)."""
        out = copy.deepcopy(obj)
        if kind == "LoadBalancer":
            del out.listeners[:], out.pools[:]
            for child in self.objects["Listener"].values():
                if child.loadbalancer_id == obj.meta.id:
                    out.listeners.add().meta.id = child.meta.id
            for child in self.objects["Pool"].values():
                if child.loadbalancer_id == obj.meta.id:
                    out.pools.add().meta.id = child.meta.id
        elif kind == "Listener":
            del out.l7policies[:]
            for p in self._policies(obj.meta.id):
                out.l7policies.add().meta.id = p.meta.id
        elif kind == "L7Policy":
            del out.rules[:]
            for r in self.objects["L7Rule"].values():
                if r.l7policy_id == obj.meta.id:
                    out.rules.add().meta.id = r.meta.id
        elif kind == "Pool":
            del out.members[:]
            for child in self.objects["Member"].values():
                if child.pool_id == obj.meta.id:
                    out.members.add().meta.id = child.meta.id
            out.ClearField("healthmonitor")
            for hm in self.objects["HealthMonitor"].values():
                if hm.pool_id == obj.meta.id:
                    out.healthmonitor.meta.id = hm.meta.id
        return out

    def _response(self, verb: str, kind: str, obj: Message) -> Message:
        field, _ = _KINDS[kind]
        cls = getattr(pb, f"{verb}{kind}Response")
        return cls(**{field: obj})

    def _find_child(self, kind: str, scope: pb.Scope, obj_id: str, named: Message) -> Message:
        """_find, and a member or rule must be under the pool or policy the request names (as
        the orchestrator checks)."""
        obj = self._find(kind, scope, obj_id)
        parent = _PARENT.get(kind)
        if parent and getattr(obj, parent) != getattr(named, parent):
            raise NotFound(f"{kind} {obj_id} not found.")
        return obj

    def _get(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Get")
        obj = self._find_child(kind, request.scope, request.id, request)
        return self._response("Get", kind, self._expand(kind, obj))

    def _list(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "List")
        if kind == "Member":
            self._find("Pool", request.scope, request.pool_id)
        if kind == "L7Rule":
            self._find("L7Policy", request.scope, request.l7policy_id)
        items = []
        for obj in self.objects[kind].values():
            if not self._visible(request.scope, obj):
                continue
            if (
                getattr(request, "loadbalancer_id", "")
                and obj.loadbalancer_id != request.loadbalancer_id
            ):
                continue
            parent = _PARENT.get(kind)
            if parent and getattr(obj, parent) != getattr(request, parent):
                continue
            if (
                kind == "L7Policy"
                and request.listener_id
                and obj.listener_id != request.listener_id
            ):
                continue
            items.append(self._expand(kind, obj))
        field = _LIST_FIELD.get(kind, _KINDS[kind][0] + "s")
        rpc_noun = next((k for k, v in _PLURAL.items() if v == kind), f"{kind}s")
        return getattr(pb, f"List{rpc_noun}Response")(**{field: items})

    def _update(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Update")
        field, _ = _KINDS[kind]
        incoming = getattr(request, field)
        obj = self._find_child(kind, request.scope, incoming.meta.id, incoming)
        if kind == "L7Policy":
            touched = [
                f for f in ("action", *rules.L7_REDIRECT_FIELDS) if f in request.update_mask.paths
            ]
            request.update_mask.paths.extend(
                _resolve_action(incoming, touched, create=False) if touched else []
            )
        if kind in ("Listener", "HealthMonitor"):
            # The defaults follow the stored protocol or type, which an update cannot change.
            probe = copy.deepcopy(incoming)
            if kind == "Listener":
                probe.protocol = obj.protocol
            else:
                probe.type = obj.type
            for name in _defaults(kind, probe, list(request.update_mask.paths)):
                _set(incoming, {name: getattr(probe, name)}, [name])
        request.update_mask.MergeMessage(
            incoming, obj, replace_message_field=True, replace_repeated_field=True
        )
        if kind == "L7Policy" and "position" in request.update_mask.paths:
            self._place_policy(obj)
        obj.meta.updated_at.GetCurrentTime()
        obj.meta.updated_at.nanos = 0
        return self._response("Update", kind, self._expand(kind, obj))

    def _delete(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Delete")
        obj = self._find_child(kind, request.scope, request.id, request)
        if kind == "LoadBalancer":
            children = [
                (k, o.meta.id)
                for k in ("Listener", "Pool")
                for o in self.objects[k].values()
                if o.loadbalancer_id == obj.meta.id
            ]
            if children and not request.cascade:
                raise InvalidInput("Cannot delete Load Balancer - it has children")
            for k, cid in children:
                self.objects[k].pop(cid, None)
        if kind == "Listener":
            for policy in self._policies(obj.meta.id):
                self._drop_policy(policy.meta.id)
        if kind == "L7Policy":
            self._drop_policy(obj.meta.id)
            return pb.DeleteL7PolicyResponse()
        self.objects[kind].pop(obj.meta.id)
        return getattr(pb, f"Delete{kind}Response")()

    # -- L7 policies, member batches, the fully populated create --------------------------
    def _policies(self, listener_id: str) -> list[g.L7Policy]:
        found = [p for p in self.objects["L7Policy"].values() if p.listener_id == listener_id]
        return sorted(found, key=lambda p: p.position)

    def _place_policy(self, policy: g.L7Policy) -> None:
        """Positions are 1..n on a listener: 0 (unset) or past the end appends."""
        others = [p for p in self._policies(policy.listener_id) if p.meta.id != policy.meta.id]
        at = policy.position if 0 < policy.position <= len(others) else len(others) + 1
        others.insert(at - 1, policy)
        for i, p in enumerate(others, start=1):
            p.position = i

    def _drop_policy(self, policy_id: str) -> None:
        policy = self.objects["L7Policy"].pop(policy_id)
        for rule_id in [
            r.meta.id for r in self.objects["L7Rule"].values() if r.l7policy_id == policy_id
        ]:
            self.objects["L7Rule"].pop(rule_id)
        for i, p in enumerate(self._policies(policy.listener_id), start=1):
            p.position = i

    def _batch_members(self, request: pb.BatchUpdateMembersRequest) -> Message:
        pool = self._find("Pool", request.scope, request.pool_id)
        current = {
            (m.address, m.protocol_port): m
            for m in self.objects["Member"].values()
            if m.pool_id == pool.meta.id
        }
        wanted = set()
        for incoming in request.members:
            key = (incoming.address, incoming.protocol_port)
            wanted.add(key)
            if key in current:
                kept = current[key]
                meta = copy.deepcopy(kept.meta)
                kept.CopyFrom(incoming)
                kept.meta.id = meta.id
                kept.meta.created_at.CopyFrom(meta.created_at)
                kept.meta.provisioning_status = meta.provisioning_status
                kept.meta.project_id = meta.project_id
                kept.pool_id = pool.meta.id
            else:
                member = g.Member()
                member.CopyFrom(incoming)
                member.pool_id = pool.meta.id
                self._store("Member", member, request.scope)
        if not request.additive_only:
            for key, member in current.items():
                if key not in wanted:
                    self.objects["Member"].pop(member.meta.id)
        return pb.BatchUpdateMembersResponse()

    def _create_graph(self, request: pb.CreateLoadBalancerRequest) -> Message:
        """Creates the load balancer and every child; pools are referenced by NAME."""
        graph = request.loadbalancer
        _all_defaults("LoadBalancer", graph)
        for listener in graph.listeners:
            for policy in listener.l7policies:
                _resolve_action(policy, ["action", *rules.L7_REDIRECT_FIELDS], create=True)
        lb = g.LoadBalancer()
        lb.CopyFrom(graph)
        del lb.listeners[:], lb.pools[:]
        self._link("LoadBalancer", lb, request)
        self._store("LoadBalancer", lb, request.scope)
        out = copy.deepcopy(lb)
        pool_ids: dict[str, str] = {}
        for p in graph.pools:
            pool = g.Pool()
            pool.CopyFrom(p)
            pool.loadbalancer_id = lb.meta.id
            del pool.members[:]
            pool.ClearField("healthmonitor")
            self._store("Pool", pool, request.scope)
            pool_ids[pool.meta.name] = pool.meta.id
            full = out.pools.add()
            full.CopyFrom(pool)
            for m in p.members:
                member = g.Member()
                member.CopyFrom(m)
                member.pool_id = pool.meta.id
                full.members.append(self._store("Member", member, request.scope))
            if p.HasField("healthmonitor"):
                hm = g.HealthMonitor()
                hm.CopyFrom(p.healthmonitor)
                hm.pool_id = pool.meta.id
                full.healthmonitor.CopyFrom(self._store("HealthMonitor", hm, request.scope))

        def pool_id(ref: str, field: str) -> str:
            if ref and ref not in pool_ids:
                raise InvalidInput(f"No pool named {ref} in the load balancer.", field=field)
            return pool_ids.get(ref, "")

        for li in graph.listeners:
            listener = g.Listener()
            listener.CopyFrom(li)
            listener.loadbalancer_id = lb.meta.id
            listener.default_pool_id = pool_id(li.default_pool_id, "default_pool")
            del listener.l7policies[:]
            self._store("Listener", listener, request.scope)
            full = out.listeners.add()
            full.CopyFrom(listener)
            if listener.default_pool_id:
                default = self.objects["Pool"][listener.default_pool_id]
                default.listener_ids.append(listener.meta.id)
                next(x for x in out.pools if x.meta.id == default.meta.id).listener_ids.append(
                    listener.meta.id
                )
            for position, pol in enumerate(li.l7policies, start=1):
                policy = g.L7Policy()
                policy.CopyFrom(pol)
                policy.listener_id = listener.meta.id
                policy.position = pol.position or position
                policy.redirect_pool_id = pool_id(pol.redirect_pool_id, "redirect_pool")
                del policy.rules[:]
                self._store("L7Policy", policy, request.scope)
                full_policy = full.l7policies.add()
                full_policy.CopyFrom(policy)
                for r in pol.rules:
                    rule = g.L7Rule()
                    rule.CopyFrom(r)
                    rule.l7policy_id = policy.meta.id
                    full_policy.rules.append(self._store("L7Rule", rule, request.scope))
        _pending(out)
        return pb.CreateLoadBalancerResponse(loadbalancer=out)

    # -- status tree and networks -------------------------------------------------------
    def _status_tree(self, request: pb.GetLoadBalancerStatusTreeRequest) -> Message:
        lb = self._find("LoadBalancer", request.scope, request.id)
        tree = pb.StatusTree(loadbalancer=_node(lb))
        for listener in self.objects["Listener"].values():
            if listener.loadbalancer_id != lb.meta.id:
                continue
            ls = tree.listeners.add(listener=_node(listener))
            for pool in self.objects["Pool"].values():
                if (
                    listener.meta.id not in pool.listener_ids
                    and pool.meta.id != listener.default_pool_id
                ):
                    continue
                ps = ls.pools.add(pool=_node(pool))
                for member in self.objects["Member"].values():
                    if member.pool_id == pool.meta.id:
                        node = _node(member)
                        node.attributes["address"] = member.address
                        node.attributes["protocol_port"] = str(member.protocol_port)
                        ps.members.append(node)
                for hm in self.objects["HealthMonitor"].values():
                    if hm.pool_id == pool.meta.id:
                        ps.healthmonitor.CopyFrom(_node(hm))
                        ps.healthmonitor.attributes["type"] = hm.type
        return pb.GetLoadBalancerStatusTreeResponse(tree=tree)

    def _list_network(self, rpc: str, request: Message) -> Message:
        source = {
            "ListNetworks": self.networks,
            "ListSubnets": self.subnets,
            "ListPorts": self.ports,
        }[rpc]
        items = [
            x
            for x in source
            if (not request.id or x.id == request.id)
            and (not request.name or x.name == request.name)
            and (
                rpc == "ListNetworks"
                or not request.network_id
                or x.network_id == request.network_id
            )
        ]
        field = rpc[len("List") :].lower()
        return getattr(pb, f"{rpc}Response")(**{field: items})


def _node(obj: Message) -> pb.StatusNode:
    return pb.StatusNode(
        id=obj.meta.id,
        name=obj.meta.name,
        provisioning_status=obj.meta.provisioning_status,
        operating_status=obj.meta.operating_status,
    )


def _fields(msg: Message) -> dict:
    """The set fields of a message, as keyword arguments for a new one of the same type."""
    return {f.name: v for f, v in msg.ListFields()}


def _pending(msg: Message) -> None:
    """Marks a freshly created object and all its children PENDING_CREATE / OFFLINE."""
    if hasattr(msg, "meta"):
        msg.meta.provisioning_status = st.PROVISIONING_STATUS_PENDING_CREATE
        msg.meta.operating_status = st.OPERATING_STATUS_OFFLINE
    for field, value in msg.ListFields():
        if field.message_type is None or field.name == "meta":
            continue
        for child in [value] if isinstance(value, Message) else value:
            if isinstance(child, Message):  # map fields iterate over their keys
                _pending(child)
