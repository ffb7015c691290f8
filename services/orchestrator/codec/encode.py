"""Database rows -> lbaas.common.v1 / lbaas.orchestrator.v1 messages."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2, status_pb2
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.orchestrator.adapters.db.admin_models import (
    AvailabilityZoneProfileRow,
    AvailabilityZoneRow,
    FlavorProfileRow,
    FlavorRow,
)
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from services.orchestrator.adapters.db.models import (
    AmphoraRow,
    HealthMonitorRow,
    L7PolicyRow,
    L7RuleRow,
    ListenerRow,
    LoadBalancerRow,
    MemberRow,
    PoolRow,
)
from services.orchestrator.codec import names

RowFilter = Callable[[Any], bool]


def _everything(_: Any) -> bool:
    return True


def provisioning_status(name: str) -> int:
    return status_pb2.ProvisioningStatus.Value(f"PROVISIONING_STATUS_{name}")


def operating_status(name: str) -> int:
    return status_pb2.OperatingStatus.Value(f"OPERATING_STATUS_{name}")


def operating_status_name(value: int) -> str:
    return status_pb2.OperatingStatus.Name(value).removeprefix("OPERATING_STATUS_")


# -- rows -> messages by name (codec/names.py names the exceptions) ----------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _timestamp(value: dt.datetime | None) -> Timestamp | None:
    """What Timestamp.FromDatetime gives, without its per-call overhead (aware or naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - _EPOCH
    return Timestamp(seconds=delta.days * 86400 + delta.seconds, nanos=delta.microseconds * 1000)


def _enum(enum: Any) -> Callable[[str], int]:
    """A column's "ACTIVE" -> the value of PROVISIONING_STATUS_ACTIVE (the enum's name prefix)."""
    prefix = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", enum.name).upper() + "_"
    return {v.name.removeprefix(prefix): v.number for v in enum.values}.__getitem__


def _converter(f: FieldDescriptor) -> Callable[[Any], Any] | None:
    """None where the message's constructor takes the column value as it is (None is unset)."""
    if f.enum_type is not None:
        return _enum(f.enum_type)
    if f.message_type is None or f.message_type.GetOptions().map_entry:
        return None
    if f.message_type.full_name == "google.protobuf.Timestamp" and not f.is_repeated:
        return _timestamp
    raise TypeError(f"{f.full_name}: no column conversion for this type; see codec/names.py")


class _Builder:
    """Builds one message type from a row, by name. What to read and convert is worked out
    once per type: the list encodings build a thousand messages per call."""

    def __init__(self, entity: names.Entity, sub: str = "") -> None:
        """The entity's message, or with `sub` one of its flattened sub-messages ("meta")."""
        message = entity.message
        fields = []
        for m in names.mapped(entity):
            top, _, name = m.path.rpartition(".")
            if top == sub:
                fields.append((name, m.column, m.field))
        if sub:
            message = GetMessageClass(message.DESCRIPTOR.fields_by_name[sub].message_type)
        self._message = message
        self._names = tuple(name for name, _, _ in fields)
        columns = attrgetter(*(column for _, column, _ in fields))
        self._get = columns if len(fields) > 1 else lambda row: (columns(row),)
        self._convert = [(name, c) for name, _, f in fields if (c := _converter(f)) is not None]
        self._subs = [] if sub else [(name, _Builder(entity, name)) for name in entity.flattened]

    def __call__(self, row: Any, **by_hand: Any) -> Any:
        values = dict(zip(self._names, self._get(row), strict=False))
        for name, convert in self._convert:
            values[name] = convert(values[name])
        for name, build in self._subs:
            values[name] = build(row)
        return self._message(**values, **by_hand)


_LOADBALANCER = _Builder(names.LOADBALANCER)
_LISTENER = _Builder(names.LISTENER)
_POOL = _Builder(names.POOL)
_MEMBER = _Builder(names.MEMBER)
_HEALTH_MONITOR = _Builder(names.HEALTH_MONITOR)
_L7POLICY = _Builder(names.L7POLICY)
_L7RULE = _Builder(names.L7RULE)
_META = _Builder(names.MEMBER, "meta")


def meta(row: Any) -> graph_pb2.ResourceMeta:
    return _META(row)


def health_monitor(row: HealthMonitorRow) -> graph_pb2.HealthMonitor:
    return _HEALTH_MONITOR(row)


def member(row: MemberRow) -> graph_pb2.Member:
    return _MEMBER(row)


def _session_persistence(sp: dict[str, Any] | None) -> graph_pb2.SessionPersistence | None:
    if not sp:
        return None
    return graph_pb2.SessionPersistence(
        type=sp.get("type", ""),
        cookie_name=sp.get("cookie_name") or "",
        persistence_timeout=sp.get("persistence_timeout"),
        persistence_granularity=sp.get("persistence_granularity") or "",
    )


def pool(row: PoolRow, include: RowFilter = _everything, *, nested: bool = True) -> graph_pb2.Pool:
    """A pool; with nested, its members and health monitor (those `include` accepts)."""
    monitors = [hm for hm in row.health_monitors if include(hm)] if nested else []
    return _POOL(
        row,
        listener_ids=[
            listener.id
            for listener in row.loadbalancer.listeners
            if listener.default_pool_id == row.id and include(listener)
        ],
        session_persistence=_session_persistence(row.session_persistence),
        members=[member(m) for m in row.members if include(m)] if nested else None,
        healthmonitor=health_monitor(monitors[0]) if monitors else None,
    )


def listener(row: ListenerRow, include: RowFilter = _everything) -> graph_pb2.Listener:
    msg = _LISTENER(row, l7policies=[l7policy(p, include) for p in row.l7policies if include(p)])
    if row.default_pool_id:
        pools = {p.id: p for p in row.loadbalancer.pools}
        if row.default_pool_id in pools and not include(pools[row.default_pool_id]):
            msg.default_pool_id = ""
    return msg


def l7rule(row: L7RuleRow) -> graph_pb2.L7Rule:
    return _L7RULE(row)


def l7policy(row: L7PolicyRow, include: RowFilter = _everything) -> graph_pb2.L7Policy:
    """An L7 policy with its rules (those `include` accepts)."""
    return _L7POLICY(row, rules=[l7rule(r) for r in row.rules if include(r)])


def _additional_vips(row: Any) -> list[graph_pb2.AdditionalVip]:
    return [
        graph_pb2.AdditionalVip(subnet_id=v["subnet_id"], ip_address=v["ip_address"])
        for v in row.additional_vips or ()
    ]


def loadbalancer(
    row: LoadBalancerRow, include: RowFilter = _everything, *, nested: bool = True
) -> graph_pb2.LoadBalancer:
    """A load balancer; with nested, its listeners and pools (with members and monitor).
    `include` drops rows, e.g. those being deleted when building the graph to render."""
    msg = _LOADBALANCER(row, additional_vips=_additional_vips(row))
    if nested:
        msg.listeners.extend(listener(li, include) for li in row.listeners if include(li))
        msg.pools.extend(pool(p, include) for p in row.pools if include(p))
    return msg


# -- lists: plain rows (service_layer.loadbalancers.list_summaries), no ORM objects -------------


def loadbalancer_summary(
    row: Any, listener_ids: list[str] | None = None, pool_ids: list[str] | None = None
) -> graph_pb2.LoadBalancer:
    """A load balancer for a list: what loadbalancer(row, nested=False) gives, from a plain row
    of service_layer.loadbalancers.SUMMARY_COLUMNS, plus its listeners and pools as ids only
    (meta.id and loadbalancer_id), as a show lists them."""
    msg = _LOADBALANCER(row, additional_vips=_additional_vips(row))
    if listener_ids:
        msg.listeners.extend(
            graph_pb2.Listener(meta=graph_pb2.ResourceMeta(id=i), loadbalancer_id=row.id)
            for i in listener_ids
        )
    if pool_ids:
        msg.pools.extend(
            graph_pb2.Pool(meta=graph_pb2.ResourceMeta(id=i), loadbalancer_id=row.id)
            for i in pool_ids
        )
    return msg


def amphora(row: AmphoraRow) -> pb.Amphora:
    return pb.Amphora(
        id=row.id,
        loadbalancer_id=row.load_balancer_id or "",
        status=row.status,
        agent_address=row.agent_address,
        compute_id=row.compute_id,
        vip_address=row.vip_address,
        role=row.role,
        applied_config_hash=row.applied_config_hash,
        backend_type=row.backend_type,
    )


def _node(row: Any, **attributes: str) -> pb.StatusNode:
    return pb.StatusNode(
        id=row.id,
        name=row.name,
        provisioning_status=provisioning_status(row.provisioning_status),
        operating_status=operating_status(row.operating_status),
        attributes=attributes,
    )


def _listener_pools(li: ListenerRow, pools: dict[str, PoolRow]) -> list[PoolRow]:
    """Octavia's listener.pools: the default pool, then the pools its L7 policies redirect to."""
    ids = [li.default_pool_id or ""] + [p.redirect_pool_id or "" for p in li.l7policies]
    out: list[PoolRow] = []
    for pool_id in ids:
        if pool_id in pools and pools[pool_id] not in out:
            out.append(pools[pool_id])
    return out


def status_tree(lb: LoadBalancerRow) -> pb.StatusTree:
    """Octavia's status tree: load balancer -> listeners -> (default) pools -> monitor, members."""
    pools = {p.id: p for p in lb.pools}
    tree = pb.StatusTree(loadbalancer=_node(lb))
    for li in lb.listeners:
        entry = pb.ListenerStatus(listener=_node(li))
        for p in _listener_pools(li, pools):
            ps = pb.PoolStatus(pool=_node(p))
            if p.health_monitors:
                hm = p.health_monitors[0]
                ps.healthmonitor.CopyFrom(_node(hm, type=hm.type))
            ps.members.extend(
                _node(m, address=m.address, protocol_port=str(m.protocol_port)) for m in p.members
            )
            entry.pools.append(ps)
        tree.listeners.append(entry)
    return tree


# -- operator catalogue and certificates ------------------------------------------------------


def flavor_profile(row: FlavorProfileRow) -> admin_pb2.FlavorProfile:
    return admin_pb2.FlavorProfile(
        id=row.id, name=row.name, provider_name=row.provider_name, flavor_data=row.flavor_data
    )


def flavor(row: FlavorRow) -> admin_pb2.Flavor:
    return admin_pb2.Flavor(
        id=row.id,
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        flavor_profile_id=row.flavor_profile_id,
    )


def availability_zone_profile(row: AvailabilityZoneProfileRow) -> admin_pb2.AvailabilityZoneProfile:
    return admin_pb2.AvailabilityZoneProfile(
        id=row.id,
        name=row.name,
        provider_name=row.provider_name,
        availability_zone_data=row.availability_zone_data,
    )


def availability_zone(row: AvailabilityZoneRow) -> admin_pb2.AvailabilityZone:
    return admin_pb2.AvailabilityZone(
        name=row.name,
        description=row.description,
        enabled=row.enabled,
        availability_zone_profile_id=row.availability_zone_profile_id,
    )


def certificate(row: CertificateRow) -> pb.Certificate:
    """The catalogue columns; never any key material."""
    out = pb.Certificate(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        ref=row.ref,
        type=row.type,
        hostnames=json.loads(row.hostnames or "[]"),
        subject=row.subject,
    )
    if row.expires_at is not None:
        out.expires_at.FromDatetime(row.expires_at)
    if row.created_at is not None:
        out.created_at.FromDatetime(row.created_at)
    return out
