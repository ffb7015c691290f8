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

_KINDS = {
    "LoadBalancer": ("loadbalancer", g.LoadBalancer),
    "Listener": ("listener", g.Listener),
    "Pool": ("pool", g.Pool),
    "Member": ("member", g.Member),
    "HealthMonitor": ("healthmonitor", g.HealthMonitor),
}
_WRITE_PREFIXES = ("Create", "Update", "Delete")


class MemoryOrchestrator:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Message]] = {k: {} for k in _KINDS}
        self.calls: list[tuple[str, Message]] = []
        self.networks: list[pb.Network] = []
        self.subnets: list[pb.Subnet] = []
        self.ports: list[pb.Port] = []
        # Set to make the next call fail with this error (error-mapping tests).
        self.fail_next: DomainError | None = None

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
        for verb in ("Create", "Get", "Update", "Delete", "List"):
            if rpc.startswith(verb):
                handler = getattr(self, f"_{verb.lower()}", None)
                break
        else:
            handler = None
        if rpc == "GetLoadBalancerStatusTree":
            return self._status_tree(request)
        if rpc in ("ListNetworks", "ListSubnets", "ListPorts"):
            return self._list_network(rpc, request)
        if handler is None:
            raise NotImplementedError(rpc)
        return handler(rpc, request)

    # -- generic CRUD ---------------------------------------------------------------------
    @staticmethod
    def _kind(rpc: str, verb: str) -> str:
        noun = rpc[len(verb) :]
        return noun[:-1] if verb == "List" and noun.endswith("s") else noun

    def _visible(self, scope: pb.Scope, obj: Message) -> bool:
        return scope.all_projects or obj.meta.project_id == scope.project_id

    def _find(self, kind: str, scope: pb.Scope, obj_id: str) -> Message:
        obj = self.objects[kind].get(obj_id)
        if obj is None or not self._visible(scope, obj):
            label = {"LoadBalancer": "Load Balancer", "HealthMonitor": "Health Monitor"}
            raise NotFound(f"{label.get(kind, kind)} {obj_id} not found.")
        return obj

    def _create(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Create")
        field, cls = _KINDS[kind]
        obj = cls()
        obj.CopyFrom(getattr(request, field))
        now = Timestamp()
        now.GetCurrentTime()
        now.nanos = 0
        obj.meta.id = str(uuid.uuid4())
        obj.meta.created_at.CopyFrom(now)
        obj.meta.provisioning_status = st.PROVISIONING_STATUS_ACTIVE
        obj.meta.operating_status = st.OPERATING_STATUS_ONLINE
        if not obj.meta.project_id:
            obj.meta.project_id = request.scope.project_id
        self._link(kind, obj, request)
        self.objects[kind][obj.meta.id] = obj
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

    def _get(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Get")
        obj = self._find(kind, request.scope, request.id)
        if kind == "Member" and obj.pool_id != request.pool_id:
            raise NotFound(f"Member {request.id} not found.")
        return self._response("Get", kind, self._expand(kind, obj))

    def _list(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "List")
        if kind == "Member":
            self._find("Pool", request.scope, request.pool_id)
        items = []
        for obj in self.objects[kind].values():
            if not self._visible(request.scope, obj):
                continue
            if (
                getattr(request, "loadbalancer_id", "")
                and obj.loadbalancer_id != request.loadbalancer_id
            ):
                continue
            if kind == "Member" and obj.pool_id != request.pool_id:
                continue
            items.append(self._expand(kind, obj))
        field = {"LoadBalancer": "loadbalancers", "HealthMonitor": "healthmonitors"}.get(
            kind, _KINDS[kind][0] + "s"
        )
        return getattr(pb, f"List{kind}sResponse")(**{field: items})

    def _update(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Update")
        field, _ = _KINDS[kind]
        incoming = getattr(request, field)
        obj = self._find(kind, request.scope, incoming.meta.id)
        request.update_mask.MergeMessage(
            incoming, obj, replace_message_field=True, replace_repeated_field=True
        )
        obj.meta.updated_at.GetCurrentTime()
        obj.meta.updated_at.nanos = 0
        return self._response("Update", kind, self._expand(kind, obj))

    def _delete(self, rpc: str, request: Message) -> Message:
        kind = self._kind(rpc, "Delete")
        obj = self._find(kind, request.scope, request.id)
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
        self.objects[kind].pop(obj.meta.id)
        return getattr(pb, f"Delete{kind}Response")()

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
