"""python -m services.health as a process: env wiring, heartbeats, grpc health, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lbaas.common.v1 import status_pb2 as st

from services.common.internal_tls import (
    HEALTH,
    OPERATOR,
    ORCHESTRATOR,
    InternalTLS,
    aio_channel,
    ensure_internal_pki,
)
from tests.integration.health.harness import (
    eventually,
    fake_orchestrator,
    make_heartbeat,
    signed,
    write_key_file,
)

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[3]
READY = re.compile(rb"gRPC on port (\d+), heartbeats on UDP [^:]+:(\d+)")


def test_process_serves_and_stops_on_sigterm(tmp_path, database_url):
    async def scenario():
        pki = ensure_internal_pki(tmp_path / "internal-tls")
        async with fake_orchestrator(InternalTLS(pki, ORCHESTRATOR)) as (fake, address):
            env = {
                **os.environ,
                "LBAAS_RUN_DIR": str(tmp_path),
                "LBAAS_HEALTH_ADDR": "127.0.0.1:0",
                "LBAAS_HEALTH_UDP_ADDR": "127.0.0.1:0",
                "LBAAS_ORCHESTRATOR_ADDR": address,
                "LBAAS_HEARTBEAT_KEY_FILE": str(write_key_file(tmp_path)),
                "LBAAS_HEALTH_STALE_AFTER": "20",
                "DATABASE_URL": database_url,
            }
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "services.health",
                cwd=REPO,
                env=env,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                log = b""
                while not (match := READY.search(log)):
                    line = await asyncio.wait_for(proc.stderr.readline(), 15)
                    assert line, f"health exited before serving: {log.decode()}"
                    log += line
                grpc_port, udp_port = int(match[1]), int(match[2])

                operator = InternalTLS(pki, OPERATOR)
                address = f"127.0.0.1:{grpc_port}"
                async with aio_channel(address, HEALTH, operator) as channel:
                    check = await health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=5
                    )
                    assert check.status == health_pb2.HealthCheckResponse.SERVING

                loop = asyncio.get_running_loop()
                transport, _ = await loop.create_datagram_endpoint(
                    asyncio.DatagramProtocol, remote_addr=("127.0.0.1", udp_port)
                )
                try:
                    transport.sendto(signed(make_heartbeat(1, members={"m-1": "DOWN"})))
                    await eventually(lambda: fake.set_calls, what="SetOperatingStatuses")
                finally:
                    transport.close()
                assert fake.statuses()["m-1"] == st.OPERATING_STATUS_ERROR
                assert "m-2" not in fake.statuses()

                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), 15) == 0
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()

    asyncio.run(scenario())
