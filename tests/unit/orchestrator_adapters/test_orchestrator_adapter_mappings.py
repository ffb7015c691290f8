"""Pure parts of the orchestrator's compute, agent and renderer adapters."""

from __future__ import annotations

import grpc
import pytest
from lbaas.amphora.v1 import amphora_service_pb2

from services.common.errors import (
    ERROR_METADATA_KEY,
    DomainError,
    InvalidInput,
    NotFound,
    Precondition,
    Unavailable,
)
from services.orchestrator.adapters.agent_client import (
    UNKNOWN_APPLY_RESULT,
    apply_result_name,
    map_agent_error,
)
from services.orchestrator.adapters.compute_local import (
    format_compute_id,
    parse_compute_id,
    parse_proc_stat,
)
from services.orchestrator.adapters.renderer_client import build_target, map_renderer_error
from services.orchestrator.domain.ports import AgentInfo, ApplyOutcome


def test_compute_id_round_trip():
    assert parse_compute_id(format_compute_id(4242, 987654)) == (4242, 987654)
    assert parse_compute_id(format_compute_id(4194304, 2**40 + 7)) == (4194304, 2**40 + 7)


def test_compute_id_is_uuid_shaped_and_old_ids_still_parse():
    # Octavia's clients (and its API tests) take compute_id for a UUID, as Nova's.
    import uuid

    assert str(uuid.UUID(format_compute_id(4242, 987654))) == format_compute_id(4242, 987654)
    # The "<pid>:<start>" form of earlier releases, still in an upgraded database.
    assert parse_compute_id("4242:987654") == (4242, 987654)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "4242",
        ":1",
        "12:",
        "a:1",
        "1:b",
        "-1:5",
        "0:5",
        "1:2:3",
        "00000000-0000-8000-8000-000000000005",
        "0000001a-0000-4000-8000-000000000005",
    ],
)
def test_malformed_compute_id_is_invalid_input(bad):
    with pytest.raises(InvalidInput):
        parse_compute_id(bad)


def test_proc_stat_with_awkward_command_name():
    # Field 2 is "(comm)" and comm may contain ") " itself; fields count from after the last ")".
    rest = " ".join(str(n) for n in range(4, 53))
    stat = parse_proc_stat(f"31337 (evil) S 1 (x) S {rest}\n")
    assert stat.pid == 31337
    assert stat.state == "S"
    assert stat.session == 6  # field 6
    assert stat.start_time == 22  # field 22
    assert not stat.exited
    assert parse_proc_stat(f"7 (z) Z {rest}").exited


def test_every_apply_result_has_the_outcome_name_of_its_enum_value():
    enum = amphora_service_pb2.ApplyResult
    for name, value in enum.items():
        if value == amphora_service_pb2.APPLY_RESULT_UNSPECIFIED:
            continue
        assert apply_result_name(value) == name.removeprefix("APPLY_RESULT_")
    assert {apply_result_name(v) for v in enum.values()} == {
        "APPLIED",
        "UNCHANGED",
        "INVALID",
        "ROLLED_BACK",
        "BROKEN",
        UNKNOWN_APPLY_RESULT,
    }


def test_unknown_apply_results_are_not_ok_and_not_broken():
    for value in (amphora_service_pb2.APPLY_RESULT_UNSPECIFIED, 99):
        outcome = ApplyOutcome(apply_result_name(value), "", "")
        assert not outcome.ok
        assert outcome.result != "BROKEN"
    assert ApplyOutcome(apply_result_name(amphora_service_pb2.APPLY_RESULT_UNCHANGED), "", "").ok


def _rpc_error(code: grpc.StatusCode, details: str, trailing=()) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details)


def test_agent_errors():
    for code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        err = map_agent_error(_rpc_error(code, "handshake failed"), "127.0.0.1:1", "amp-1")
        assert isinstance(err, Unavailable)
        assert "amp-1" in err.operator_detail and "127.0.0.1:1" in err.operator_detail
    detail = InvalidInput("hash mismatch", field="config_hash").to_detail().SerializeToString()
    err = map_agent_error(
        _rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "x", [(ERROR_METADATA_KEY, detail)]),
        "127.0.0.1:1",
        "amp-1",
    )
    assert type(err) is InvalidInput
    assert (err.user_message, err.field) == ("hash mismatch", "config_hash")
    assert type(map_agent_error(_rpc_error(grpc.StatusCode.NOT_FOUND, "x"), "a", "b")) is NotFound
    assert type(map_agent_error(_rpc_error(grpc.StatusCode.INTERNAL, "x"), "a", "b")) is DomainError


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidInput),
        (grpc.StatusCode.FAILED_PRECONDITION, Precondition),
        (grpc.StatusCode.UNAVAILABLE, Unavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, Unavailable),
    ],
)
def test_renderer_errors(code, cls):
    err = map_renderer_error(_rpc_error(code, "because"), "127.0.0.1:5")
    assert type(err) is cls
    if cls is Unavailable:
        assert "127.0.0.1:5" in err.operator_detail


def test_target_carries_what_the_agent_reported_and_the_vip():
    info = AgentInfo("amp-1", "1.0", "haproxy", "2.6.12", "OpenSSL 3.0.2", "", "/run/amp-1", "h")
    target = build_target(info, "127.30.0.7")
    assert (target.amphora_id, target.agent_api_version, target.vip_address) == (
        "amp-1",
        "1.0",
        "127.30.0.7",
    )
    assert (target.haproxy_version, target.openssl_version, target.runtime_dir) == (
        "2.6.12",
        "OpenSSL 3.0.2",
        "/run/amp-1",
    )
