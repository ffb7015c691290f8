"""Log offload (Target.log_offload), checked once for every renderer.

Tenant access logs go to the tenant targets, one line per request (HTTP) or connection (TCP),
facility local0, severity info; the engine's own messages (a proxy stopping on a reload, a member
going down, nginx's reconfiguring) go to the admin targets, facility local1, severity notice and
above. Every target gets every message: neither haproxy 2.6 nor nginx can fail over between
syslog servers (Octavia's rsyslog sends to the first and uses the next only while it is down).

An access line carries Octavia's fields in its order (haproxy's user_log_format):
`<project> <lb> <listener> <client ip> <client port> <time> <request> <status> <bytes out>
<bytes in> <ssl verify> <ssl client dn> <pool> <member> <total time> <termination state>`; each
backend writes it with its own sample fetches or variables (the template comments say where they
differ). Nothing is rendered without a target and with local storage kept, so configs rendered
before this existed keep their hash.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.domain import filters

FIELD = "target.log_offload"
MAX_TARGETS = 8
UDP, TCP = "udp", "tcp"
_PROTOCOLS = {
    renderer_service_pb2.LOG_PROTOCOL_UNSPECIFIED: UDP,
    renderer_service_pb2.LOG_PROTOCOL_UDP: UDP,
    renderer_service_pb2.LOG_PROTOCOL_TCP: TCP,
}
# What of a project id may reach a log format: haproxy gives '%' a meaning, nginx '$', both
# quotes, spaces and backslashes.
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Endpoint:
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: int


@dataclass(frozen=True)
class LogPlan:
    tenant: tuple[Endpoint, ...]
    admin: tuple[Endpoint, ...]
    protocol: str  # UDP or TCP
    # False: the engine writes no log file on the appliance (Octavia's disable_local_log_storage).
    local_storage: bool
    # The project as it appears in access lines: unsafe characters become "_", empty is "-".
    project: str
    # The syslog host name of haproxy's messages: the amphora, as Octavia's amphorae name it.
    hostname: str


def plan(
    target: renderer_service_pb2.Target, project_id: str, amphora_field: str = "target.amphora_id"
) -> LogPlan | None:
    """None when nothing of logging is to be rendered (unset, or no target and local storage
    kept): the output then stays byte-identical to one rendered without log offload."""
    if not target.HasField("log_offload"):
        return None
    offload = target.log_offload
    if offload.protocol not in _PROTOCOLS:
        raise InvalidInput(f"{FIELD}.protocol is not a known protocol", field=f"{FIELD}.protocol")
    tenant = _endpoints(offload.tenant_targets, f"{FIELD}.tenant_targets")
    admin = _endpoints(offload.admin_targets, f"{FIELD}.admin_targets")
    if not (tenant or admin or offload.disable_local_log_storage):
        return None
    return LogPlan(
        tenant=tenant,
        admin=admin,
        protocol=_PROTOCOLS[offload.protocol],
        local_storage=not offload.disable_local_log_storage,
        project=project_label(project_id),
        hostname="amphora-" + filters.uuid_id(target.amphora_id, amphora_field),
    )


def project_label(project_id: str) -> str:
    label = _LABEL_UNSAFE.sub("_", project_id)[:64]
    return label or "-"


def _endpoints(
    targets: list[renderer_service_pb2.SyslogTarget], field: str
) -> tuple[Endpoint, ...]:
    if len(targets) > MAX_TARGETS:
        raise InvalidInput(f"{field}: at most {MAX_TARGETS} targets", field=field)
    out: list[Endpoint] = []
    for index, target in enumerate(targets):
        address = filters.ip_address(target.address, f"{field}[{index}].address")
        if address.is_unspecified or address.is_multicast:
            raise InvalidInput(
                f"{field}[{index}].address must be a unicast address",
                field=f"{field}[{index}].address",
            )
        port = filters.int_range(target.port, f"{field}[{index}].port", 1, 65535)
        endpoint = Endpoint(address, port)
        if endpoint not in out:  # a repeated target would get every message twice
            out.append(endpoint)
    return tuple(out)
