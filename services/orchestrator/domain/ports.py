"""Interfaces (ports) of the drivers the orchestrator uses; adapters implement them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from services.common.errors import Precondition
from services.orchestrator.domain.sizes import Size


@dataclass(frozen=True)
class IssuedCertificate:
    """PEM-encoded certificate and private key, plus the CA certificate that signed it."""

    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes


class CertificateAuthority(Protocol):
    """The controller's internal CA (mTLS between the orchestrator and amphora agents)."""

    def ca_certificate_pem(self) -> bytes: ...

    def issue_amphora_certificate(self, amphora_id: str) -> IssuedCertificate:
        """A server certificate (EKU serverAuth only) whose subject CN is the amphora id."""
        ...

    def controller_credentials(self) -> IssuedCertificate:
        """The controller's client certificate (EKU clientAuth only), created once and reused
        until it expires within renew_before: then renewed (and kept for the next callers)."""
        ...

    def controller_not_after(self) -> dt.datetime:
        """When the controller certificate in use expires."""
        ...

    @property
    def renew_before(self) -> float:
        """Seconds before expiry at which certificates are renewed."""
        ...


@dataclass(frozen=True)
class AmphoraSpec:
    """What the compute driver needs to start one amphora."""

    amphora_id: str
    loadbalancer_id: str
    backend_type: str  # "haproxy" (later "nginx")
    vip_address: str
    certificate: IssuedCertificate
    # Where the agent listens; the local driver picks a free loopback port when None.
    agent_port: int | None = None
    # The lb-network address it should have when free: that of a dead half of a pair it
    # replaces, so the survivor's config (haproxy peers, keepalived's peer) stays as it was.
    # Drivers that cannot choose addresses ignore it.
    address: str = ""


@dataclass(frozen=True)
class ComputeInstance:
    """A running (or recorded) amphora as the compute driver sees it."""

    compute_id: str  # local driver: "<pid>:<process start time>"
    agent_address: str  # host:port of the agent's mTLS gRPC endpoint
    details: dict[str, str] = field(default_factory=dict)


class ComputeDriver(Protocol):
    async def create_amphora(self, spec: AmphoraSpec) -> ComputeInstance:
        """Starts an amphora and returns once its process exists (not necessarily serving)."""
        ...

    async def is_alive(self, compute_id: str) -> bool: ...

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        """Stops the amphora (and the haproxy it runs) and removes its files. Idempotent."""
        ...

    async def take_vip(
        self, amphora_id: str, vip_address: str, prefix_length: int, previous: Sequence[str]
    ) -> None:
        """Makes amphora_id the holder of a SINGLE load balancer's VIP: removes vip/prefix from
        the amphorae in previous (those that no longer exist are skipped), puts it on
        amphora_id and points the network at it. Idempotent. ACTIVE_STANDBY load balancers do
        not call it (keepalived moves their VIP). A no-op for drivers whose amphorae do not hold
        addresses of their own (local, noop)."""
        ...


@dataclass(frozen=True)
class AgentInfo:
    amphora_id: str
    api_version: str
    backend_type: str
    haproxy_version: str
    openssl_version: str
    nginx_version: str
    runtime_dir: str
    applied_config_hash: str
    applied_renderer_version: str = ""
    keepalived_version: str = ""
    # What the agent's release can do (GetInfo capabilities), e.g. "vrrp-keepalived".
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplyOutcome:
    result: str  # "APPLIED", "UNCHANGED", "INVALID", "ROLLED_BACK", "BROKEN"
    applied_config_hash: str
    detail: str
    # APPLIED over the engine's runtime API (a runtime plan), with no reload.
    runtime: bool = False
    # A runtime plan was sent and not used: why (a reload applied the change instead).
    runtime_fallback: str = ""

    @property
    def ok(self) -> bool:
        return self.result in ("APPLIED", "UNCHANGED")


class AgentLacksRpc(Precondition):
    """The agent answered UNIMPLEMENTED: it is of a release older than the call (for
    UpdateCertificate, one without the "certificate-rotation" capability)."""


