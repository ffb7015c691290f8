"""In-test adapters implementing the orchestrator's ports (compute, agent, renderer)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from pathlib import Path

from services.common.errors import DomainError, Unavailable
from services.orchestrator.config import Settings
from services.orchestrator.domain.ports import (
    AgentInfo,
    AmphoraSpec,
    ApplyOutcome,
    ComputeInstance,
    RenderedConfig,
)


class FakeCompute:
    def __init__(self) -> None:
        self.alive: dict[str, str] = {}  # compute_id -> amphora id
        self.created: list[AmphoraSpec] = []
        self.deleted: list[str] = []
        self._ids = itertools.count(1)
        self._ports = itertools.count(20000)

    async def create_amphora(self, spec: AmphoraSpec) -> ComputeInstance:
        assert spec.certificate.cert_pem and spec.certificate.key_pem
        compute_id = f"fake-{next(self._ids)}"
        self.alive[compute_id] = spec.amphora_id
        self.created.append(spec)
        port = spec.agent_port or next(self._ports)
        return ComputeInstance(compute_id=compute_id, agent_address=f"127.0.0.1:{port}")

    async def is_alive(self, compute_id: str) -> bool:
        return compute_id in self.alive

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        self.alive.pop(compute_id, None)
        self.deleted.append(amphora_id)

    def kill_all(self) -> None:
        self.alive.clear()


class FakeAgent:
    def __init__(self) -> None:
        self.applied: dict[str, str] = {}  # amphora id -> hash
        self.apply_calls = 0
        self.hang = False  # apply never returns (a job to be interrupted)
        self.result = "APPLIED"
        self.unavailable = False

    async def get_info(self, agent_address: str, amphora_id: str) -> AgentInfo:
        if self.unavailable:
            raise Unavailable("agent unreachable")
        return AgentInfo(amphora_id, "1.0", "haproxy", "2.8.5", "3.0.13", "", "/tmp/x", "")

    async def apply_config(
        self, agent_address, amphora_id, files, config_hash, renderer_version, force=False
    ):
        self.apply_calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.result not in ("APPLIED", "UNCHANGED"):
            return ApplyOutcome(self.result, self.applied.get(amphora_id, ""), "haproxy -c failed")
        self.applied[amphora_id] = config_hash
        return ApplyOutcome("APPLIED", config_hash, "")


class FakeRenderer:
    def __init__(self) -> None:
        self.rendered_versions: list[int] = []
        self.fail: DomainError | None = None
        self.delay = 0.0

    # Top-level feature names: a renderer advertising a prefix supports everything under it
    # (services.orchestrator.domain.features), so the feature gate lets every change through.
    supported_features = ["loadbalancer", "listener", "l7policy", "l7rule", "pool", "member",
                          "healthmonitor"]  # fmt: skip

    async def describe(self):
        return ("haproxy", "fake-1", list(self.supported_features))

    async def render(
        self, loadbalancer, target: AgentInfo, vip_address: str, materials=()
    ) -> RenderedConfig:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        self.rendered_versions.append(loadbalancer.desired_version)
        content = loadbalancer.SerializeToString(deterministic=True)
        return RenderedConfig(
            files=[("haproxy.cfg", content, 0o644)],
            config_hash=hashlib.sha256(content).hexdigest(),
            renderer_version="fake-1",
        )


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
