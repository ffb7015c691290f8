"""Octavia's fully populated load balancer create: one call, everything checked first, one job."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ALICE, lb_status, orchestrator, wait_for
from sqlalchemy import create_engine, text

from services.common.errors import from_rpc_error
from services.orchestrator.adapters.network_loopback import SUBNET_ID

PENDING_CREATE = 2


def _graph(address: str) -> g.LoadBalancer:
    meta = g.ResourceMeta(admin_state_up=True)
    return g.LoadBalancer(
        meta=g.ResourceMeta(name="full", admin_state_up=True),
        vip=g.Vip(subnet_id=SUBNET_ID, address=address),
        pools=[
            g.Pool(
                meta=g.ResourceMeta(name="web", admin_state_up=True),
                protocol="HTTP",
                lb_algorithm="ROUND_ROBIN",
                members=[
                    g.Member(meta=meta, address="10.0.0.1", protocol_port=80, weight=1),
                    g.Member(meta=meta, address="10.0.0.2", protocol_port=80, weight=2),
                ],
                healthmonitor=g.HealthMonitor(
                    meta=meta, type="HTTP", delay=5, timeout=3, max_retries=3, max_retries_down=3
                ),
            ),
            g.Pool(
                meta=g.ResourceMeta(name="api", admin_state_up=True),
                protocol="HTTP",
                lb_algorithm="LEAST_CONNECTIONS",
            ),
        ],
        listeners=[
            g.Listener(
                meta=g.ResourceMeta(name="http", admin_state_up=True),
                protocol="HTTP",
                protocol_port=80,
                connection_limit=-1,
                default_pool_id="web",
                l7policies=[
                    g.L7Policy(
                        meta=g.ResourceMeta(name="to-api", admin_state_up=True),
                        action="REDIRECT_TO_POOL",
                        redirect_pool_id="api",
                        rules=[
                            g.L7Rule(
                                meta=meta, type="PATH", compare_type="STARTS_WITH", value="/api"
                            )
                        ],
                    ),
                    g.L7Policy(
                        meta=g.ResourceMeta(name="first", admin_state_up=True),
                        action="REDIRECT_TO_URL",
                        redirect_url="https://example.com/",
                        position=1,
                    ),
                ],
            ),
        ],
    )


def _counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in (
                    "load_balancer",
                    "listener",
                    "pool",
                    "member",
                    "health_monitor",
                    "l7policy",
                    "l7rule",
                    "vip_port",
                    "procrastinate_jobs",
                )
            }
    finally:
        engine.dispose()


def test_fully_populated_create(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            req = pb.CreateLoadBalancerRequest(scope=ALICE, loadbalancer=_graph("127.0.7.1"))
            lb = (await st.stub.CreateLoadBalancer(req)).loadbalancer
            assert lb.desired_version == 1
            pools = {p.meta.name: p for p in lb.pools}
            assert [m.address for m in pools["web"].members] == ["10.0.0.1", "10.0.0.2"]
            assert pools["web"].healthmonitor.type == "HTTP"
            (listener,) = lb.listeners
            assert listener.default_pool_id == pools["web"].meta.id
            assert [(p.meta.name, p.position) for p in listener.l7policies] == [
                ("first", 1),
                ("to-api", 2),
            ]
            assert listener.l7policies[1].redirect_pool_id == pools["api"].meta.id
            assert listener.l7policies[0].redirect_http_code == 302
            assert [r.value for r in listener.l7policies[1].rules] == ["/api"]
            statuses = [
                lb.meta,
                listener.meta,
                *(p.meta for p in lb.pools),
                *(m.meta for m in pools["web"].members),
                pools["web"].healthmonitor.meta,
                *(p.meta for p in listener.l7policies),
                listener.l7policies[1].rules[0].meta,
            ]
            assert {m.provisioning_status for m in statuses} == {PENDING_CREATE}
            assert all(m.project_id == "alice" for m in statuses)
            counts = _counts(database_url)
            assert counts["procrastinate_jobs"] == 1  # one reconcile builds it all
            assert (counts["l7policy"], counts["l7rule"], counts["member"]) == (2, 1, 2)

    asyncio.run(scenario())


def _broken(mutate) -> g.LoadBalancer:
    lb = _graph("127.0.7.2")
    mutate(lb)
    return lb


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda lb: setattr(lb.listeners[0], "protocol_port", 0), "listeners[0].protocol_port"),
        (
            lambda lb: setattr(lb.listeners[0], "default_pool_id", "nope"),
            "listeners[0].default_pool_id",
        ),
        (
            lambda lb: setattr(lb.pools[0].healthmonitor, "type", "UDP-CONNECT"),
            "pools[0].healthmonitor.type",
        ),
        (
            lambda lb: setattr(lb.pools[1], "protocol", "TCP"),
            "listeners[0].l7policies[0].redirect_pool_id",
        ),
        (lambda lb: setattr(lb.pools[0].members[1], "weight", 1000), "pools[0].members[1].weight"),
        (
            lambda lb: setattr(lb.pools[0].members[1], "address", "10.0.0.1"),
            "pools[0].members[1].address",
        ),
        (
            lambda lb: setattr(lb.listeners[0].l7policies[0].rules[0], "compare_type", "LIKE"),
            "listeners[0].l7policies[0].rules[0].compare_type",
        ),
        (
            lambda lb: setattr(lb.listeners[0].l7policies[1], "redirect_url", ""),
            "listeners[0].l7policies[1].redirect_url",
        ),
        (
            lambda lb: setattr(lb.listeners[0], "protocol", "TERMINATED_HTTPS"),
            "listeners[0].default_tls_container_ref",
        ),
        (
            lambda lb: setattr(lb.listeners[0], "protocol", "TCP"),
            "listeners[0].l7policies[0].listener_id",
        ),
        (lambda lb: setattr(lb.pools[1].meta, "name", "web"), "listeners[0].default_pool_id"),
        (
            lambda lb: lb.listeners.append(
                g.Listener(
                    meta=g.ResourceMeta(), protocol="TCP", protocol_port=80, connection_limit=-1
                )
            ),
            "listeners[1].protocol_port",
        ),
        (
            lambda lb: lb.listeners.append(
                g.Listener(
                    meta=g.ResourceMeta(),
                    protocol="PROMETHEUS",
                    protocol_port=9100,
                    connection_limit=-1,
                    default_pool_id="api",
                )
            ),
            "listeners[1].default_pool_id",
        ),
    ],
)
def test_invalid_graph_writes_nothing(database_url, run_dir, mutate, field):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            req = pb.CreateLoadBalancerRequest(scope=ALICE, loadbalancer=_broken(mutate))
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await st.stub.CreateLoadBalancer(req)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert from_rpc_error(info.value).field == field
            assert set(_counts(database_url).values()) == {0}

    asyncio.run(scenario())


def test_fully_populated_lb_reaches_active(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            await _created_active(st, "127.0.7.3")
            rendered = st.renderer.rendered_versions
            assert rendered and rendered[-1] == 1

    asyncio.run(scenario())


async def _active(stub, lb_id: str) -> bool:
    return await lb_status(stub, lb_id) == "PROVISIONING_STATUS_ACTIVE"


async def _created_active(st, address: str) -> g.LoadBalancer:
    """The fully populated load balancer (_graph), created and ACTIVE."""
    req = pb.CreateLoadBalancerRequest(scope=ALICE, loadbalancer=_graph(address))
    lb = (await st.stub.CreateLoadBalancer(req)).loadbalancer
    await wait_for(lambda: _active(st.stub, lb.meta.id), what="ACTIVE")
    return lb


def test_a_pass_reads_the_graph_in_three_queries(database_url, run_dir):
    """The load balancer with its amphorae, its listeners (with policies and rules) and its pools
    (with members and monitors): one query each, whatever their number, and the same graph,
    in the same order, as encoding the rows one relationship at a time. A pass with nothing to
    write reads without a transaction: the driver is in autocommit (no BEGIN, no COMMIT)."""
    from sqlalchemy import event

    from services.orchestrator.adapters.db.models import LoadBalancerRow
    from services.orchestrator.codec import encode
    from services.orchestrator.service_layer.common import alive

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            lb = await _created_active(st, "127.0.7.4")
            orch = st.running.orchestrator
            statements: list[str] = []
            autocommit: list[bool] = []

            def count(conn, cursor, statement, *args):
                statements.append(statement)
                autocommit.append(conn.connection.dbapi_connection.autocommit)

            event.listen(orch.engine, "before_cursor_execute", count)
            try:
                snap = await asyncio.to_thread(orch.reconciler._load, lb.meta.id)
            finally:
                event.remove(orch.engine, "before_cursor_execute", count)
            assert len(statements) == 3, statements
            assert autocommit == [True] * 3
            with orch.engine.connect() as conn:  # the pooled connection is back to transactions
                assert conn.connection.dbapi_connection.autocommit is False
            with orch.uow.transaction() as s:
                lazily = encode.loadbalancer(s.get(LoadBalancerRow, lb.meta.id), include=alive)
            assert snap.graph == lazily
            assert [p.meta.name for p in snap.graph.pools] == ["web", "api"]
            assert [m.address for m in snap.graph.pools[0].members] == ["10.0.0.1", "10.0.0.2"]
            assert [p.meta.name for p in snap.graph.listeners[0].l7policies] == ["first", "to-api"]

    asyncio.run(scenario())
