"""Deferring reconcile jobs: one waiting job per load balancer, brought forward by a change
when it is a retry due later. Real PostgreSQL and procrastinate."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ALICE, create_lb, lb_status, orchestrator, wait_for
from sqlalchemy import text

from services.common.errors import Unavailable
from services.orchestrator.adapters.db.engine import UnitOfWork, make_engine, upgrade_to_head
from services.orchestrator.adapters.job_queue import ProcrastinateReconcileQueue
from services.orchestrator.config import sqlalchemy_url

_WAITING = text(
    "SELECT extract(epoch FROM scheduled_at - clock_timestamp()) FROM procrastinate_jobs"
    " WHERE queueing_lock = :l AND status = 'todo'"
)


def _waiting(uow, lb_id) -> list[float | None]:
    """Seconds until each waiting job of the load balancer is due (None: due now)."""
    with uow.transaction() as s:
        return [None if r[0] is None else float(r[0]) for r in s.execute(_WAITING, {"l": lb_id})]


@pytest.fixture
def uow(database_url):
    engine = make_engine(sqlalchemy_url(database_url), pool_size=2)
    upgrade_to_head(engine)
    try:
        yield UnitOfWork(engine)
    finally:
        engine.dispose()


def test_a_waiting_retry_is_brought_forward_and_never_postponed(uow):
    queue = ProcrastinateReconcileQueue()
    lb_id = str(uuid.uuid4())

    def enqueue(delay=None):
        with uow.transaction() as s:
            return queue.enqueue(s, lb_id, delay=delay)

    def waiting():
        return _waiting(uow, lb_id)

    try:
        assert enqueue(600) is True
        (due,) = waiting()
        assert 500 < due <= 600
        # A later retry does not postpone the one waiting.
        assert enqueue(1200) is False
        (due,) = waiting()
        assert 500 < due <= 600
        # A sooner one replaces it.
        assert enqueue(60) is True
        (due,) = waiting()
        assert 30 < due <= 60

        # The replacement is part of the caller's transaction: rolled back with it, the
        # waiting retry is still there.
        with pytest.raises(RuntimeError), uow.transaction() as s:
            assert queue.enqueue(s, lb_id) is True
            raise RuntimeError("the change is refused")
        (due,) = waiting()
        assert 30 < due <= 60

        # A job due now replaces it; the caller's transaction goes on after it (no unique
        # violation aborts it).
        with uow.transaction() as s:
            assert queue.enqueue(s, lb_id) is True
            assert s.execute(text("SELECT 1")).scalar_one() == 1
        assert waiting() == [None]
        # Once a job due now waits, nothing is added or moved.
        assert enqueue() is False
        assert enqueue(5) is False
        assert waiting() == [None]
    finally:
        queue.close()


def test_a_change_is_applied_at_once_while_a_retry_waits_far_ahead(database_url, run_dir):
    """A pass failed transiently and its retry is due in 10 minutes; a change made meanwhile
    runs at once instead of waiting for it (the sweep, held off here, would not help: the load
    balancer has a waiting job)."""

    async def scenario():
        settings = dataclasses.replace(
            make_settings(database_url, run_dir),
            sweep_interval=3600.0,
            job_max_attempts=5,
            job_retry_base_delay=600.0,
            job_retry_max_delay=600.0,
        )
        async with orchestrator(settings) as st:
            uow = st.running.orchestrator.uow
            st.renderer.fail = Unavailable("renderer unreachable")
            lb = await create_lb(st.stub)
            lb_id = lb.meta.id

            async def retry_far_ahead():
                waiting = await asyncio.to_thread(_waiting, uow, lb_id)
                return len(waiting) == 1 and waiting[0] is not None and waiting[0] > 300

            await wait_for(retry_far_ahead, 60, "the retry to be scheduled")
            assert await lb_status(st.stub, lb_id) == "PROVISIONING_STATUS_PENDING_CREATE"

            st.renderer.fail = None
            await st.stub.UpdateLoadBalancer(
                pb.UpdateLoadBalancerRequest(
                    scope=ALICE,
                    loadbalancer=g.LoadBalancer(meta=g.ResourceMeta(id=lb_id, name="renamed")),
                    update_mask=FieldMask(paths=["meta.name"]),
                )
            )
            # 60 s at most: ten times less than the retry's delay.
            await wait_for(lambda: _is_active(st.stub, lb_id), 60, "the change to be applied")
            assert st.renderer.rendered_ids[-1] == lb_id
            assert st.renderer.rendered_versions[-1] == 2
            # The far retry was replaced, not left behind to run a useless pass later.
            assert await asyncio.to_thread(_waiting, uow, lb_id) == []

    asyncio.run(scenario())


async def _is_active(stub, lb_id):
    return await lb_status(stub, lb_id) == "PROVISIONING_STATUS_ACTIVE"
