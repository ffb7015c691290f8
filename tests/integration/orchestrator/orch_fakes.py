"""In-test adapters implementing the orchestrator's ports (compute, agent, renderer)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
from pathlib import Path

from cryptography import x509
from lbaas.common.v1 import runtime_pb2

from services.common.errors import DomainError, Unavailable
from services.orchestrator.config import Settings
from services.orchestrator.domain.ports import (
    AgentInfo,
    AgentLacksRpc,
    AmphoraSpec,
    ApplyOutcome,
    ComputeInstance,
    IssuedCertificate,
    RenderedConfig,
)


class FakeCompute:
    def __init__(self) -> None:
        self.alive: dict[str, str] = {}  # compute_id -> amphora id
        self.created: list[AmphoraSpec] = []
        self.deleted: list[str] = []
        self.events: list[tuple[str, str]] = []  # ("create" | "delete", amphora id), in order
        self._ids = itertools.count(1)
        self._ports = itertools.count(20000)

    async def create_amphora(self, spec: AmphoraSpec) -> ComputeInstance:
        assert spec.certificate.cert_pem and spec.certificate.key_pem
        compute_id = f"fake-{next(self._ids)}"
        self.alive[compute_id] = spec.amphora_id
        self.created.append(spec)
        self.events.append(("create", spec.amphora_id))
        port = spec.agent_port or next(self._ports)
        return ComputeInstance(compute_id=compute_id, agent_address=f"127.0.0.1:{port}")

    async def is_alive(self, compute_id: str) -> bool:
        return compute_id in self.alive

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        self.alive.pop(compute_id, None)
        self.deleted.append(amphora_id)
        self.events.append(("delete", amphora_id))

    def kill_all(self) -> None:
        self.alive.clear()


class FakeAgent:
    def __init__(self) -> None:
        self.applied: dict[str, str] = {}  # amphora id -> hash
        self.apply_calls = 0
        self.hang = False  # apply never returns (a job to be interrupted)
        self.result = "APPLIED"
        self.results: dict[str, str] = {}  # amphora id -> result, overriding `result`
        self.unavailable = False
        self.calls: list[tuple[str, bool, str]] = []  # (amphora id, force, renderer version)
        self.apply_delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        # Certificate rotation: the amphora ids rotated, in order, and the last certificate
        # each was sent; agents of an older release (no UpdateCertificate) and agents that
        # cannot be reached, by amphora id.
        self.rotations: list[str] = []
        self.certificates: dict[str, IssuedCertificate] = {}
        self.without_rotation: set[str] = set()
        self.unreachable: set[str] = set()
        self.drains: list[tuple[str, tuple[str, ...]]] = []  # (amphora id, addresses)
        # Where drains are also logged as ("drain", amphora id): the harness passes the fake
        # compute's events, so a test sees drains and deletes in one order.
        self.events: list[tuple[str, str]] = []
        # An agent of this release takes runtime plans (and then reports what it applied);
        # the runtime plans it was sent, (amphora id, plan).
        self.runtime_plans_taken = False
        self.plans: list[tuple[str, object]] = []
        self.info_calls = 0  # GetInfo calls, probes' included
        # A fake compute whose instances' agents are the only ones answering GetInfo (an
        # instance killed there takes its agent with it); None: every agent answers.
        self.compute: FakeCompute | None = None

    def _answering(self, amphora_id: str) -> None:
        """Raises Unavailable as the real client does when the agent does not answer."""
        if self.unavailable or amphora_id in self.unreachable:
            raise Unavailable("agent unreachable")
        if self.compute is not None and amphora_id not in self.compute.alive.values():
            raise Unavailable("agent unreachable: its instance is gone")

    async def get_info(self, agent_address: str, amphora_id: str) -> AgentInfo:
        self.info_calls += 1
        self._answering(amphora_id)
        if self.runtime_plans_taken:
            return AgentInfo(
                amphora_id, "1.0", "haproxy", "2.8.5", "3.0.13", "", "/tmp/x",
                self.applied.get(amphora_id, ""),
                capabilities=("vrrp-keepalived", "runtime_plan"),
            )  # fmt: skip
        return AgentInfo(
            amphora_id, "1.0", "haproxy", "2.8.5", "3.0.13", "", "/tmp/x", "",
            capabilities=("vrrp-keepalived",),
        )  # fmt: skip

    async def apply_config(
        self,
        agent_address,
        amphora_id,
        files,
        config_hash,
        renderer_version,
        force=False,
        runtime_plan=None,
    ):
        self.apply_calls += 1
        self._answering(amphora_id)
        self.calls.append((amphora_id, force, renderer_version))
        if runtime_plan is not None:
            self.plans.append((amphora_id, runtime_plan))
        if self.hang:
            await asyncio.Event().wait()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.apply_delay:
                await asyncio.sleep(self.apply_delay)
        finally:
            self.in_flight -= 1
        result = self.results.get(amphora_id, self.result)
        if result not in ("APPLIED", "UNCHANGED"):
            return ApplyOutcome(result, self.applied.get(amphora_id, ""), "haproxy -c failed")
        self.applied[amphora_id] = config_hash
        return ApplyOutcome("APPLIED", config_hash, "")

    async def drain(self, agent_address, amphora_id, addresses, timeout) -> int:
        if self.unavailable or amphora_id in self.unreachable:
            raise Unavailable("agent unreachable")
        self.drains.append((amphora_id, tuple(addresses)))
        self.events.append(("drain", amphora_id))
        return 0

    async def update_certificate(
        self, agent_address: str, amphora_id: str, certificate: IssuedCertificate
    ) -> dt.datetime:
        if self.unavailable or amphora_id in self.unreachable:
            raise Unavailable("agent unreachable")
        if amphora_id in self.without_rotation:
            raise AgentLacksRpc("The amphora agent cannot rotate its certificate.")
        self.rotations.append(amphora_id)
        self.certificates[amphora_id] = certificate
        return x509.load_pem_x509_certificate(certificate.cert_pem).not_valid_after_utc


class FakeRenderer:
    def __init__(self, backend: str = "haproxy", supported: list[str] | None = None) -> None:
        self.rendered_versions: list[int] = []
        self.rendered_ids: list[str] = []
        self.fail: DomainError | None = None
        self.delay = 0.0
        self.backend = backend
        # A new renderer version; `touches` says which load balancers its changed template
        # renders differently (by load balancer name).
        self.version = "fake-1"
        self.touches: set[str] = set()
        self.targets: list[AgentInfo] = []
        self.vrrps: dict[str, object] = {}  # amphora id -> the Vrrp of its last rendering
        self.sizes: dict[str, object] = {}  # amphora id -> the Size of its last rendering
        self.applied_files: list[tuple[str, list]] = []  # (amphora id, files) asked for a plan
        if supported is not None:
            self.supported_features = list(supported)

    # Top-level feature names: a renderer advertising a prefix supports everything under it
    # (services.orchestrator.domain.features), so the feature gate lets every change through.
    supported_features = ["loadbalancer", "listener", "l7policy", "l7rule", "pool", "member",
                          "healthmonitor"]  # fmt: skip

    async def describe(self):
        return (self.backend, self.version, list(self.supported_features))

    async def render(
        self,
        loadbalancer,
        target: AgentInfo,
        vip_address: str,
        materials=(),
        vrrp=None,
        size=None,
        applied_files=(),
    ) -> RenderedConfig:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        self.rendered_versions.append(loadbalancer.desired_version)
        self.rendered_ids.append(loadbalancer.meta.id)
        self.targets.append(target)
        self.vrrps[target.amphora_id] = vrrp
        self.sizes[target.amphora_id] = size
        content = _config_content(loadbalancer)
        if loadbalancer.meta.name in self.touches:
            content += f"# {self.version}".encode()
        plan = None
        if applied_files:
            # A real renderer answers a plan only for members-only changes; this one for any.
            self.applied_files.append((target.amphora_id, list(applied_files)))
            ((_, old, _),) = applied_files
            plan = runtime_pb2.RuntimePlan(
                from_config_hash=hashlib.sha256(old).hexdigest(),
                commands=["set server b/s weight 2"],
            )
        return RenderedConfig(
            files=[("haproxy.cfg", content, 0o644)],
            config_hash=hashlib.sha256(content).hexdigest(),
            renderer_version=self.version,
            runtime_plan=plan,
        )


def _config_content(loadbalancer) -> bytes:
    """What a real renderer's output depends on: the graph without statuses and timestamps
    (which change when a pass succeeds, not when the desired config does)."""
    copy = type(loadbalancer)()
    copy.CopyFrom(loadbalancer)
    _strip(copy)
    return copy.SerializeToString(deterministic=True)


def _strip(message) -> None:
    for descriptor, value in message.ListFields():
        if descriptor.name == "meta":
            for name in ("provisioning_status", "operating_status", "updated_at"):
                value.ClearField(name)
        elif hasattr(value, "ListFields"):
            _strip(value)
        elif descriptor.message_type is not None and not hasattr(value, "keys"):
            for item in value:  # a repeated message field (maps are left alone)
                _strip(item)


def make_settings(database_url: str, run_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        run_dir=run_dir,
        bind_addr="127.0.0.1:0",
        renderer_haproxy_addr="127.0.0.1:1",
        health_udp_addr="127.0.0.1:1",
        heartbeat_key_file=run_dir / "heartbeat.keys",
        heartbeat_interval=1.0,
        sweep_interval=0.5,
        job_max_attempts=3,
        job_retry_base_delay=0.1,
        job_retry_max_delay=0.5,
        agent_wait_timeout=1.0,
        worker_heartbeat_interval=0.5,
        stalled_worker_timeout=2.0,
    )
