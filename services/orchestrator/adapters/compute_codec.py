"""AmphoraSpec, AgentHeartbeat and ComputeInstance <-> lbaas.compute.v1 messages, by field name.

The messages name their fields as the dataclasses do, so fields are mapped by name; only the
exceptions are written out: the certificate (a message of its own), agent_port (0 on the wire
for None) and the heartbeat (a message beside the spec's fields). Used by both ends: the
`remote` compute driver (compute_remote.py) and the compute host (services/orchestrator/compute_host/).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lbaas.compute.v1 import compute_service_pb2 as pb

from services.common.errors import InvalidInput
from services.orchestrator.adapters.heartbeat_keys import AgentHeartbeat
from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance, IssuedCertificate

# AmphoraSpec fields that are not copied by name.
_SPEC_EXCEPTIONS = frozenset({"certificate", "agent_port"})


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _by_name(source: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(source, name) for name in names}


def encode_create(spec: AmphoraSpec, heartbeat: AgentHeartbeat) -> pb.CreateAmphoraRequest:
    plain = [n for n in _names(AmphoraSpec) if n not in _SPEC_EXCEPTIONS]
    return pb.CreateAmphoraRequest(
        **_by_name(spec, plain),
        certificate=pb.AmphoraCertificate(**_by_name(spec.certificate, _names(IssuedCertificate))),
        agent_port=spec.agent_port or 0,
        heartbeat=pb.AgentHeartbeat(**_by_name(heartbeat, _names(AgentHeartbeat))),
    )


def decode_create(request: pb.CreateAmphoraRequest) -> tuple[AmphoraSpec, AgentHeartbeat]:
    """The spec and heartbeat of a create; InvalidInput naming the first missing field."""
    for name in ("amphora_id", "backend_type"):
        if not getattr(request, name):
            raise InvalidInput(f"{name} is required", field=name)
    for message in ("certificate", "heartbeat"):
        if not request.HasField(message):
            raise InvalidInput(f"{message} is required", field=message)
    for name in _names(IssuedCertificate):
        if not getattr(request.certificate, name):
            raise InvalidInput(f"certificate.{name} is required", field=f"certificate.{name}")
    if not request.heartbeat.targets:
        raise InvalidInput("heartbeat.targets is required", field="heartbeat.targets")
    if not request.heartbeat.interval > 0:
        raise InvalidInput("heartbeat.interval must be positive", field="heartbeat.interval")
    if not request.heartbeat.key_file:
        raise InvalidInput("heartbeat.key_file is required", field="heartbeat.key_file")
    plain = [n for n in _names(AmphoraSpec) if n not in _SPEC_EXCEPTIONS]
    spec = AmphoraSpec(
        **_by_name(request, plain),
        certificate=IssuedCertificate(**_by_name(request.certificate, _names(IssuedCertificate))),
        agent_port=request.agent_port or None,
    )
    heartbeat = _by_name(request.heartbeat, _names(AgentHeartbeat))
    heartbeat["targets"] = tuple(heartbeat["targets"])  # a repeated field, not a tuple
    return spec, AgentHeartbeat(**heartbeat)


def encode_instance(instance: ComputeInstance) -> pb.ComputeInstance:
    return pb.ComputeInstance(**_by_name(instance, _names(ComputeInstance)))


def decode_instance(message: pb.ComputeInstance) -> ComputeInstance:
    fields = _by_name(message, _names(ComputeInstance))
    fields["details"] = dict(fields["details"])  # a protobuf map, not a dict
    return ComputeInstance(**fields)
