"""AmphoraSpec, AgentHeartbeat and ComputeInstance <-> lbaas.compute.v1, both ways, over bytes."""

from __future__ import annotations

import dataclasses

import pytest
from lbaas.compute.v1 import compute_service_pb2 as pb

from services.common.errors import InvalidInput
from services.orchestrator.adapters.compute_codec import (
    decode_create,
    decode_instance,
    encode_create,
    encode_instance,
)
from services.orchestrator.adapters.heartbeat_keys import AgentHeartbeat
from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance, IssuedCertificate

SPEC = AmphoraSpec(
    amphora_id="0c2f6a4e-3b7d-4f0e-8a1c-6d5e4f3a2b1c",
    loadbalancer_id="lb-1",
    backend_type="nginx",
    vip_address="127.30.1.1",
    certificate=IssuedCertificate(cert_pem=b"CERT", key_pem=b"KEY", ca_pem=b"CA"),
    agent_port=40123,
    address="10.240.128.7",
)
HEARTBEAT = AgentHeartbeat(
    targets=("health:9893", "health-2:9903"),
    interval=0.25,
    key_file=b"# own keys\nk1 " + b"ab" * 32 + b"\n",
)


def _over_the_wire(message):
    return type(message).FromString(message.SerializeToString())


def _names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _fields(message_class) -> set[str]:
    return set(message_class.DESCRIPTOR.fields_by_name)


def test_messages_name_their_fields_as_the_dataclasses_do():
    # Fields are mapped by name: a field added to one side only must fail here.
    assert _fields(pb.CreateAmphoraRequest) == _names(AmphoraSpec) | {"heartbeat"}
    assert _fields(pb.AmphoraCertificate) == _names(IssuedCertificate)
    assert _fields(pb.AgentHeartbeat) == _names(AgentHeartbeat)
    assert _fields(pb.ComputeInstance) == _names(ComputeInstance)


def test_a_create_round_trips_every_field():
    spec, heartbeat = decode_create(_over_the_wire(encode_create(SPEC, HEARTBEAT)))
    assert spec == SPEC
    assert heartbeat == HEARTBEAT
    assert isinstance(heartbeat.targets, tuple)


def test_an_unset_agent_port_and_address_stay_unset():
    bare = dataclasses.replace(SPEC, agent_port=None, address="")
    request = encode_create(bare, HEARTBEAT)
    assert request.agent_port == 0
    spec, _ = decode_create(_over_the_wire(request))
    assert spec.agent_port is None and spec.address == ""


def test_an_instance_round_trips_with_its_details():
    instance = ComputeInstance(
        compute_id="4242:987654",
        agent_address="compute:40123",
        details={"pid": "4242", "amphora_dir": "/var/lib/lbaas/amphorae/x"},
    )
    decoded = decode_instance(_over_the_wire(encode_instance(instance)))
    assert decoded == instance
    assert type(decoded.details) is dict


def _without(field: str) -> pb.CreateAmphoraRequest:
    request = encode_create(SPEC, HEARTBEAT)
    message, _, name = field.rpartition(".")
    (getattr(request, message) if message else request).ClearField(name)
    return request


@pytest.mark.parametrize(
    "field",
    [
        "amphora_id",
        "backend_type",
        "certificate",
        "certificate.cert_pem",
        "certificate.key_pem",
        "certificate.ca_pem",
        "heartbeat",
        "heartbeat.targets",
        "heartbeat.interval",
        "heartbeat.key_file",
    ],
)
def test_a_create_without_what_the_amphora_needs_is_refused_naming_the_field(field):
    with pytest.raises(InvalidInput) as err:
        decode_create(_without(field))
    assert err.value.field == field


def test_a_negative_heartbeat_interval_is_refused():
    request = encode_create(SPEC, dataclasses.replace(HEARTBEAT, interval=-1.0))
    with pytest.raises(InvalidInput) as err:
        decode_create(request)
    assert err.value.field == "heartbeat.interval"
