"""OrchestratorService CRUD over real gRPC and PostgreSQL: scoping, conflicts, cascade, statuses."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2 as g
from lbaas.common.v1 import status_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, BOB, create_lb, lb_status, orchestrator, wait_for

from services.common.errors import from_rpc_error
from services.orchestrator.adapters.network_loopback import NETWORK_ID, SUBNET_ID

PENDING_CREATE, PENDING_UPDATE, PENDING_DELETE = 2, 3, 4


async def _error(call):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


async def _listener(stub, lb_id, port=80, protocol="HTTP", scope=ALICE):
    msg = g.Listener(
        meta=g.ResourceMeta(name=f"l{port}", admin_state_up=True),
        loadbalancer_id=lb_id,
        protocol=protocol,
        protocol_port=port,
        connection_limit=-1,
    )
    return (await stub.CreateListener(pb.CreateListenerRequest(scope=scope, listener=msg))).listener


async def _pool(stub, listener_id="", lb_id="", protocol="HTTP"):
    msg = g.Pool(
        meta=g.ResourceMeta(admin_state_up=True),
        loadbalancer_id=lb_id,
        protocol=protocol,
        lb_algorithm="ROUND_ROBIN",
    )
    req = pb.CreatePoolRequest(scope=ALICE, pool=msg, listener_id=listener_id)
    return (await stub.CreatePool(req)).pool


async def _member(stub, pool_id, address="10.0.0.1", port=8080):
    msg = g.Member(
        meta=g.ResourceMeta(admin_state_up=True),
        pool_id=pool_id,
        address=address,
        protocol_port=port,
        weight=1,
    )
    return (await stub.CreateMember(pb.CreateMemberRequest(scope=ALICE, member=msg))).member


async def _monitor(stub, pool_id):
    msg = g.HealthMonitor(
        meta=g.ResourceMeta(admin_state_up=True),
        pool_id=pool_id,
        type="HTTP",
        delay=5,
        timeout=3,
        max_retries=3,
        max_retries_down=3,
    )
    req = pb.CreateHealthMonitorRequest(scope=ALICE, healthmonitor=msg)
    return (await stub.CreateHealthMonitor(req)).healthmonitor


def test_crud_scoping_and_conflicts(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            stub = st.stub
            lb = await create_lb(stub, address="127.0.5.5")
            assert lb.vip.address == "127.0.5.5" and lb.vip.network_id == NETWORK_ID
            assert lb.meta.project_id == "alice" and lb.desired_version == 1
            # Another project does not see it (Octavia's 403, no data); an administrator does.
            code, err = await _error(
                stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=BOB, id=lb.meta.id))
            )
            assert code == grpc.StatusCode.PERMISSION_DENIED
            assert err.user_message == "Policy does not allow this request to be performed."
            code, err = await _error(
                stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=BOB, id=str(uuid.uuid4())))
            )
            assert code == grpc.StatusCode.NOT_FOUND
            assert (
                await stub.ListLoadBalancers(pb.ListLoadBalancersRequest(scope=BOB))
            ).loadbalancers == []
            got = await stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ADMIN, id=lb.meta.id))
            assert got.loadbalancer.meta.id == lb.meta.id

            listener = await _listener(stub, lb.meta.id)
            assert listener.meta.provisioning_status == PENDING_CREATE
            code, err = await _error(_listener(stub, lb.meta.id))
            assert code == grpc.StatusCode.ALREADY_EXISTS and err.field == "protocol_port"
            await _listener(stub, lb.meta.id, port=80, protocol="UDP")  # other transport: fine
            code, err = await _error(_listener(stub, lb.meta.id, port=81, scope=BOB))
            assert code == grpc.StatusCode.PERMISSION_DENIED

            code, err = await _error(_pool(stub, listener_id=listener.meta.id, protocol="TCP"))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "protocol"
            pool = await _pool(stub, listener_id=listener.meta.id)
            assert list(pool.listener_ids) == [listener.meta.id]
            code, err = await _error(_pool(stub, listener_id=listener.meta.id))
            assert code == grpc.StatusCode.ALREADY_EXISTS

            member = await _member(stub, pool.meta.id)
            code, err = await _error(_member(stub, pool.meta.id))
            assert code == grpc.StatusCode.ALREADY_EXISTS
            await _member(stub, pool.meta.id, port=8081)
            await _monitor(stub, pool.meta.id)
            code, err = await _error(_monitor(stub, pool.meta.id))
            assert code == grpc.StatusCode.ALREADY_EXISTS and err.field == "pool_id"

            updated = await stub.UpdateMember(
                pb.UpdateMemberRequest(
                    scope=ALICE,
                    member=g.Member(
                        meta=g.ResourceMeta(id=member.meta.id), pool_id=pool.meta.id, weight=7
                    ),
                    update_mask=FieldMask(paths=["weight"]),
                )
            )
            assert updated.member.weight == 7
            assert updated.member.meta.provisioning_status == PENDING_CREATE  # folded into create
            code, err = await _error(
                stub.UpdateMember(
                    pb.UpdateMemberRequest(
                        scope=ALICE,
                        member=g.Member(
                            meta=g.ResourceMeta(id=member.meta.id), pool_id=pool.meta.id
                        ),
                        update_mask=FieldMask(paths=["address"]),
                    )
                )
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "address"

            full = (
                await stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ALICE, id=lb.meta.id))
            ).loadbalancer
            assert len(full.listeners) == 2 and len(full.pools) == 1
            assert len(full.pools[0].members) == 2 and full.pools[0].healthmonitor.type == "HTTP"
            assert full.meta.provisioning_status == PENDING_CREATE
            assert full.desired_version == 8

            tree = (
                await stub.GetLoadBalancerStatusTree(
                    pb.GetLoadBalancerStatusTreeRequest(scope=ALICE, id=lb.meta.id)
                )
            ).tree
            assert tree.listeners[0].pools[0].healthmonitor.attributes["type"] == "HTTP"
            assert {m.attributes["protocol_port"] for m in tree.listeners[0].pools[0].members} == {
                "8080",
                "8081",
            }

            code, err = await _error(
                stub.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(scope=ALICE, id=lb.meta.id))
            )
            # Children and no cascade: Octavia's ValidationException, a 400.
            assert code == grpc.StatusCode.INVALID_ARGUMENT
            assert err.user_message == (
                f"Validation failure: Cannot delete Load Balancer {lb.meta.id} - it has children"
            )

            ports = await stub.ListPorts(pb.ListPortsRequest(scope=ALICE, network_id=NETWORK_ID))
            assert [p.device_id for p in ports.ports] == [lb.meta.id]
            assert ports.ports[0].fixed_ips[0].ip_address == "127.0.5.5"
            assert (await stub.ListPorts(pb.ListPortsRequest(scope=BOB))).ports == []
            subnets = await stub.ListSubnets(pb.ListSubnetsRequest(scope=ALICE, id=SUBNET_ID))
            assert subnets.subnets[0].cidr == "127.0.0.0/8"

            await stub.DeleteLoadBalancer(
                pb.DeleteLoadBalancerRequest(scope=ALICE, id=lb.meta.id, cascade=True)
            )
            full = (
                await stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ALICE, id=lb.meta.id))
            ).loadbalancer
            assert full.meta.provisioning_status == PENDING_DELETE
            assert {li.meta.provisioning_status for li in full.listeners} == {PENDING_DELETE}
            assert {m.meta.provisioning_status for m in full.pools[0].members} == {PENDING_DELETE}
            code, _ = await _error(_listener(stub, lb.meta.id, port=81))
            assert code == grpc.StatusCode.FAILED_PRECONDITION

    asyncio.run(scenario())


def test_a_new_members_first_operating_status_and_address_clash(database_url, run_dir):
    """NO_MONITOR, OFFLINE once the pool has a live monitor (Octavia's); the address and port
    of a member being deleted are free again."""

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            stub = st.stub
            lb = await create_lb(stub)
            pool = await _pool(stub, lb_id=lb.meta.id)
            first = await _member(stub, pool.meta.id, port=8081)
            assert first.meta.operating_status == status_pb2.OPERATING_STATUS_NO_MONITOR
            await _monitor(stub, pool.meta.id)
            second = await _member(stub, pool.meta.id, port=8082)
            assert second.meta.operating_status == status_pb2.OPERATING_STATUS_OFFLINE
            code, _ = await _error(_member(stub, pool.meta.id, port=8082))
            assert code == grpc.StatusCode.ALREADY_EXISTS
            await stub.DeleteMember(
                pb.DeleteMemberRequest(scope=ALICE, pool_id=pool.meta.id, id=second.meta.id)
            )
            again = await _member(stub, pool.meta.id, port=8082)
            assert again.meta.id != second.meta.id

    asyncio.run(scenario())


def test_a_member_create_is_five_statements_whatever_the_pool(database_url, run_dir):
    """The pool with its load balancer locked, the address clash with the monitor and the
    quota, the load balancer's version, the member, the job: one statement each, with 1 or 30
    members in the pool (none loaded one by one)."""
    from sqlalchemy import event, text

    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            lb = await create_lb(st.stub)
            pool = await _pool(st.stub, lb_id=lb.meta.id)
            engine = st.running.orchestrator.engine
            members = 0
            for size in (1, 30):
                while members < size:
                    await _member(st.stub, pool.meta.id, port=9000 + members)
                    members += 1
                with st.running.orchestrator.uow.transaction() as s:  # no job waits (no worker)
                    s.execute(text("DELETE FROM procrastinate_jobs"))
                statements: list[str] = []

                def count(conn, cursor, statement, *args, statements=statements):
                    statements.append(statement)

                event.listen(engine, "before_cursor_execute", count)
                try:
                    await _member(st.stub, pool.meta.id, port=8000 + size)
                finally:
                    event.remove(engine, "before_cursor_execute", count)
                members += 1
                assert len(statements) == 5, "\n".join(" ".join(x.split())[:70] for x in statements)

    asyncio.run(scenario())


def test_invalid_input_writes_nothing(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            stub = st.stub
            for vip, field in (
                ({"subnet_id": "no-such-subnet"}, "vip_subnet_id"),
                ({"address": "127.0.0.1"}, "vip_address"),
            ):
                code, err = await _error(create_lb(stub, **vip))
                assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == field
            lb = g.LoadBalancer(meta=g.ResourceMeta(name="x"), vip=g.Vip(network_id="nope"))
            code, err = await _error(
                stub.CreateLoadBalancer(pb.CreateLoadBalancerRequest(scope=ALICE, loadbalancer=lb))
            )
            assert err.field == "vip_network_id"
            assert (
                await stub.ListLoadBalancers(pb.ListLoadBalancersRequest(scope=ADMIN))
            ).loadbalancers == []
            assert (await stub.ListPorts(pb.ListPortsRequest(scope=ADMIN))).ports == []

            real = await create_lb(stub)
            code, err = await _error(_listener(stub, real.meta.id, protocol="GOPHER"))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "protocol"
            code, err = await _error(_listener(stub, real.meta.id, port=70000))
            assert err.field == "protocol_port"
            after = (
                await stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ALICE, id=real.meta.id))
            ).loadbalancer
            assert after.desired_version == 1 and not after.listeners

    asyncio.run(scenario())


def test_cascade_delete_removes_everything_after_reconcile(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            stub = st.stub
            lb = await create_lb(stub)
            listener = await _listener(stub, lb.meta.id)
            pool = await _pool(stub, listener_id=listener.meta.id)
            await _member(stub, pool.meta.id)
            await wait_for(lambda: _status_is(stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"))
            got = (await stub.GetPool(pb.GetPoolRequest(scope=ALICE, id=pool.meta.id))).pool
            assert (
                got.meta.provisioning_status == 1 and got.members[0].meta.provisioning_status == 1
            )

            # Delete one member: PENDING_DELETE at once, gone after the reconcile.
            member_id = got.members[0].meta.id
            await stub.DeleteMember(
                pb.DeleteMemberRequest(scope=ALICE, pool_id=pool.meta.id, id=member_id)
            )
            m = await stub.GetMember(
                pb.GetMemberRequest(scope=ALICE, pool_id=pool.meta.id, id=member_id)
            )
            assert m.member.meta.provisioning_status == PENDING_DELETE
            await wait_for(
                lambda: _gone(
                    stub.GetMember(
                        pb.GetMemberRequest(scope=ALICE, pool_id=pool.meta.id, id=member_id)
                    )
                )
            )

            await stub.DeleteLoadBalancer(
                pb.DeleteLoadBalancerRequest(scope=ALICE, id=lb.meta.id, cascade=True)
            )
            await wait_for(
                lambda: _gone(
                    stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ALICE, id=lb.meta.id))
                )
            )
            assert await _gone(stub.GetPool(pb.GetPoolRequest(scope=ALICE, id=pool.meta.id)))
            assert (await stub.ListPorts(pb.ListPortsRequest(scope=ADMIN))).ports == []
            assert (await stub.ListAmphorae(pb.ListAmphoraeRequest())).amphorae == []
            assert not st.compute.alive and st.compute.deleted

    asyncio.run(scenario())


async def _status_is(stub, lb_id, name):
    return await lb_status(stub, lb_id) == name


async def _gone(call) -> bool:
    try:
        await call
    except grpc.aio.AioRpcError as err:
        return err.code() == grpc.StatusCode.NOT_FOUND
    return False


def test_set_operating_statuses_and_restart_recreates_dead_amphorae(database_url, run_dir):
    async def scenario():
        settings = make_settings(database_url, run_dir)
        async with orchestrator(settings) as st:
            lb = await create_lb(st.stub)
            listener = await _listener(st.stub, lb.meta.id)
            await wait_for(lambda: _status_is(st.stub, lb.meta.id, "PROVISIONING_STATUS_ACTIVE"))
            amp = (
                await st.stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb.meta.id))
            ).amphorae[0]
            req = pb.SetOperatingStatusesRequest(
                loadbalancer_id=lb.meta.id,
                amphora_id=amp.id,
                statuses=[
                    pb.ObjectStatus(id=listener.meta.id, operating_status=3),  # DEGRADED
                    pb.ObjectStatus(id=lb.meta.id, operating_status=1),  # ONLINE (unchanged)
                    pb.ObjectStatus(id="gone-object", operating_status=2),
                ],
            )
            assert (await st.stub.SetOperatingStatuses(req)).changed == 1
            assert (await st.stub.SetOperatingStatuses(req)).changed == 0
            got = await st.stub.GetListener(pb.GetListenerRequest(scope=ALICE, id=listener.meta.id))
            assert got.listener.meta.operating_status == 3
            compute = st.compute
            compute.kill_all()  # the host rebooted: every amphora process is gone
        async with orchestrator(settings, compute=compute) as st2:
            await wait_for(lambda: len(compute.alive) == 1, what="amphora recreated")
            again = (
                await st2.stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb.meta.id))
            ).amphorae
            assert [a.id for a in again] == [amp.id]  # same amphora id and port
            assert (
                compute.created[-1].agent_port == compute.created[0].agent_port
                or compute.created[0].agent_port is None
            )
            # A fresh certificate for the same amphora id: no private key is kept in the database.
            recreated = compute.created[-1].certificate
            assert recreated.cert_pem != compute.created[0].certificate.cert_pem
            cert = x509.load_pem_x509_certificate(recreated.cert_pem)
            assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == amp.id

    asyncio.run(scenario())
