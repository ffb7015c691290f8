"""Compute host settings, read once from the environment into a frozen object."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.common.internal_tls import InternalTLS
from services.common.log_offload import LogOffload
from services.orchestrator.adapters.compute_local import DEFAULT_AGENT_HOST

# The orchestrator's `remote` compute driver reads LBAAS_COMPUTE_ADDR, with the same default.
DEFAULT_ADDRESS = "127.0.0.1:9897"
# A host name (a compose service name may hold "_") or an IPv4 address. Not IPv6: agent
# addresses are "host:port" without brackets everywhere. At most 63 characters: the agent
# address's host is recorded as the amphora's lb_network_ip (64 characters).
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
# haproxy's sockets live in <run dir>/amphorae/<amphora id>/; a unix socket path has at most
# 107 bytes (deploy/local/stack.py checks the same).
_LONGEST_SOCKET = len("/amphorae/") + 36 + len("/internal.sock")


def agent_host(value: str) -> str:
    if not _HOST.fullmatch(value):
        raise ValueError(
            "LBAAS_COMPUTE_AGENT_HOST must be a host name or an IPv4 address of at most 63 "
            f"characters, not {value!r}"
        )
    return value


@dataclass(frozen=True)
class Settings:
    bind_address: str
    # The host name or address the workers reach this host's agents at
    # (LBAAS_COMPUTE_AGENT_HOST): the host of every agent address it returns.
    agent_host: str
    # Its amphorae live under run_dir/amphorae/ (LBAAS_RUN_DIR).
    run_dir: Path
    # Its identity on the internal mutual-TLS network (None: a plaintext port, in-process tests).
    tls: InternalTLS | None = None
    # The agents' log offload flags, from the same variables the orchestrator reads
    # (LBAAS_ADMIN_LOG_TARGETS, LBAAS_LOG_PROTOCOL, LBAAS_DISABLE_LOCAL_LOG_STORAGE).
    log_offload: LogOffload = LogOffload()

    @property
    def agent_listen_host(self) -> str:
        """Where its agents listen: an address as it is; a name on every interface (it may
        resolve to the address of any of them, as a container's service name does). Agents
        accept only clients with the controller CA's certificate, wherever they listen."""
        if self.agent_host == "localhost":
            return DEFAULT_AGENT_HOST
        try:
            return str(ipaddress.IPv4Address(self.agent_host))
        except ValueError:
            return "0.0.0.0"  # noqa: S104 - see above

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        run_dir = Path(env.get("LBAAS_RUN_DIR") or "./.run").resolve()
        if len(str(run_dir)) + _LONGEST_SOCKET > 107:
            raise ValueError(
                f"LBAAS_RUN_DIR {run_dir} is too long for haproxy's unix socket paths "
                f"(at most {107 - _LONGEST_SOCKET} characters)"
            )
        return cls(
            bind_address=env.get("LBAAS_COMPUTE_HOST_ADDR") or DEFAULT_ADDRESS,
            agent_host=agent_host(env.get("LBAAS_COMPUTE_AGENT_HOST") or DEFAULT_AGENT_HOST),
            run_dir=run_dir,
            log_offload=LogOffload.from_env(env),
        )
