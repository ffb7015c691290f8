"""The reconcile job end to end: real PostgreSQL, real gRPC, real procrastinate, fake drivers."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, create_lb, lb_status, orchestrator, wait_for

from services.common.errors import InvalidInput


def test_lb_reaches_active_with_an_amphora(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            lb = await create_lb(st.stub)
            assert lb.meta.provisioning_status == 2  # PENDING_CREATE
            assert lb.vip.address.startswith("127.") and not lb.vip.address.startswith("127.0.0.")
            await wait_for(lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"))
            amps = await st.stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb.meta.id))
            assert len(amps.amphorae) == 1
            amp = amps.amphorae[0]
            assert amp.applied_config_hash == st.agent.applied[amp.id]
            assert amp.status == "ALLOCATED" and amp.vip_address == lb.vip.address

    asyncio.run(scenario())


async def _is(stub, lb_id, name):
    return await lb_status(stub, lb_id) == name


def test_rapid_updates_fold_into_one_final_active_state(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            st.renderer.delay = 0.05
            lb = await create_lb(st.stub)
            lb_id = lb.meta.id
            for i in range(10):
                resp = await st.stub.UpdateLoadBalancer(
                    pb.UpdateLoadBalancerRequest(
                        scope=ALICE,
                        loadbalancer=graph_pb2.LoadBalancer(
                            meta=graph_pb2.ResourceMeta(id=lb_id, name=f"name-{i}")
                        ),
                        update_mask=FieldMask(paths=["meta.name"]),
                    )
                )
                assert resp.loadbalancer.meta.name == f"name-{i}"
            await wait_for(lambda: _is(st.stub, lb_id, "PROVISIONING_STATUS_ACTIVE"))
            got = await st.stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ALICE, id=lb_id))
            assert got.loadbalancer.meta.name == "name-9"
            assert got.loadbalancer.desired_version == 11
            # The last pass rendered the last version, and fewer passes than changes ran.
            assert st.renderer.rendered_versions[-1] == 11
            assert len(st.renderer.rendered_versions) < 11

    asyncio.run(scenario())


@pytest.mark.parametrize("fresh", [0.0, 60.0])
def test_a_pass_uses_the_probes_of_the_amphorae_the_last_one_served(
    database_url, run_dir, monkeypatch, fresh
):
    """The probe started with the pass (while it reads the desired state) is the only GetInfo of
    a steady pass, and none when the agent answered less than AGENT_ANSWER_FRESH seconds ago; an
    amphora gone since the last pass is built again either way, as without probes."""
    from services.orchestrator.jobs import reconcile

    monkeypatch.setattr(reconcile, "AGENT_ANSWER_FRESH", fresh)

    async def rename(st, lb_id: str, name: str) -> None:
        await st.stub.UpdateLoadBalancer(
            pb.UpdateLoadBalancerRequest(
                scope=ALICE,
                loadbalancer=graph_pb2.LoadBalancer(
                    meta=graph_pb2.ResourceMeta(id=lb_id, name=name)
                ),
                update_mask=FieldMask(paths=["meta.name"]),
            )
        )
        await wait_for(lambda: _is(st.stub, lb_id, "PROVISIONING_STATUS_ACTIVE"))

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            lb = await create_lb(st.stub)
            await wait_for(lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"))
            (first,) = st.compute.alive
            st.agent.compute = st.compute  # the agent of a killed instance stops answering
            for i in range(3):
                st.agent.info_calls = 0
                await rename(st, lb.meta.id, f"n{i}")
                assert st.agent.info_calls == (0 if fresh else 1)
            st.compute.kill_all()
            await rename(st, lb.meta.id, "after")
            (rebuilt,) = st.compute.alive
            assert rebuilt != first

    asyncio.run(scenario())


def test_a_change_during_a_pass_runs_as_soon_as_the_pass_ends(database_url, run_dir, monkeypatch):
    """The next job of a load balancer waits for the lock of the one running; when that one
    ends, its lock's release wakes the worker (migration 0011), not the polling fetch (made an
    hour here, so the test fails without the wake-up)."""
    from services.orchestrator import server

    monkeypatch.setattr(server, "FETCH_JOB_POLLING_INTERVAL", 3600.0)

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            lb = await create_lb(st.stub)
            await wait_for(lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"))
            st.agent.apply_delay = 0.5
            started = st.agent.apply_calls

            async def rename(name: str) -> None:
                await st.stub.UpdateLoadBalancer(
                    pb.UpdateLoadBalancerRequest(
                        scope=ALICE,
                        loadbalancer=graph_pb2.LoadBalancer(
                            meta=graph_pb2.ResourceMeta(id=lb.meta.id, name=name)
                        ),
                        update_mask=FieldMask(paths=["meta.name"]),
                    )
                )

            await rename("first")
            await wait_for(lambda: _applying(st, started + 1))
            await rename("second")  # deferred while the first pass holds the lock
            await wait_for(lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"), 30)
            assert st.agent.apply_calls == started + 2

    asyncio.run(scenario())


async def _applying(st, calls: int) -> bool:
    return st.agent.apply_calls >= calls


def test_renderer_invalid_input_puts_lb_in_error_with_reason(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            st.renderer.fail = InvalidInput("unknown protocol FOO", field="protocol")
            lb = await create_lb(st.stub)
            await wait_for(lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ERROR"))
            reason = await asyncio.to_thread(_status_reason, st, lb.meta.id)
            assert "unknown protocol FOO" in reason
            # A later accepted change is retried and can recover the load balancer.
            st.renderer.fail = None
            await st.stub.UpdateLoadBalancer(
                pb.UpdateLoadBalancerRequest(
                    scope=ADMIN,
                    loadbalancer=graph_pb2.LoadBalancer(
                        meta=graph_pb2.ResourceMeta(id=lb.meta.id, name="fixed")
                    ),
                    update_mask=FieldMask(paths=["meta.name"]),
                )
            )
            await wait_for(lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"))

    asyncio.run(scenario())


def _status_reason(st, lb_id):
    from services.orchestrator.adapters.db.models import LoadBalancerRow

    with st.running.orchestrator.uow.transaction() as s:
        return s.get(LoadBalancerRow, lb_id).status_reason


def test_unreachable_agent_ends_in_error_after_bounded_attempts(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            st.agent.unavailable = True
            lb = await create_lb(st.stub)
            await wait_for(
                lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ERROR"), timeout=30
            )
            assert "Unavailable after 3 attempts" in await asyncio.to_thread(
                _status_reason, st, lb.meta.id
            )

    asyncio.run(scenario())


def _job_statuses(st, lb_id):
    from sqlalchemy import text

    with st.running.orchestrator.uow.transaction() as s:
        return [
            r[0]
            for r in s.execute(
                text("SELECT status FROM procrastinate_jobs WHERE lock = :l"), {"l": lb_id}
            )
        ]


def test_worker_killed_mid_job_is_recovered_by_the_sweep(database_url, run_dir):
    """A worker process is SIGKILLed while its job is `doing`; the job keeps the LB's lock until
    the sweep sees the worker's heartbeat is gone, releases it and re-enqueues the LB."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from services.orchestrator.server import start_worker

    async def scenario():
        settings = make_settings(database_url, run_dir)
        async with orchestrator(settings, worker=False) as st:
            lb = await create_lb(st.stub)
            script = Path(__file__).parent / "orch_crash_worker.py"
            child = subprocess.Popen(
                [sys.executable, str(script), database_url, str(run_dir)],
                cwd=Path(__file__).parents[3],
            )
            try:
                # Generous deadlines: a child python that imports the orchestrator can take long
                # on a loaded machine; they bound a failure, a pass does not wait for them.
                await wait_for(
                    lambda: asyncio.to_thread(_job_statuses, st, lb.meta.id),
                    timeout=120,
                    what="a job",
                )
                await wait_for(
                    lambda: _doing(st, lb.meta.id),
                    timeout=120,
                    what="the child to start the job",
                )
            finally:
                os.kill(child.pid, signal.SIGKILL)
                child.wait()
            assert await lb_status(st.stub, lb.meta.id) == "PROVISIONING_STATUS_PENDING_CREATE"
            st.running.tasks = start_worker(st.running.orchestrator)
            await wait_for(
                lambda: _is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"), timeout=120
            )
            statuses = await asyncio.to_thread(_job_statuses, st, lb.meta.id)
            # The dead worker's job stays, failed; the pass that succeeded left no row behind.
            assert statuses == ["failed"]

    asyncio.run(scenario())


async def _doing(st, lb_id):
    return "doing" in await asyncio.to_thread(_job_statuses, st, lb_id)
