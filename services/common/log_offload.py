"""Log offload settings (Octavia's [amphora_agent] tenant_log_targets, admin_log_targets,
log_protocol, disable_local_log_storage), read once from the environment and checked there.

The orchestrator hands them to the renderers (Target.log_offload: haproxy and nginx send their
own logs) and, through the compute drivers, to the agents (their own log records go to the admin
targets; their engines' output stays in memory when local storage is off). The compute host of
the `remote` driver reads the same variables for the agents it starts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

TENANT_TARGETS = "LBAAS_TENANT_LOG_TARGETS"
ADMIN_TARGETS = "LBAAS_ADMIN_LOG_TARGETS"
PROTOCOL = "LBAAS_LOG_PROTOCOL"
DISABLE_LOCAL_STORAGE = "LBAAS_DISABLE_LOCAL_LOG_STORAGE"

PROTOCOLS = ("udp", "tcp")
# More would only repeat every message more often; haproxy and nginx send each to all of them.
MAX_TARGETS = 8
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class SyslogTarget:
    address: str  # an IPv4 or IPv6 address, no brackets
    port: int

    def __str__(self) -> str:
        return (
            f"[{self.address}]:{self.port}"
            if ":" in self.address
            else f"{self.address}:{self.port}"
        )


@dataclass(frozen=True)
class LogOffload:
    tenant_targets: tuple[SyslogTarget, ...] = ()
    admin_targets: tuple[SyslogTarget, ...] = ()
    protocol: str = "udp"
    disable_local_log_storage: bool = False

    @property
    def configured(self) -> bool:
        """False for the defaults: nothing to render, nothing to tell an agent."""
        return bool(self.tenant_targets or self.admin_targets or self.disable_local_log_storage)

    def agent_args(self) -> tuple[str, ...]:
        """The agent's command-line flags for these settings (amphora_agent/config.py)."""
        if not self.configured:
            return ()
        args: list[str] = []
        for target in self.admin_targets:
            args += ["--admin-log-target", str(target)]
        if self.admin_targets:
            args += ["--log-protocol", self.protocol]
        if self.disable_local_log_storage:
            args.append("--disable-local-log-storage")
        return tuple(args)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogOffload:
        """ValueError naming the variable for anything it cannot use."""
        protocol = env.get(PROTOCOL, "").strip().lower() or "udp"
        if protocol not in PROTOCOLS:
            raise ValueError(f"{PROTOCOL} must be udp or tcp, not {env.get(PROTOCOL)!r}")
        raw_flag = env.get(DISABLE_LOCAL_STORAGE, "").strip().lower()
        if raw_flag not in _TRUE + _FALSE:
            raise ValueError(
                f"{DISABLE_LOCAL_STORAGE} must be true or false, not {env.get(DISABLE_LOCAL_STORAGE)!r}"
            )
        return cls(
            tenant_targets=parse_targets(env.get(TENANT_TARGETS, ""), TENANT_TARGETS),
            admin_targets=parse_targets(env.get(ADMIN_TARGETS, ""), ADMIN_TARGETS),
            protocol=protocol,
            disable_local_log_storage=raw_flag in _TRUE,
        )


def parse_targets(raw: str, name: str) -> tuple[SyslogTarget, ...]:
    """`host:port[,host:port...]`, host an IP address (IPv6 in brackets)."""
    targets: list[SyslogTarget] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        target = parse_target(item, name)
        if target in targets:
            raise ValueError(f"{name}: {item!r} is listed twice")
        targets.append(target)
    if len(targets) > MAX_TARGETS:
        raise ValueError(f"{name}: at most {MAX_TARGETS} targets, not {len(targets)}")
    return tuple(targets)


def parse_target(item: str, name: str) -> SyslogTarget:
    host, sep, port = item.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{name}: {item!r}: an IPv6 address goes in brackets, [addr]:port")
    if not sep or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{name}: {item!r} is not host:port with a port of 1-65535")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{name}: {item!r}: the host must be an IP address (amphorae resolve no names)"
        ) from None
    if address.is_unspecified or address.is_multicast:
        raise ValueError(f"{name}: {item!r}: not a unicast address")
    return SyslogTarget(str(address), int(port))
