"""Quotas end to end: real PostgreSQL and gRPC; enforcement under concurrent creates."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, BOB, create_lb, orchestrator

from services.common.errors import from_rpc_error


async def _error(call):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


def _set_quota(stub, project_id: str, **limits):
    return stub.UpdateQuota(
        pb.UpdateQuotaRequest(
            quota=admin_pb2.Quota(project_id=project_id, **limits),
            update_mask=FieldMask(paths=list(limits)),
        )
    )


async def _listener(stub, lb_id: str, port: int, scope=ALICE):
    return await stub.CreateListener(
        pb.CreateListenerRequest(
            scope=scope,
            listener=graph_pb2.Listener(
                meta=graph_pb2.ResourceMeta(admin_state_up=True),
                loadbalancer_id=lb_id,
                protocol="HTTP",
                protocol_port=port,
            ),
        )
    )


def test_twenty_concurrent_creates_against_a_quota_of_five_make_exactly_five(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            await _set_quota(st.stub, "alice", load_balancer=5)
            results = await asyncio.gather(
                *(create_lb(st.stub, name=f"lb{i}") for i in range(20)), return_exceptions=True
            )
            created = [r for r in results if isinstance(r, graph_pb2.LoadBalancer)]
            refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
            assert len(created) == 5, results
            assert len(refused) == 15
            assert {e.code() for e in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
            assert from_rpc_error(refused[0]).field == "load_balancer"
            listed = await st.stub.ListLoadBalancers(pb.ListLoadBalancersRequest(scope=ALICE))
            assert len(listed.loadbalancers) == 5
            got = await st.stub.GetQuota(pb.GetQuotaRequest(project_id="alice"))
            assert got.usage.load_balancer == 5 and got.quota.load_balancer == 5
            # Another project is not limited by alice's quota.
            await create_lb(st.stub, scope=BOB)

    asyncio.run(scenario())


def test_defaults_update_reset_list_and_usage(database_url, run_dir):
    settings = dataclasses.replace(
        make_settings(database_url, run_dir),
        quota_defaults={"listener": 3, "pool": 10, "member": -1},
    )

    async def scenario():
        async with orchestrator(settings, worker=False) as st:
            defaults = (await st.stub.GetQuotaDefaults(pb.GetQuotaDefaultsRequest())).quota
            assert defaults.listener == 3 and defaults.pool == 10
            assert defaults.load_balancer == -1 and defaults.l7rule == -1

            got = await st.stub.GetQuota(pb.GetQuotaRequest(project_id="alice"))
            assert got.quota.listener == 3 and got.quota.load_balancer == -1
            assert got.usage.load_balancer == 0
            assert not (await st.stub.ListQuotas(pb.ListQuotasRequest())).quotas

            updated = await _set_quota(st.stub, "alice", load_balancer=1, listener=1)
            assert updated.quota.load_balancer == 1 and updated.quota.listener == 1
            assert updated.quota.pool == 10  # untouched: still the default

            lb = await create_lb(st.stub)
            code, err = await _error(create_lb(st.stub, name="second"))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.field == "load_balancer"
            await _listener(st.stub, lb.meta.id, 80)
            code, err = await _error(_listener(st.stub, lb.meta.id, 81))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.field == "listener"

            got = await st.stub.GetQuota(pb.GetQuotaRequest(project_id="alice"))
            assert (got.usage.load_balancer, got.usage.listener, got.usage.pool) == (1, 1, 0)

            listed = (await st.stub.ListQuotas(pb.ListQuotasRequest())).quotas
            assert [q.project_id for q in listed] == ["alice"]
            assert listed[0].HasField("load_balancer") and not listed[0].HasField("pool")

            # A masked field left unset goes back to the default.
            back = await st.stub.UpdateQuota(
                pb.UpdateQuotaRequest(
                    quota=admin_pb2.Quota(project_id="alice"),
                    update_mask=FieldMask(paths=["listener"]),
                )
            )
            assert back.quota.listener == 3
            await _listener(st.stub, lb.meta.id, 81)

            code, err = await _error(_set_quota(st.stub, "alice", pool=-2))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "pool"
            code, err = await _error(
                st.stub.UpdateQuota(
                    pb.UpdateQuotaRequest(
                        quota=admin_pb2.Quota(project_id="alice"),
                        update_mask=FieldMask(paths=["bogus"]),
                    )
                )
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "bogus"
            code, err = await _error(_set_quota(st.stub, "", pool=1))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "project_id"

            await st.stub.ResetQuota(pb.ResetQuotaRequest(project_id="alice"))
            got = await st.stub.GetQuota(pb.GetQuotaRequest(project_id="alice"))
            assert got.quota.load_balancer == -1 and got.quota.listener == 3
            assert not (await st.stub.ListQuotas(pb.ListQuotasRequest())).quotas
            await create_lb(st.stub, name="after-reset")
            code, _ = await _error(st.stub.ResetQuota(pb.ResetQuotaRequest(project_id="nobody")))
            assert code == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())


async def _pool(stub, lb_id: str):
    return (
        await stub.CreatePool(
            pb.CreatePoolRequest(
                scope=ALICE,
                pool=graph_pb2.Pool(
                    meta=graph_pb2.ResourceMeta(admin_state_up=True),
                    loadbalancer_id=lb_id,
                    protocol="HTTP",
                    lb_algorithm="ROUND_ROBIN",
                ),
            )
        )
    ).pool


def test_a_member_create_honours_the_projects_explicit_member_quota(database_url, run_dir):
    """The create reads the explicit limit with its clash check (members.create_member): a limit
    of 1 refuses the second member, -1 (unlimited) takes it. The defaults are unlimited here."""

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            pool = await _pool(st.stub, (await create_lb(st.stub)).meta.id)

            def member(port: int):
                return st.stub.CreateMember(
                    pb.CreateMemberRequest(
                        scope=ALICE,
                        member=graph_pb2.Member(
                            meta=graph_pb2.ResourceMeta(admin_state_up=True),
                            pool_id=pool.meta.id,
                            address="10.0.0.1",
                            protocol_port=port,
                            weight=1,
                        ),
                    )
                )

            await _set_quota(st.stub, "alice", member=1)
            await member(1)
            code, err = await _error(member(2))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.field == "member"
            await _set_quota(st.stub, "alice", member=-1)
            await member(2)

    asyncio.run(scenario())


def test_batch_members_count_the_net_new(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            lb = await create_lb(st.stub)
            pool = await _pool(st.stub, lb.meta.id)
            await _set_quota(st.stub, "alice", member=3)

            def members(*ports):
                return [
                    graph_pb2.Member(
                        meta=graph_pb2.ResourceMeta(admin_state_up=True),
                        address="10.0.0.1",
                        protocol_port=p,
                        weight=1,
                    )
                    for p in ports
                ]

            batch = st.stub.BatchUpdateMembers
            await batch(pb.BatchUpdateMembersRequest(scope=ALICE, pool_id=pool.meta.id,
                                                     members=members(1, 2, 3)))  # fmt: skip
            code, err = await _error(
                batch(
                    pb.BatchUpdateMembersRequest(
                        scope=ALICE, pool_id=pool.meta.id, members=members(4), additive_only=True
                    )
                )  # fmt: skip
            )
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.field == "member"
            # Replacing one member by another adds nothing net.
            await batch(pb.BatchUpdateMembersRequest(scope=ALICE, pool_id=pool.meta.id,
                                                     members=members(1, 2, 4)))  # fmt: skip
            listed = await st.stub.ListMembers(
                pb.ListMembersRequest(scope=ADMIN, pool_id=pool.meta.id)
            )
            assert sorted(m.protocol_port for m in listed.members) == [1, 2, 3, 4]

    asyncio.run(scenario())


def test_pool_with_nested_members_and_monitor_is_one_atomic_create(database_url, run_dir):
    """CreatePool with members and a health monitor (Octavia's PoolPOST): all or nothing, each
    object reserved against its own quota."""

    def pool(lb_id: str, *ports: int, monitor: bool = True) -> graph_pb2.Pool:
        p = graph_pb2.Pool(
            meta=graph_pb2.ResourceMeta(admin_state_up=True),
            loadbalancer_id=lb_id,
            protocol="HTTP",
            lb_algorithm="ROUND_ROBIN",
            members=[
                graph_pb2.Member(
                    meta=graph_pb2.ResourceMeta(admin_state_up=True),
                    address="10.0.0.1",
                    protocol_port=port,
                    weight=1,
                )
                for port in ports
            ],
        )
        if monitor:
            p.healthmonitor.CopyFrom(
                graph_pb2.HealthMonitor(
                    meta=graph_pb2.ResourceMeta(admin_state_up=True),
                    type="TCP",
                    delay=5,
                    timeout=3,
                    max_retries=2,
                    max_retries_down=3,
                )
            )
        return p

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            lb = await create_lb(st.stub)
            made = (
                await st.stub.CreatePool(pb.CreatePoolRequest(scope=ALICE, pool=pool(lb.meta.id, 80, 81)))
            ).pool  # fmt: skip
            assert len(made.members) == 2 and made.healthmonitor.meta.id
            listed = await st.stub.ListMembers(
                pb.ListMembersRequest(scope=ADMIN, pool_id=made.meta.id)
            )
            assert sorted(m.protocol_port for m in listed.members) == [80, 81]

            # Over the member quota: nothing of the request is written (not even the pool).
            await _set_quota(st.stub, "alice", member=3)
            before = await st.stub.ListPools(pb.ListPoolsRequest(scope=ADMIN))
            code, err = await _error(
                st.stub.CreatePool(pb.CreatePoolRequest(scope=ALICE, pool=pool(lb.meta.id, 1, 2)))
            )
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and err.field == "member"
            # A bad nested member names its field; nothing written either.
            bad = pool(lb.meta.id, 0, monitor=False)
            code, err = await _error(
                st.stub.CreatePool(pb.CreatePoolRequest(scope=ALICE, pool=bad))
            )
            assert (
                code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "members[0].protocol_port"
            )
            after = await st.stub.ListPools(pb.ListPoolsRequest(scope=ADMIN))
            assert len(after.pools) == len(before.pools)

    asyncio.run(scenario())
