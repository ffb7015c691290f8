"""Conditional load balancer lists against real PostgreSQL and gRPC: an etag that holds while
nothing changes, and that every committed change (here or by another replica, through
PostgreSQL's notifications) invalidates; a rolled-back transaction does not."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, BOB, create_lb, orchestrator

from services.orchestrator.adapters.db.models import LoadBalancerRow


async def _listed(stub, scope, if_none_match: str = "") -> pb.ListLoadBalancersResponse:
    return await stub.ListLoadBalancers(
        pb.ListLoadBalancersRequest(scope=scope, if_none_match=if_none_match)
    )


async def _settled(stub, scope) -> pb.ListLoadBalancersResponse:
    """A list whose etag holds. The notification of this process's own last commit may arrive
    after the list was answered (a loaded machine delays it) and bumps the count once more, as it
    should (conservative): list again until an etag holds, then return that list."""
    for _ in range(500):
        listed = await _listed(stub, scope)
        if (await _listed(stub, scope, listed.etag)).not_modified:
            return listed
        await asyncio.sleep(0.02)
    raise AssertionError("the etag never held")


async def _until_listening(running) -> None:
    for _ in range(200):
        if running.orchestrator.servicer.changes.listening:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the change listener never connected")


def test_etag_holds_until_a_change_is_committed(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            await _until_listening(st.running)
            first = await create_lb(st.stub, name="one")
            listed = await _settled(st.stub, ALICE)
            assert listed.etag and not listed.not_modified
            assert [lb.meta.id for lb in listed.loadbalancers] == [first.meta.id]

            again = await _listed(st.stub, ALICE, listed.etag)
            assert again.not_modified and again.etag == listed.etag
            assert len(again.loadbalancers) == 0
            # The etag is global: another scope's kept answer holds as long.
            other = await _listed(st.stub, BOB)
            assert (await _listed(st.stub, BOB, other.etag)).not_modified

            # A change committed here: the old etag no longer holds, the new list shows it.
            second = await create_lb(st.stub, name="two")
            after = await _listed(st.stub, ALICE, listed.etag)
            assert not after.not_modified and after.etag != listed.etag
            assert {lb.meta.id for lb in after.loadbalancers} == {first.meta.id, second.meta.id}
            assert not (await _listed(st.stub, BOB, other.etag)).not_modified

            # An update too (read-your-writes: the answer to the update comes after the bump).
            await st.stub.UpdateLoadBalancer(
                pb.UpdateLoadBalancerRequest(
                    scope=ALICE,
                    loadbalancer=graph_pb2.LoadBalancer(
                        meta=graph_pb2.ResourceMeta(id=first.meta.id, name="renamed")
                    ),
                    update_mask=FieldMask(paths=["meta.name"]),
                )
            )
            renamed = await _listed(st.stub, ALICE, after.etag)
            assert not renamed.not_modified
            assert {lb.meta.name for lb in renamed.loadbalancers} == {"renamed", "two"}
            renamed = await _settled(st.stub, ALICE)

            # A transaction that rolls back changes nothing.
            uow = st.running.orchestrator.uow
            with pytest.raises(RuntimeError):
                with uow.transaction() as session:
                    session.get(LoadBalancerRow, first.meta.id).name = "never"
                    session.flush()
                    raise RuntimeError("roll back")
            assert (await _listed(st.stub, ALICE, renamed.etag)).not_modified

            # A change committed by someone else (another replica, or by hand): the table's
            # trigger notifies, and that is enough.
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(
                    "UPDATE load_balancer SET name = 'elsewhere' WHERE id = %s", (second.meta.id,)
                )
            for _ in range(200):
                fresh = await _listed(st.stub, ADMIN, renamed.etag)
                if not fresh.not_modified:
                    break
                await asyncio.sleep(0.02)
            assert {lb.meta.name for lb in fresh.loadbalancers} == {"renamed", "elsewhere"}

    asyncio.run(scenario())


def test_no_etag_while_the_listener_is_down(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            await _until_listening(st.running)
            await create_lb(st.stub)
            await st.running.stop_worker()  # cancels the change listener with the other tasks
            listed = await _listed(st.stub, ALICE)
            assert listed.etag == "" and not listed.not_modified
            assert len(listed.loadbalancers) == 1
            assert not (await _listed(st.stub, ALICE, "anything")).not_modified

    asyncio.run(scenario())
