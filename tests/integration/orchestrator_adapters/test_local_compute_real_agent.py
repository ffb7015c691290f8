"""LocalComputeDriver + GrpcAgentClient with the real amphora agent and haproxy."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from services.common.errors import Unavailable
from services.orchestrator.adapters.agent_client import GrpcAgentClient
from services.orchestrator.adapters.compute_local import LocalComputeDriver, parse_compute_id
from services.orchestrator.domain.ports import AmphoraSpec

REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(
    not (REPO_ROOT / "amphora_agent" / "__main__.py").exists(),
    reason="amphora_agent/__main__.py does not exist yet (the agent is written in parallel); "
    "test_local_compute_driver.py covers the driver with a stand-in agent",
)

AMPHORA_ID = "0c2f6a4e-3b7d-4f0e-8a1c-6d5e4f3a2b1c"


def _session_members(session_id: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != session_id:
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except FileNotFoundError:
                continue
            if fields[3] == str(session_id) and fields[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


def test_real_agent_starts_answers_over_mtls_and_stops(ca, work_dir, janitor, udp_port):
    run_dir = work_dir / "run"
    run_dir.mkdir()
    key_file = run_dir / "heartbeat.keys"
    key_file.write_text("k1 " + os.urandom(32).hex() + "\n")
    driver = LocalComputeDriver(run_dir, f"127.0.0.1:{udp_port}", key_file, 0.5)

    async def scenario():
        client = GrpcAgentClient(ca, timeout=2)
        spec = AmphoraSpec(
            amphora_id=AMPHORA_ID,
            loadbalancer_id="lb-1",
            backend_type="haproxy",
            vip_address="127.30.1.1",
            certificate=ca.issue_amphora_certificate(AMPHORA_ID),
        )
        try:
            instance = await driver.create_amphora(spec)
            janitor.track_compute_id(instance.compute_id)
            deadline = time.monotonic() + 30
            while True:
                try:
                    info = await client.get_info(instance.agent_address, AMPHORA_ID)
                    break
                except Unavailable:
                    if time.monotonic() > deadline or not await driver.is_alive(
                        instance.compute_id
                    ):
                        log = (run_dir / "amphorae" / AMPHORA_ID / "agent.log").read_text()
                        pytest.fail(f"agent never answered GetInfo; its log:\n{log}")
                    await asyncio.sleep(0.2)
            assert info.amphora_id == AMPHORA_ID
            assert info.backend_type == "haproxy"
            assert info.haproxy_version.startswith("2.")

            pid = parse_compute_id(instance.compute_id)[0]
            assert os.getsid(pid) == pid
            await driver.delete_amphora(AMPHORA_ID, instance.compute_id)
            assert not await driver.is_alive(instance.compute_id)
            assert _session_members(pid) == []  # its haproxy went with it
            assert not (run_dir / "amphorae" / AMPHORA_ID).exists()
        finally:
            await client.close()

    asyncio.run(scenario())