class AgentClient(Protocol):
    """Talks to one amphora agent over mTLS. Raises services.common.errors.Unavailable when the
    agent cannot be reached within the deadline."""

    async def get_info(self, agent_address: str, amphora_id: str) -> AgentInfo: ...

    async def apply_config(
        self,
        agent_address: str,
        amphora_id: str,
        files: list[tuple[str, bytes, int]],
        config_hash: str,
        renderer_version: str,
        force: bool = False,
        runtime_plan: object | None = None,
    ) -> ApplyOutcome:
        """force: validate, swap and reload even when config_hash is already applied.
        runtime_plan (a lbaas.common.v1.RuntimePlan, only for an agent with the RUNTIME_PLAN
        capability): make the change over the engine's runtime API, falling back to a reload."""
        ...

    async def update_certificate(
        self, agent_address: str, amphora_id: str, certificate: IssuedCertificate
    ) -> dt.datetime:
        """Replaces the agent's server certificate and key (no restart: new TLS handshakes use
        it); returns its not-after. Raises AgentLacksRpc for an agent without the RPC and
        InvalidInput when the agent refuses the certificate (it keeps the old one)."""
        ...

    async def drain(
        self, agent_address: str, amphora_id: str, addresses: list[str], timeout: float
    ) -> int:
        """Stops new connections to the addresses and waits up to `timeout` seconds for those
        under way to end; the number still open. Raises AgentLacksRpc for an agent without
        the RPC, Unavailable when it cannot be reached."""
        ...

    async def get_applied_config(self, agent_address: str, amphora_id: str) -> RenderedConfig:
        """The files the agent has applied, their hash and renderer version (empty before the
        first apply)."""
        ...

    async def get_diagnostics(self, agent_address: str, amphora_id: str) -> object:
        """The agent's lbaas.amphora.v1.GetDiagnosticsResponse, as it gave it (the management
        API relays it). Raises AgentLacksRpc for an agent without the RPC."""
        ...

    async def get_logs(self, agent_address: str, amphora_id: str, lines: int) -> list[object]:
        """The agent's lbaas.amphora.v1.LogTail messages: the last `lines` of its own log and
        of its engine's. Raises AgentLacksRpc for an agent without the RPC."""
        ...


def run_dir_amphora_path(run_dir: Path, amphora_id: str) -> Path:
    """Directory of one local amphora: certificates, agent pid file, haproxy runtime files."""
    return run_dir / "amphorae" / amphora_id


@dataclass(frozen=True)
class RenderedConfig:
    files: list[tuple[str, bytes, int]]  # (path, content, mode)
    config_hash: str
    renderer_version: str
    # A lbaas.common.v1.RuntimePlan from the applied files given to render(); None: a reload.
    runtime_plan: object | None = None


# The agent's GetInfo capability: ApplyConfig takes a runtime plan.
RUNTIME_PLAN = "runtime_plan"


class Renderer(Protocol):
    """A renderer service for one backend type. Raises InvalidInput / Precondition (from
    services.common.errors) when the graph cannot be rendered for the target, Unavailable when the
    renderer cannot be reached."""

    async def describe(self) -> tuple[str, str, list[str]]:
        """(backend_type, renderer_version, supported_features)."""
        ...

    async def render(
        self,
        loadbalancer: object,
        target: AgentInfo,
        vip_address: str,
        materials: Sequence[object] = (),
        vrrp: object | None = None,
        size: Size | None = None,
        applied_files: Sequence[tuple[str, bytes, int]] = (),
    ) -> RenderedConfig:
        """loadbalancer is a lbaas.common.v1.LoadBalancer message with listeners and pools;
        materials are lbaas.renderer.v1.TlsMaterial messages for its certificate references;
        vrrp, a lbaas.renderer.v1.Vrrp, makes it one half of an ACTIVE_STANDBY pair; size is
        the amphora's compute size (None: the engine's defaults); applied_files, the files the
        target runs now, ask for a runtime plan (RenderedConfig.runtime_plan) when the change
        from them is one the runtime API can make."""
        ...


class CertificateStore(Protocol):
    """The certificate driver as the reconcile pass sees it (local: the database, keys encrypted
    at rest; barbican: openstacksdk's key manager)."""

    def resolve(self, loadbalancer: object) -> list[object]:
        """lbaas.renderer.v1.TlsMaterial for every certificate reference in the graph (listener
        and pool refs). Raises InvalidInput naming the field when a reference cannot be
        resolved (deleted, or not the load balancer's project's)."""
        ...


# -- network ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkView:
    id: str
    name: str
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class SubnetView:
    id: str
    name: str
    network_id: str
    cidr: str
    ip_version: int
    gateway_ip: str


@dataclass(frozen=True)
class VipAllocation:
    port_id: str
    address: str
    subnet_id: str
    network_id: str


class NetworkDriver(Protocol):
    """Where VIPs come from (loopback: the host's 127.0.0.0/8; netns: the bridge subnet). The
    session arguments are the caller's transaction: a VIP is allocated and released with the
    load balancer row it belongs to."""

    prefix_length: int

    def list_networks(self, id: str = "", name: str = "") -> list[NetworkView]: ...

    def list_subnets(
        self, id: str = "", name: str = "", network_id: str = ""
    ) -> list[SubnetView]: ...

    def list_ports(
        self, session: Any, id: str = "", name: str = "", network_id: str = ""
    ) -> list[Any]:
        """The VIP ports (rows with id, name, network_id, subnet_id, ip_address, device_id…)."""
        ...

    def allocate_vip(
        self,
        session: Any,
        *,
        loadbalancer_id: str,
        project_id: str,
        subnet_id: str,
        network_id: str,
        requested_address: str = "",
    ) -> VipAllocation:
        """A VIP port for the load balancer; InvalidInput / Conflict naming vip_subnet_id,
        vip_network_id or vip_address when the request cannot be met."""
        ...

    def release_vip(self, session: Any, loadbalancer_id: str) -> None: ...
