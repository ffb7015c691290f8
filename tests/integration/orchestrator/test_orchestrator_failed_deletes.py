"""A delete the API accepted is never undone: a pass that fails for good keeps it wanted (never
rendered, never ACTIVE again) and a later pass removes it once the failure is gone. Real
PostgreSQL, gRPC and procrastinate; fake drivers. The sweep is held off (long interval) so the
only way back is the retry the failed pass scheduled itself."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import FakeCompute, FakeRenderer, make_settings
from orch_harness import ADMIN, ALICE, create_lb, lb_status, orchestrator, wait_for
from sqlalchemy import text

from services.common.errors import InvalidInput, Unavailable
from services.orchestrator.adapters.db.models import LoadBalancerRow

PENDING_DELETE, ACTIVE = 4, 1  # lbaas.common.v1.ProvisioningStatus values
LB_ACTIVE, LB_ERROR = "PROVISIONING_STATUS_ACTIVE", "PROVISIONING_STATUS_ERROR"
LB_PENDING_DELETE = "PROVISIONING_STATUS_PENDING_DELETE"
TIMEOUT = 60.0  # generous: every wait polls for a condition and stops as soon as it holds


class RecordingRenderer(FakeRenderer):
    """Keeps a copy of every graph it is asked to render, failed renders included."""

    def __init__(self) -> None:
        super().__init__()
        self.graphs: list[g.LoadBalancer] = []

    async def render(self, loadbalancer, target, vip_address, materials=(), vrrp=None, size=None):
        copy = g.LoadBalancer()
        copy.CopyFrom(loadbalancer)
        self.graphs.append(copy)
        return await super().render(loadbalancer, target, vip_address, materials, vrrp)


class FlakyCompute(FakeCompute):
    def __init__(self) -> None:
        super().__init__()
        self.fail_deletes = False
        self.delete_attempts = 0

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        self.delete_attempts += 1
        if self.fail_deletes:
            raise Unavailable("compute API unreachable")
        await super().delete_amphora(amphora_id, compute_id)


def _settings(database_url, run_dir, **changes):
    # Three attempts 0.1 s and 0.2 s apart, then one attempt every 2 s while the failure lasts.
    base = make_settings(database_url, run_dir)
    changes = {"sweep_interval": 3600.0, "job_retry_max_delay": 2.0, **changes}
    return dataclasses.replace(base, **changes)


async def _lb_with_members(stub, count: int = 2):
    lb = await create_lb(stub)
    pool = (
        await stub.CreatePool(
            pb.CreatePoolRequest(
                scope=ALICE,
                pool=g.Pool(
                    meta=g.ResourceMeta(name="web", admin_state_up=True),
                    loadbalancer_id=lb.meta.id,
                    protocol="HTTP",
                    lb_algorithm="ROUND_ROBIN",
                ),
            )
        )
    ).pool
    await stub.CreateListener(
        pb.CreateListenerRequest(
            scope=ALICE,
            listener=g.Listener(
                meta=g.ResourceMeta(name="l80", admin_state_up=True),
                loadbalancer_id=lb.meta.id,
                protocol="HTTP",
                protocol_port=80,
                connection_limit=-1,
                default_pool_id=pool.meta.id,
            ),
        )
    )
    members = []
    for i in range(count):
        member = g.Member(
            meta=g.ResourceMeta(admin_state_up=True),
            pool_id=pool.meta.id,
            address=f"10.0.0.{i + 1}",
            protocol_port=8080,
            weight=1,
        )
        resp = await stub.CreateMember(pb.CreateMemberRequest(scope=ALICE, member=member))
        members.append(resp.member)
    await wait_for(lambda: _lb_is(stub, lb.meta.id, LB_ACTIVE), TIMEOUT, "the load balancer")
    return lb, pool, members


async def _lb_is(stub, lb_id, name):
    return await lb_status(stub, lb_id) == name


async def _get_member(stub, pool_id, member_id):
    """The member, or None when it is gone (NOT_FOUND)."""
    try:
        resp = await stub.GetMember(pb.GetMemberRequest(scope=ALICE, pool_id=pool_id, id=member_id))
    except grpc.aio.AioRpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return resp.member


async def _gone(call) -> bool:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return True
        raise
    return False


def _status_reason(st, lb_id) -> str:
    with st.running.orchestrator.uow.transaction() as s:
        row = s.get(LoadBalancerRow, lb_id)
        return (row.status_reason or "") if row is not None else ""


def _retry_waits(st, lb_id) -> bool:
    """A job of the load balancer waits, due in the future: a retry the failed pass scheduled."""
    with st.running.orchestrator.uow.transaction() as s:
        return bool(
            s.execute(
                text(
                    "SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = :l"
                    " AND status = 'todo' AND scheduled_at > clock_timestamp()"
                ),
                {"l": lb_id},
            ).first()
        )


def _member_ids(graph: g.LoadBalancer) -> set[str]:
    return {m.meta.id for p in graph.pools for m in p.members}


def test_a_deleted_member_stays_deleted_through_failed_passes(database_url, run_dir):
    async def scenario():
        renderer = RecordingRenderer()
        async with orchestrator(_settings(database_url, run_dir), renderer=renderer) as st:
            lb, pool, (gone, kept) = await _lb_with_members(st.stub)
            lb_id = lb.meta.id
            assert gone.meta.id in _member_ids(renderer.graphs[-1])

            renderer.fail = Unavailable("renderer unreachable")
            accepted_at = len(renderer.graphs)
            await st.stub.DeleteMember(
                pb.DeleteMemberRequest(scope=ALICE, pool_id=pool.meta.id, id=gone.meta.id)
            )

            async def failed_for_good():
                reason = await asyncio.to_thread(_status_reason, st, lb_id)
                return "Unavailable after" in reason

            await wait_for(failed_for_good, TIMEOUT, "the pass to fail for good")
            assert await lb_status(st.stub, lb_id) == LB_ERROR
            # The delete is still wanted: not ERROR (which a later success would make ACTIVE).
            member = await _get_member(st.stub, pool.meta.id, gone.meta.id)
            assert member is not None and member.meta.provisioning_status == PENDING_DELETE
            listed = await st.stub.ListMembers(
                pb.ListMembersRequest(scope=ALICE, pool_id=pool.meta.id)
            )
            assert {m.meta.id: m.meta.provisioning_status for m in listed.members} == {
                gone.meta.id: PENDING_DELETE,
                kept.meta.id: ACTIVE,
            }
            # The failed pass scheduled the next attempt itself (the sweep is held off).
            await wait_for(lambda: asyncio.to_thread(_retry_waits, st, lb_id), TIMEOUT, "retry")

            renderer.fail = None

            async def healed():
                removed = await _get_member(st.stub, pool.meta.id, gone.meta.id) is None
                return removed and await _lb_is(st.stub, lb_id, LB_ACTIVE)

            await wait_for(healed, TIMEOUT, "the member to be removed")
            after = renderer.graphs[accepted_at:]
            # At least the failed attempts and the pass that succeeded asked for a render, and
            # none of them was given the member the client had deleted.
            assert len(after) >= 4
            assert not any(gone.meta.id in _member_ids(graph) for graph in after)
            assert _member_ids(after[-1]) == {kept.meta.id}

    asyncio.run(scenario())


def test_a_failed_cascade_delete_is_torn_down_later_and_never_active_again(database_url, run_dir):
    async def scenario():
        renderer, compute = RecordingRenderer(), FlakyCompute()
        settings = _settings(database_url, run_dir)
        async with orchestrator(settings, renderer=renderer, compute=compute) as st:
            lb, pool, (member, _) = await _lb_with_members(st.stub)
            lb_id = lb.meta.id
            amphorae = await st.stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))
            (amphora,) = amphorae.amphorae

            compute.fail_deletes = True
            rendered_before = len(renderer.graphs)
            await st.stub.DeleteLoadBalancer(
                pb.DeleteLoadBalancerRequest(scope=ALICE, id=lb_id, cascade=True)
            )
            seen: list[str] = []

            async def watch():  # every status the load balancer shows until it is gone
                while True:
                    try:
                        seen.append(await lb_status(st.stub, lb_id))
                    except grpc.aio.AioRpcError as err:
                        if err.code() == grpc.StatusCode.NOT_FOUND:
                            return
                        raise
                    await asyncio.sleep(0.05)

            watcher = asyncio.create_task(watch())
            try:

                async def failed_for_good():
                    reason = await asyncio.to_thread(_status_reason, st, lb_id)
                    return "Unavailable after" in reason

                await wait_for(failed_for_good, TIMEOUT, "the teardown to fail for good")
                assert await lb_status(st.stub, lb_id) == LB_PENDING_DELETE
                still = await _get_member(st.stub, pool.meta.id, member.meta.id)
                assert still is not None and still.meta.provisioning_status == PENDING_DELETE
                assert compute.delete_attempts >= settings.job_max_attempts
                await wait_for(lambda: asyncio.to_thread(_retry_waits, st, lb_id), TIMEOUT, "retry")

                compute.fail_deletes = False
                await wait_for(
                    lambda: _gone(
                        st.stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ADMIN, id=lb_id))
                    ),
                    TIMEOUT,
                    "the load balancer to be deleted",
                )
                await asyncio.wait_for(watcher, TIMEOUT)
            finally:
                watcher.cancel()
            # Nothing made it a serving load balancer again: no status but PENDING_DELETE was
            # ever shown, and no pass rendered it after the delete was accepted.
            assert seen and set(seen) == {LB_PENDING_DELETE}
            assert len(renderer.graphs) == rendered_before
            assert amphora.id in compute.deleted and not compute.alive
            assert await _gone(
                st.stub.GetMember(
                    pb.GetMemberRequest(scope=ADMIN, pool_id=pool.meta.id, id=member.meta.id)
                )
            )

    asyncio.run(scenario())


def test_a_deleted_l7_policy_left_without_a_job_is_picked_up_by_the_sweep(database_url, run_dir):
    """The load balancer is ERROR after the failed pass, so only the policy is still PENDING;
    if the retry job is lost (as a dead worker's job the sweep marks failed), the sweep must
    see that policy."""

    async def scenario():
        renderer = RecordingRenderer()
        settings = _settings(database_url, run_dir, job_retry_max_delay=600.0)
        async with orchestrator(settings, renderer=renderer) as st:
            lb = await create_lb(st.stub)
            lb_id = lb.meta.id
            listener = (
                await st.stub.CreateListener(
                    pb.CreateListenerRequest(
                        scope=ALICE,
                        listener=g.Listener(
                            meta=g.ResourceMeta(name="l80", admin_state_up=True),
                            loadbalancer_id=lb_id,
                            protocol="HTTP",
                            protocol_port=80,
                            connection_limit=-1,
                        ),
                    )
                )
            ).listener
            policy = (
                await st.stub.CreateL7Policy(
                    pb.CreateL7PolicyRequest(
                        scope=ALICE,
                        l7policy=g.L7Policy(
                            meta=g.ResourceMeta(name="deny", admin_state_up=True),
                            listener_id=listener.meta.id,
                            action="REJECT",
                            position=1,
                        ),
                    )
                )
            ).l7policy
            await wait_for(lambda: _lb_is(st.stub, lb_id, LB_ACTIVE), TIMEOUT, "ACTIVE")

            renderer.fail = InvalidInput("refused by the renderer")
            await st.stub.DeleteL7Policy(pb.DeleteL7PolicyRequest(scope=ALICE, id=policy.meta.id))
            await wait_for(lambda: _lb_is(st.stub, lb_id, LB_ERROR), TIMEOUT, "ERROR")
            got = await st.stub.GetL7Policy(pb.GetL7PolicyRequest(scope=ALICE, id=policy.meta.id))
            assert got.l7policy.meta.provisioning_status == PENDING_DELETE
            await wait_for(lambda: asyncio.to_thread(_retry_waits, st, lb_id), TIMEOUT, "retry")

            orch = st.running.orchestrator
            with orch.uow.transaction() as s:
                s.execute(
                    text(
                        "UPDATE procrastinate_jobs SET status = 'failed'"
                        " WHERE queueing_lock = :l AND status = 'todo'"
                    ),
                    {"l": lb_id},
                )
            assert await asyncio.to_thread(orch.sweeper.enqueue_orphaned) == [lb_id]

            renderer.fail = None
            await wait_for(
                lambda: _gone(
                    st.stub.GetL7Policy(pb.GetL7PolicyRequest(scope=ALICE, id=policy.meta.id))
                ),
                TIMEOUT,
                "the policy to be removed",
            )
            await wait_for(lambda: _lb_is(st.stub, lb_id, LB_ACTIVE), TIMEOUT, "ACTIVE again")
            assert not renderer.graphs[-1].listeners[0].l7policies

    asyncio.run(scenario())
