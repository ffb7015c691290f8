"""Where the graph messages and their table rows differ.

The protobuf message is the field list: each field maps to the row's column of the same name,
and a request may update it through a FieldMask. This module names every exception to that, so
a new plain field needs only the proto, the column and (for an exception) a line here. Names are
FieldMask paths of the message ("vip.port_id"), except `hidden`, which names columns.
tests/unit/orchestrator/test_codec_by_name.py checks the tables against the protos and rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from google.protobuf.descriptor import FieldDescriptor
from lbaas.common.v1 import graph_pb2

from services.orchestrator.adapters.db.models import (
    HealthMonitorRow,
    L7PolicyRow,
    L7RuleRow,
    ListenerRow,
    LoadBalancerRow,
    MemberRow,
    PoolRow,
)


@dataclass(frozen=True)
class Entity:
    message: Any
    row: Any
    # Sub-messages whose fields are columns of this row, by name with a prefix.
    flattened: dict[str, str] = field(default_factory=lambda: {"meta": ""})
    # Proto field -> its column, where the names differ.
    renamed: dict[str, str] = field(default_factory=dict)
    # Fields that are no column: nested rows, and what is read from them.
    not_columns: tuple[str, ...] = ()
    # Columns holding a message as JSON, converted by hand (encode.py and decode.py).
    by_hand: tuple[str, ...] = ()
    # Columns no field carries.
    hidden: tuple[str, ...] = ()
    # Fields the service sets and a request never does.
    read_only: tuple[str, ...] = ()
    # Fields a create sets and an update may not change.
    create_only: tuple[str, ...] = ()
    # String fields whose "" is NULL in the column (optional foreign keys).
    empty_is_null: tuple[str, ...] = ()
    # The column value a request's empty field stands for.
    defaults: dict[str, str] = field(default_factory=dict)


_STATUS = (
    "meta.provisioning_status",
    "meta.operating_status",
    "meta.created_at",
    "meta.updated_at",
)
# A child takes its project from its parent.
_CHILD = (*_STATUS, "meta.project_id")

LOADBALANCER = Entity(
    graph_pb2.LoadBalancer,
    LoadBalancerRow,
    flattened={"meta": "", "vip": "vip_"},
    not_columns=("listeners", "pools"),
    by_hand=("additional_vips",),
    hidden=("applied_version", "reconcile_failures", "backend"),
    read_only=(*_STATUS, "vip.port_id", "desired_version", "status_reason"),
    create_only=(
        "meta.id",
        "meta.project_id",
        "vip.address",
        "vip.subnet_id",
        "vip.network_id",
        "provider",
        "flavor_id",
        "availability_zone",
        "topology",
        "vip_vnic_type",
        "additional_vips",
    ),
    empty_is_null=("status_reason",),
    defaults={"vip_vnic_type": "normal"},
)
LISTENER = Entity(
    graph_pb2.Listener,
    ListenerRow,
    renamed={"loadbalancer_id": "load_balancer_id"},
    not_columns=("l7policies",),
    read_only=_CHILD,
    create_only=("meta.id", "loadbalancer_id", "protocol", "protocol_port"),
    empty_is_null=("default_pool_id",),
    defaults={"client_authentication": "NONE"},
)
POOL = Entity(
    graph_pb2.Pool,
    PoolRow,
    renamed={"loadbalancer_id": "load_balancer_id"},
    not_columns=("listener_ids", "members", "healthmonitor"),
    by_hand=("session_persistence",),
    read_only=_CHILD,
    create_only=("meta.id", "loadbalancer_id", "protocol"),
)
MEMBER = Entity(
    graph_pb2.Member,
    MemberRow,
    read_only=_CHILD,
    create_only=("meta.id", "pool_id", "address", "protocol_port", "subnet_id", "vnic_type"),
    defaults={"vnic_type": "normal"},
)
HEALTH_MONITOR = Entity(
    graph_pb2.HealthMonitor,
    HealthMonitorRow,
    read_only=_CHILD,
    create_only=("meta.id", "pool_id", "type"),
)
L7POLICY = Entity(
    graph_pb2.L7Policy,
    L7PolicyRow,
    not_columns=("rules",),
    read_only=_CHILD,
    create_only=("meta.id", "listener_id"),
    empty_is_null=("redirect_pool_id",),
)
L7RULE = Entity(
    graph_pb2.L7Rule,
    L7RuleRow,
    read_only=_CHILD,
    create_only=("meta.id", "l7policy_id"),
)
ENTITIES = (LOADBALANCER, LISTENER, POOL, MEMBER, HEALTH_MONITOR, L7POLICY, L7RULE)


class Mapped(NamedTuple):
    path: str
    column: str
    field: FieldDescriptor


def mapped(entity: Entity) -> list[Mapped]:
    """The fields that map to a column by name (or by `renamed`), in proto order."""
    out = []
    for f in entity.message.DESCRIPTOR.fields:
        if f.name in entity.not_columns or f.name in entity.by_hand:
            continue
        if f.name in entity.flattened:
            prefix = entity.flattened[f.name]
            for sub in f.message_type.fields:
                path = f"{f.name}.{sub.name}"
                out.append(Mapped(path, entity.renamed.get(path, prefix + sub.name), sub))
        else:
            out.append(Mapped(f.name, entity.renamed.get(f.name, f.name), f))
    return out
