"""The codec maps graph messages and table rows by name (codec/names.py names the exceptions).

A proto field without its column, or a column without its field, fails here naming it; a new
plain field flows through encode, create and update with no edit of the codec."""

from __future__ import annotations

import dataclasses

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, timestamp_pb2
from google.protobuf.message_factory import GetMessageClass
from lbaas.common.v1 import graph_pb2, status_pb2
from sqlalchemy import Column, String, inspect
from sqlalchemy.orm import DeclarativeBase

from services.orchestrator.adapters.db.models import MemberRow
from services.orchestrator.codec import decode, encode, names
from services.orchestrator.codec.names import Entity

CODEC = pytest.mark.parametrize(
    ("entity", "paths", "create"),
    [
        pytest.param(entity, paths, create, id=entity.row.__name__)
        for entity, paths, create in [
            (names.LOADBALANCER, decode.LOADBALANCER_PATHS, decode.loadbalancer_fields),
            (names.LISTENER, decode.LISTENER_PATHS, decode.listener_fields),
            (names.POOL, decode.POOL_PATHS, decode.pool_fields),
            (names.MEMBER, decode.MEMBER_PATHS, decode.member_fields),
            (names.HEALTH_MONITOR, decode.HEALTH_MONITOR_PATHS, decode.health_monitor_fields),
            (names.L7POLICY, decode.L7POLICY_PATHS, decode.l7policy_fields),
            (names.L7RULE, decode.L7RULE_PATHS, decode.l7rule_fields),
        ]
    ],
)
ENTITIES = pytest.mark.parametrize("entity", names.ENTITIES, ids=lambda e: e.row.__name__)


def _proto_paths(entity: Entity) -> set[str]:
    out = set()
    for f in entity.message.DESCRIPTOR.fields:
        out.add(f.name)
        if f.name in entity.flattened:
            out |= {f"{f.name}.{sub.name}" for sub in f.message_type.fields}
    return out


def problems(entity: Entity) -> list[str]:
    """What breaks the by-name contract between the entity's message and its row."""
    columns = set(inspect(entity.row).columns.keys())
    name = entity.message.DESCRIPTOR.name
    out = [
        f"{name}.{m.path}: no column {m.column!r}; add it, or name the field in codec/names.py"
        for m in names.mapped(entity)
        if m.column not in columns
    ]
    carried = {m.column for m in names.mapped(entity)}
    carried |= {entity.renamed.get(f, f) for f in entity.by_hand}
    out += [
        f"{entity.row.__name__}.{c}: no field in {name}; add it, or name the column as hidden"
        for c in sorted(columns - carried - set(entity.hidden))
    ]
    named = [
        *entity.renamed,
        *entity.not_columns,
        *entity.by_hand,
        *entity.read_only,
        *entity.create_only,
        *entity.empty_is_null,
        *entity.defaults,
    ]
    out += [
        f"{name}: names.py names {p!r}, no such field"
        for p in named
        if p not in _proto_paths(entity)
    ]
    out += [
        f"{entity.row.__name__}: hidden {c!r} is no column"
        for c in entity.hidden
        if c not in columns
    ]
    out += [
        f"{name}.{p}: both read-only and create-only"
        for p in set(entity.read_only) & set(entity.create_only)
    ]
    return out


@ENTITIES
def test_every_field_is_a_column_and_every_column_a_field_unless_named(entity):
    assert problems(entity) == []


def _settable(entity: Entity) -> set[str]:
    """What a request may set: every mapped field and by-hand column, less the read-only."""
    paths = {m.path for m in names.mapped(entity)} | set(entity.by_hand)
    return paths - set(entity.read_only)


@CODEC
def test_updatable_paths_are_the_fields_less_the_named_create_only_ones(entity, paths, create):
    assert set(paths) == _settable(entity) - set(entity.create_only)


@CODEC
def test_a_create_sets_every_settable_field(entity, paths, create):
    columns = {entity.renamed.get(p, p) for p in entity.by_hand}
    columns |= {m.column for m in names.mapped(entity) if m.path in _settable(entity)}
    nested = {"listeners", "pools"} if entity is names.LOADBALANCER else set()
    assert set(create(entity.message())) == columns | nested


# -- a new field -----------------------------------------------------------------------------


def _member_message_with(field: str) -> type:
    """graph.proto's Member plus one string field, in a pool of its own."""
    pool = descriptor_pool.DescriptorPool()
    for module in (timestamp_pb2, status_pb2, graph_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        for message in proto.message_type:
            if message.name == "Member":
                message.field.add(
                    name=field,
                    number=99,
                    type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                    label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
                )
        pool.Add(proto)
    return GetMessageClass(pool.FindMessageTypeByName("lbaas.common.v1.Member"))


def _member_row_with(column: str) -> type:
    class Base(DeclarativeBase):
        pass

    table = MemberRow.__table__.to_metadata(Base.metadata)
    table.append_column(Column(column, String(64), default=""))
    return type("MemberPlusRow", (Base,), {"__table__": table})


def test_a_new_field_flows_with_no_codec_edit():
    entity = dataclasses.replace(
        names.MEMBER, message=_member_message_with("zone"), row=_member_row_with("zone")
    )
    assert problems(entity) == []

    row = entity.row(
        id="m1",
        project_id="p",
        name="n",
        description="",
        admin_state_up=True,
        provisioning_status="ACTIVE",
        operating_status="ONLINE",
        pool_id="pool",
        address="10.0.0.5",
        protocol_port=80,
        weight=1,
        backup=False,
        subnet_id="",
        monitor_address="",
        vnic_type="normal",
        zone="eu-1",
    )
    msg = encode._Builder(entity)(row)
    assert msg.zone == "eu-1" and msg.address == "10.0.0.5"

    created = {column: get(msg) for column, get in decode._decoded(entity, update=False).values()}
    assert created["zone"] == "eu-1"
    updatable = decode._decoded(entity, update=True)
    msg.zone = "eu-2"
    assert decode.changes(msg, ["zone"], updatable) == {"zone": "eu-2"}


def test_a_field_without_its_column_is_named():
    entity = dataclasses.replace(names.MEMBER, message=_member_message_with("zone"))
    assert any(p.startswith("Member.zone: no column 'zone'") for p in problems(entity))


def test_a_column_without_its_field_is_named():
    entity = dataclasses.replace(names.MEMBER, row=_member_row_with("zone"))
    assert "MemberPlusRow.zone: no field in Member; add it, or name the column as hidden" in (
        problems(entity)
    )
