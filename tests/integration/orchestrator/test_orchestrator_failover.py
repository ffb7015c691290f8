"""Self-healing in the orchestrator (real PostgreSQL and gRPC, fake drivers): the spare pool,
automatic failover claimed once, failover of an amphora that stops answering or breaks, and
config pushes for drift."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, create_lb, lb_status, orchestrator, wait_for

STALE = pb.FAILOVER_TRIGGER_HEARTBEAT_STALE


def _settings(database_url, run_dir, **changes):
    return dataclasses.replace(
        make_settings(database_url, run_dir), housekeeping_interval=0.2, **changes
    )


async def _amphorae(stub, lb_id: str = ""):
    return list((await stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))).amphorae)


async def _spares(stub):
    return [a for a in await _amphorae(stub) if not a.loadbalancer_id]


async def _rename(stub, lb_id: str, name: str) -> None:
    await stub.UpdateLoadBalancer(
        pb.UpdateLoadBalancerRequest(
            scope=ALICE,
            loadbalancer=graph_pb2.LoadBalancer(meta=graph_pb2.ResourceMeta(id=lb_id, name=name)),
            update_mask=FieldMask(paths=["meta.name"]),
        )
    )


async def _active(stub, lb_id):
    return await lb_status(stub, lb_id) == "PROVISIONING_STATUS_ACTIVE"


async def _ready_spares(stub, n):
    spares = await _spares(stub)
    return len(spares) == n and all(a.status == "READY" for a in spares)


def test_spares_are_kept_ready_taken_by_creates_and_refilled(database_url, run_dir):
    async def scenario():
        settings = _settings(database_url, run_dir, spare_pool={"haproxy": 2})
        async with orchestrator(settings) as st:
            s = st.stub
            await wait_for(lambda: _ready_spares(s, 2), what="two ready spares")
            spares = await _spares(s)
            assert {a.backend_type for a in spares} == {"haproxy"}
            assert all(a.agent_address and a.compute_id for a in spares)
            created = len(st.compute.created)

            lb = await create_lb(s)
            await wait_for(lambda: _active(s, lb.meta.id))
            (amp,) = await _amphorae(s, lb.meta.id)
            assert amp.id in {a.id for a in spares}, "the create took a spare"
            assert amp.status == "ALLOCATED" and amp.role == "STANDALONE"
            assert st.agent.applied[amp.id] == amp.applied_config_hash
            # Refilled by housekeeping: one more agent started, none for the create itself.
            await wait_for(lambda: _ready_spares(s, 2), what="pool refilled")
            assert len(st.compute.created) == created + 1

            # A spare that goes silent, or that an operator deletes, is removed and replaced.
            victim, other = await _spares(s)
            claimed = await s.FailoverAmphora(
                pb.FailoverAmphoraRequest(id=victim.id, trigger=STALE)
            )
            assert claimed.claimed
            await s.DeleteAmphora(pb.DeleteAmphoraRequest(id=other.id))
            await wait_for(lambda: {victim.id, other.id} <= set(st.compute.deleted), what="gone")
            await wait_for(lambda: _ready_spares(s, 2), what="pool refilled again")
            assert not {victim.id, other.id} & {a.id for a in await _amphorae(s)}

    asyncio.run(scenario())


def test_automatic_failover_is_claimed_once_and_folds_in_changes(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            s = st.stub
            lb = await create_lb(s)
            lb_id = lb.meta.id
            await wait_for(lambda: _active(s, lb_id))
            (old,) = await _amphorae(s, lb_id)

            # A change in flight (slow renderer): an operator's failover is refused, an
            # automatic one is accepted, and several health replicas asking start one failover.
            st.renderer.delay = 0.5
            await _rename(s, lb_id, "renamed")
            try:
                await s.FailoverAmphora(pb.FailoverAmphoraRequest(id=old.id))
                raise AssertionError("operator failover accepted while PENDING_UPDATE")
            except grpc.aio.AioRpcError as err:
                assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
            answers = await asyncio.gather(
                *(
                    s.FailoverAmphora(pb.FailoverAmphoraRequest(id=old.id, trigger=STALE))
                    for _ in range(5)
                )
            )
            assert sorted(a.claimed for a in answers) == [False] * 4 + [True]
            st.renderer.delay = 0
            await wait_for(lambda: _active(s, lb_id), what="failover done")
            (new,) = await _amphorae(s, lb_id)
            assert new.id != old.id
            assert st.compute.deleted == [old.id]
            assert [c.amphora_id for c in st.compute.created] == [old.id, new.id]
            got = (
                await s.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ADMIN, id=lb_id))
            ).loadbalancer
            assert got.meta.name == "renamed"
            assert st.agent.applied[new.id] == new.applied_config_hash
            # Asked again about the replaced amphora (a slow replica): it is gone.
            try:
                await s.FailoverAmphora(pb.FailoverAmphoraRequest(id=old.id, trigger=STALE))
                raise AssertionError("failover of a deleted amphora")
            except grpc.aio.AioRpcError as err:
                assert err.code() == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())


def test_an_amphora_that_stops_answering_or_breaks_during_a_pass_is_failed_over(
    database_url, run_dir
):
    async def scenario():
        settings = _settings(database_url, run_dir, unreachable_failover_after=0.5)
        async with orchestrator(settings) as st:
            s = st.stub
            lb = await create_lb(s)
            lb_id = lb.meta.id
            await wait_for(lambda: _active(s, lb_id))
            (first,) = await _amphorae(s, lb_id)

            # Its process lives but its agent does not answer: the pass does not wait out the
            # agent start timeout and retry, it builds a replacement.
            st.agent.unreachable.add(first.id)
            await _rename(s, lb_id, "n1")
            await wait_for(lambda: first.id in st.compute.deleted, timeout=20, what="replaced")
            await wait_for(lambda: _active(s, lb_id))
            (second,) = await _amphorae(s, lb_id)
            assert second.id != first.id

            # Its reload and the restore of the last good config failed (BROKEN).
            st.agent.results[second.id] = "BROKEN"
            await _rename(s, lb_id, "n2")
            await wait_for(lambda: second.id in st.compute.deleted, timeout=20, what="replaced")
            await wait_for(lambda: _active(s, lb_id))
            (third,) = await _amphorae(s, lb_id)
            assert third.id not in (first.id, second.id)
            assert st.agent.applied[third.id] == third.applied_config_hash

    asyncio.run(scenario())


def test_drift_push_is_claimed_only_for_a_settled_serving_amphora(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            s = st.stub
            lb = await create_lb(s)
            lb_id = lb.meta.id
            await wait_for(lambda: _active(s, lb_id))
            (amp,) = await _amphorae(s, lb_id)
            calls = len(st.agent.calls)
            answer = await s.ConfigureAmphora(pb.ConfigureAmphoraRequest(id=amp.id, drift=True))
            assert answer.claimed
            await wait_for(lambda: len(st.agent.calls) > calls, what="forced push")
            assert st.agent.calls[-1][:2] == (amp.id, True)
            await wait_for(lambda: _active(s, lb_id))

            st.renderer.delay = 0.5
            await _rename(s, lb_id, "x")
            answer = await s.ConfigureAmphora(pb.ConfigureAmphoraRequest(id=amp.id, drift=True))
            assert not answer.claimed, "the pass in flight pushes anyway"
            st.renderer.delay = 0
            await wait_for(lambda: _active(s, lb_id))

    asyncio.run(scenario())
