"""Plain load balancer creates that arrive together are written in one transaction
(loadbalancers.create_plain_many, through handlers.batching); when that fails, each runs on its
own, so only the requests at fault fail, with their own error, and nothing else is lost."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, BOB, create_lb, orchestrator
from sqlalchemy import text

from services.orchestrator.service_layer import loadbalancers


def _record_batches(monkeypatch) -> list[int]:
    sizes: list[int] = []
    real = loadbalancers.create_plain_many

    def recording(session, deps, requests):
        sizes.append(len(requests))
        return real(session, deps, requests)

    monkeypatch.setattr(loadbalancers, "create_plain_many", recording)
    return sizes


async def _outcomes(calls) -> list[object]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    return [r.code() if isinstance(r, grpc.aio.AioRpcError) else r for r in results]


def _count(database_url_engine, table: str) -> int:
    with database_url_engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_a_taken_address_in_a_batch_fails_only_its_own_create(database_url, run_dir, monkeypatch):
    sizes = _record_batches(monkeypatch)

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            calls = [create_lb(st.stub, name=f"lb{i}") for i in range(14)]
            calls += [create_lb(st.stub, name=f"same{i}", address="127.0.9.9") for i in range(2)]
            outcomes = await _outcomes(calls)
            engine = st.running.orchestrator.engine
            return outcomes, _count(engine, "load_balancer"), _count(engine, "vip_port")

    outcomes, lbs, ports = asyncio.run(scenario())
    created = [o for o in outcomes if not isinstance(o, grpc.StatusCode)]
    assert [o for o in outcomes if isinstance(o, grpc.StatusCode)] == [
        grpc.StatusCode.ALREADY_EXISTS
    ]
    assert len(created) == 15 and lbs == 15 and ports == 15
    assert len({lb.vip.address for lb in created}) == 15
    assert max(sizes) > 1  # the creates were batched, and the failing batch fell back


def test_a_quota_that_admits_part_of_a_batch_is_held_exactly(database_url, run_dir, monkeypatch):
    sizes = _record_batches(monkeypatch)

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            await st.stub.UpdateQuota(
                pb.UpdateQuotaRequest(
                    quota=admin_pb2.Quota(project_id="alice", load_balancer=4),
                    update_mask=FieldMask(paths=["load_balancer"]),
                )
            )
            calls = [create_lb(st.stub, ALICE, name=f"a{i}") for i in range(12)]
            calls += [create_lb(st.stub, BOB, name=f"b{i}") for i in range(4)]
            outcomes = await _outcomes(calls)
            listed = await st.stub.ListLoadBalancers(pb.ListLoadBalancersRequest(scope=ADMIN))
            return outcomes, listed.loadbalancers

    outcomes, listed = asyncio.run(scenario())
    alice, bob = outcomes[:12], outcomes[12:]
    assert sum(not isinstance(o, grpc.StatusCode) for o in alice) == 4
    assert [o for o in alice if isinstance(o, grpc.StatusCode)] == (
        [grpc.StatusCode.RESOURCE_EXHAUSTED] * 8
    )
    assert all(not isinstance(o, grpc.StatusCode) for o in bob)
    owners = sorted(lb.meta.project_id for lb in listed)
    assert owners.count("alice") == 4 and owners.count("bob") == 4
    assert max(sizes) > 1
