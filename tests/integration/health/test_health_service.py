"""The health service end to end: real UDP, real gRPC, a fake orchestrator on port 0."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lbaas.common.v1 import status_pb2 as st
from lbaas.health.v1 import health_service_pb2 as hpb
from lbaas.health.v1 import health_service_pb2_grpc as hpb_grpc
from lbaas.health.v1 import heartbeat_pb2

from amphora_agent.heartbeat import HeartbeatSender
from amphora_agent.heartbeat import KeyFile as AgentKeyFile
from amphora_agent.stats import StatSnapshot
from services.orchestrator.adapters.heartbeat_keys import AgentHeartbeatKeys
from tests.integration.health.harness import (
    KEY,
    OLD_KEY,
    OLD_KEY_ID,
    eventually,
    make_heartbeat,
    running_stack,
    signed,
)

pytestmark = pytest.mark.timeout(60)


async def _health_of(stack, amphora_id: str = "amp-1") -> hpb.AmphoraHealth:
    stub = hpb_grpc.HealthServiceStub(stack.channel)
    response = await stub.GetAmphoraHealth(
        hpb.GetAmphoraHealthRequest(amphora_id=amphora_id), timeout=5
    )
    return response.health


async def _written(stack, amphora_id: str = "amp-1", sequence: int = 0) -> hpb.AmphoraHealth:
    """The amphora's health row once a heartbeat of at least `sequence` was written (heartbeats
    are written in batches, a moment after they are reported)."""
    found: list[hpb.AmphoraHealth] = []

    async def written() -> bool:
        try:
            row = await _health_of(stack, amphora_id)
        except grpc.aio.AioRpcError:
            return False
        found[:] = [row]
        return row.last_sequence >= sequence

    deadline = time.monotonic() + 5
    while not await written():
        assert time.monotonic() < deadline, f"no health row for {amphora_id}"
        await asyncio.sleep(0.02)
    return found[0]


def test_signed_heartbeat_reports_rolled_up_statuses(tmp_path, database_url):
    async def scenario():
        async with running_stack(tmp_path, database_url) as stack:
            before = time.time()
            stack.send(signed(make_heartbeat(7, members={"m-1": "DOWN", "m-2": "UP"})))
            fake = stack.orchestrator
            await eventually(lambda: fake.set_calls, what="SetOperatingStatuses")

            call = fake.set_calls[0]
            assert (call.loadbalancer_id, call.amphora_id) == ("lb-1", "amp-1")
            assert fake.statuses() == {
                "m-1": st.OPERATING_STATUS_ERROR,
                "m-2": st.OPERATING_STATUS_ONLINE,
                "p-1": st.OPERATING_STATUS_DEGRADED,
                "hm-1": st.OPERATING_STATUS_ONLINE,
                "l-1": st.OPERATING_STATUS_DEGRADED,
                "lb-1": st.OPERATING_STATUS_DEGRADED,
            }
            assert [r.id for r in fake.get_amphora_calls] == ["amp-1"]
            assert fake.get_lb_calls[0].id == "lb-1"
            assert fake.get_lb_calls[0].scope.all_projects

            health = await _written(stack, sequence=7)
            assert health.last_sequence == 7
            assert health.applied_config_hash == "cfg-1"
            assert not health.stale
            assert before - 1 <= health.last_seen.ToNanoseconds() / 1e9 <= time.time() + 1
            listed = await hpb_grpc.HealthServiceStub(stack.channel).ListAmphoraHealth(
                hpb.ListAmphoraHealthRequest(), timeout=5
            )
            assert [a.amphora_id for a in listed.amphorae] == ["amp-1"]

            # The old key (second line of the key file) still verifies.
            stack.send(signed(make_heartbeat(8), OLD_KEY_ID, OLD_KEY))
            await eventually(lambda: len(fake.set_calls) == 2, what="second call")
            assert fake.statuses()["lb-1"] == st.OPERATING_STATUS_ONLINE
            assert stack.app.drops.total() == 0

    asyncio.run(scenario())


def test_forged_unknown_key_replayed_and_garbage_datagrams_are_dropped(tmp_path, database_url):
    async def scenario():
        async with running_stack(tmp_path, database_url) as stack:
            fake, drops = stack.orchestrator, stack.app.drops
            first = signed(make_heartbeat(1, members={"m-1": "DOWN", "m-2": "UP"}))
            stack.send(first)
            await eventually(lambda: fake.set_calls, what="first call")
            seen = await _written(stack, sequence=1)

            # Each of these would change the statuses (m-1 UP) if it were accepted.
            forged = heartbeat_pb2.HeartbeatEnvelope.FromString(signed(make_heartbeat(2)))
            forged.hmac_sha256 = bytes(32)
            stack.send(forged.SerializeToString())
            await eventually(lambda: drops.bad_hmac == 1, what="bad_hmac drop")

            stack.send(signed(make_heartbeat(3), "k9", KEY))
            await eventually(lambda: drops.unknown_key == 1, what="unknown_key drop")

            stack.send(first)
            await eventually(lambda: drops.replay == 1, what="replay drop")

            stack.send(b"\x08\x01garbage")
            await eventually(lambda: drops.total() == 4, what="garbage drop")

            await asyncio.sleep(0.3)  # room for a wrongly accepted heartbeat to be reported
            assert len(fake.set_calls) == 1
            assert fake.set_attempts == 1
            assert await _health_of(stack) == seen

            # The receiver is still alive and accepts the next genuine heartbeat.
            stack.send(signed(make_heartbeat(2)))
            await eventually(lambda: len(fake.set_calls) == 2, what="call after drops")
            assert fake.statuses()["m-1"] == st.OPERATING_STATUS_ONLINE
            assert (await _written(stack, sequence=2)).last_sequence == 2

    asyncio.run(scenario())


def test_an_amphora_can_sign_only_its_own_heartbeats(tmp_path, database_url):
    """amp-1's agent, with the key file the compute driver writes for it, is heard; the same
    key claiming amp-2 is refused and amp-2 is never recorded; an agent that signs with the
    master key (from before per-amphora keys) is refused too."""

    async def no_stats() -> StatSnapshot:
        return StatSnapshot()

    def agent(amphora_id: str, key_file: Path, port: int) -> HeartbeatSender:
        keys = AgentKeyFile(str(key_file))
        return HeartbeatSender(
            amphora_id, [("127.0.0.1", port)], keys, 0.05, no_stats, lambda: "cfg-1"
        )

    async def scenario():
        async with running_stack(tmp_path, database_url) as stack:
            fake, drops, port = stack.orchestrator, stack.app.drops, stack.app.udp_port
            fake.amphorae["amp-2"] = "lb-1"
            master_file = stack.app.settings.key_file
            amp_1_dir = tmp_path / "amphorae" / "amp-1"
            amp_1_dir.mkdir(parents=True)
            amp_1_keys = AgentHeartbeatKeys(master_file).write(amp_1_dir, "amp-1")
            assert amp_1_keys.read_bytes() != master_file.read_bytes()

            own, forger = agent("amp-1", amp_1_keys, port), agent("amp-2", amp_1_keys, port)
            old_agent = agent("amp-2", master_file, port)
            tasks = [asyncio.create_task(a.run()) for a in (own, forger, old_agent)]
            try:
                await eventually(
                    lambda: drops.bad_hmac >= 5 and drops.master_key >= 5 and own.sequence >= 5,
                    what="five heartbeats of each agent",
                )
                await _written(stack, "amp-1", sequence=3)
                await eventually(lambda: fake.set_calls, what="amp-1's statuses")
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

            await asyncio.sleep(0.3)  # room for a wrongly accepted heartbeat to be written
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _health_of(stack, "amp-2")
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
            listed = await hpb_grpc.HealthServiceStub(stack.channel).ListAmphoraHealth(
                hpb.ListAmphoraHealthRequest(), timeout=5
            )
            assert [a.amphora_id for a in listed.amphorae] == ["amp-1"]
            assert {c.amphora_id for c in fake.set_calls} == {"amp-1"}
            assert "amp-2" not in {r.id for r in fake.get_amphora_calls}
            assert 3 <= stack.app.intake.accepted <= own.sequence
            assert drops.unknown_key == drops.unparseable == 0

    asyncio.run(scenario())


def test_orchestrator_errors_do_not_stop_reporting(tmp_path, database_url):
    async def scenario():
        async with running_stack(tmp_path, database_url) as stack:
            fake = stack.orchestrator
            fake.fail_set = 1
            # An amphora the orchestrator does not know: NOT_FOUND, logged, ignored.
            stack.send(signed(make_heartbeat(1, amphora_id="ghost")))
            stack.send(signed(make_heartbeat(1)))
            await eventually(lambda: fake.set_attempts == 1, what="failed attempt")
            assert fake.set_calls == []
            stack.send(signed(make_heartbeat(2)))
            await eventually(lambda: fake.set_calls, what="retried call")
            assert fake.set_calls[0].amphora_id == "amp-1"
            assert fake.statuses()["lb-1"] == st.OPERATING_STATUS_ONLINE
            assert {r.id for r in fake.get_amphora_calls} == {"ghost", "amp-1"}
            assert (await _written(stack, "ghost", 1)).last_sequence == 1

    asyncio.run(scenario())


def test_silent_amphora_goes_stale_and_its_lb_error(tmp_path, database_url):
    async def scenario():
        async with running_stack(tmp_path, database_url, stale_after=0.5) as stack:
            fake = stack.orchestrator
            stack.send(signed(make_heartbeat(1)))
            await eventually(lambda: fake.set_calls, what="first call")
            assert fake.statuses()["lb-1"] == st.OPERATING_STATUS_ONLINE

            await eventually(lambda: len(fake.set_calls) == 2, timeout=5, what="stale report")
            assert fake.statuses() == {"lb-1": st.OPERATING_STATUS_ERROR}
            assert (await _health_of(stack)).stale
            await asyncio.sleep(0.6)
            assert len(fake.set_calls) == 2, "stale ERROR is not re-sent every check"

            stack.send(signed(make_heartbeat(2)))
            await eventually(
                lambda: (
                    len(fake.set_calls) >= 3
                    and fake.statuses().get("lb-1") == st.OPERATING_STATUS_ONLINE
                ),
                what="recovery",
            )
            assert (await _written(stack, sequence=2)).last_sequence == 2

    asyncio.run(scenario())


def test_grpc_health_serving_and_unknown_amphora_not_found(tmp_path, database_url):
    async def scenario():
        async with running_stack(tmp_path, database_url) as stack:
            health = health_pb2_grpc.HealthStub(stack.channel)
            for service in ("", "lbaas.health.v1.HealthService"):
                response = await health.Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=5
                )
                assert response.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _health_of(stack, "nobody")
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())
