"""Requests and views map to the contract by name (schemas/shape.py): a field declared in the
request or view model flows with no converter, and a name the message lacks fails at import."""

from __future__ import annotations

import pytest
from lbaas.common.v1 import graph_pb2 as g

from services.api_gateway.schemas import member, shape
from services.api_gateway.schemas.common import MetaView
from services.api_gateway.schemas.fields import Strict


class _Body(Strict):
    weight: int | None = None
    monitor_port: int | None = None
    monitor_address: str | None = None
    name: str | None = None
    not_in_the_contract: str | None = None


class _View(MetaView):
    weight: int
    monitor_port: int | None
    monitor_address: str | None


def test_fill_copies_by_name_with_defaults_and_leaves_unset_fields_unset():
    msg = g.Member()
    shape.fill(
        msg, _Body(monitor_address="192.0.2.1", name="m", not_in_the_contract="x"), {"weight": 7}
    )
    assert (msg.weight, msg.monitor_address) == (7, "192.0.2.1")
    assert not msg.HasField("monitor_port")
    assert msg.meta.name == ""  # common fields are fill_meta's


def test_view_derives_values_and_nulls_from_the_annotation():
    msg = g.Member(weight=3)
    msg.meta.id = "m1"
    out = shape.view(_View, g.Member)(msg)
    assert out["weight"] == 3 and out["monitor_port"] is None and out["monitor_address"] is None
    assert out["id"] == "m1"
    assert list(out) == list(_View.model_fields)


def test_a_name_the_contract_lacks_fails_at_import():
    class Broken(MetaView):
        no_such_field: str

    with pytest.raises(LookupError, match="no_such_field"):
        shape.view(Broken, g.Member)
    with pytest.raises(LookupError, match="not_in_the_contract"):
        shape.update_paths(_Body, g.Member)


def test_update_paths_put_common_fields_under_meta():
    assert member._UPDATE_PATHS["name"] == "meta.name"
    assert member._UPDATE_PATHS["monitor_port"] == "monitor_port"
