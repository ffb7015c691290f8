"""ACTIVE_STANDBY in the orchestrator (real PostgreSQL and gRPC, fake drivers): a pair is built
as a MASTER and a BACKUP, each rendered with the other as its VRRP peer; failover of the MASTER
makes the survivor MASTER and builds a new BACKUP; a topology the backend cannot run is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import grpc
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import FakeRenderer, make_settings
from orch_harness import ADMIN, ALICE, lb_status, orchestrator, wait_for

from services.common.errors import from_rpc_error
from services.orchestrator.adapters.network_loopback import SUBNET_ID

STALE = pb.FAILOVER_TRIGGER_HEARTBEAT_STALE


def _settings(database_url, run_dir):
    # A driver that can build pairs (the fakes stand in for it).
    return dataclasses.replace(
        make_settings(database_url, run_dir), compute_driver="noop", spare_pool={}
    )


async def _flavor(stub, name: str, **data: str) -> str:
    fp = await stub.CreateFlavorProfile(
        pb.CreateFlavorProfileRequest(
            flavorprofile=admin_pb2.FlavorProfile(
                name=name, provider_name="amphora", flavor_data=json.dumps(data)
            )
        )
    )
    flavor = await stub.CreateFlavor(
        pb.CreateFlavorRequest(
            flavor=admin_pb2.Flavor(name=name, enabled=True, flavor_profile_id=fp.flavorprofile.id)
        )
    )
    return flavor.flavor.id


def _request(flavor_id: str) -> pb.CreateLoadBalancerRequest:
    return pb.CreateLoadBalancerRequest(
        scope=ALICE,
        loadbalancer=graph_pb2.LoadBalancer(
            meta=graph_pb2.ResourceMeta(name="pair", admin_state_up=True),
            vip=graph_pb2.Vip(subnet_id=SUBNET_ID),
            flavor_id=flavor_id,
        ),
    )


async def _amphorae(stub, lb_id: str):
    return list((await stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))).amphorae)


def _check_peers(renderer: FakeRenderer, amphorae) -> None:
    by_id = {a.id: a for a in amphorae}
    for amp in amphorae:
        vrrp = renderer.vrrps[amp.id]
        assert vrrp is not None and vrrp.role == amp.role
        (peer,) = [a for a in amphorae if a.id != amp.id]
        assert vrrp.peer_amphora_id == peer.id
        assert vrrp.peer_address == by_id[peer.id].lb_network_ip
        assert vrrp.own_address == amp.lb_network_ip


def test_a_pair_is_built_and_its_master_failed_over(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            s = st.stub
            flavor = await _flavor(
                s, "pair", backend="haproxy", loadbalancer_topology="ACTIVE_STANDBY"
            )
            lb = (await s.CreateLoadBalancer(_request(flavor))).loadbalancer
            assert lb.topology == "ACTIVE_STANDBY"

            async def active():
                return await lb_status(s, lb.meta.id) == "PROVISIONING_STATUS_ACTIVE"

            await wait_for(active, what="pair ACTIVE")
            amps = await _amphorae(s, lb.meta.id)
            assert sorted(a.role for a in amps) == ["BACKUP", "MASTER"]
            assert all(a.status == "ALLOCATED" for a in amps)
            _check_peers(st.renderer, amps)
            master = next(a for a in amps if a.role == "MASTER")
            backup = next(a for a in amps if a.role == "BACKUP")
            assert st.renderer.vrrps[master.id].priority > st.renderer.vrrps[backup.id].priority

            claimed = await s.FailoverAmphora(
                pb.FailoverAmphoraRequest(id=master.id, trigger=STALE)
            )
            assert claimed.claimed

            async def replaced():
                now = await _amphorae(s, lb.meta.id)
                return (
                    len(now) == 2
                    and master.id not in {a.id for a in now}
                    and all(a.status == "ALLOCATED" for a in now)
                    and await active()
                )

            await wait_for(replaced, what="the MASTER replaced")
            amps = await _amphorae(s, lb.meta.id)
            roles = {a.id: a.role for a in amps}
            assert roles[backup.id] == "MASTER", "the survivor holds the VIP: it is MASTER now"
            (new,) = [a for a in amps if a.id != backup.id]
            assert new.role == "BACKUP"
            assert master.id in st.compute.deleted
            _check_peers(st.renderer, amps)

    asyncio.run(scenario())


def test_a_failover_of_the_pair_replaces_one_half_at_a_time(database_url, run_dir):
    """Both halves are to be replaced: the MASTER keeps the VIP while the BACKUP is rebuilt, then
    the first replacement serves while the old MASTER is; never are both old halves gone before
    a new one is built."""

    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            s = st.stub
            flavor = await _flavor(
                s, "pair", backend="haproxy", loadbalancer_topology="ACTIVE_STANDBY"
            )
            lb = (await s.CreateLoadBalancer(_request(flavor))).loadbalancer

            async def active():
                return await lb_status(s, lb.meta.id) == "PROVISIONING_STATUS_ACTIVE"

            await wait_for(active, what="pair ACTIVE")
            old = {a.role: a.id for a in await _amphorae(s, lb.meta.id)}
            st.compute.events.clear()
            await s.FailoverLoadBalancer(pb.FailoverLoadBalancerRequest(scope=ADMIN, id=lb.meta.id))

            async def replaced():
                now = await _amphorae(s, lb.meta.id)
                return (
                    len(now) == 2
                    and not {a.id for a in now} & set(old.values())
                    and all(a.status == "ALLOCATED" for a in now)
                    and await active()
                )

            await wait_for(replaced, what="both halves replaced")
            # An operator's failover is planned: each old half is drained before it goes.
            events = st.compute.events
            kinds = [kind for kind, _ in events]
            assert kinds == ["create", "drain", "delete", "create", "drain", "delete"], events
            assert events[1][1] == events[2][1] == old["BACKUP"], "the BACKUP goes first"
            assert events[4][1] == events[5][1] == old["MASTER"]
            first_new = events[0][1]
            roles = {a.id: a.role for a in await _amphorae(s, lb.meta.id)}
            assert roles[first_new] == "MASTER", "the first replacement serves, then is MASTER"
            _check_peers(st.renderer, await _amphorae(s, lb.meta.id))

    asyncio.run(scenario())


def test_active_standby_needs_a_backend_that_renders_keepalived(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir), worker=False) as st:
            flavor = await _flavor(
                st.stub, "nginx-pair", backend="nginx", loadbalancer_topology="ACTIVE_STANDBY"
            )
            try:
                await st.stub.CreateLoadBalancer(_request(flavor))
            except grpc.aio.AioRpcError as err:
                # An option the provider cannot do: Octavia's 501.
                assert err.code() == grpc.StatusCode.UNIMPLEMENTED
                error = from_rpc_error(err)
                assert error.field == "flavor_id" and "nginx" in error.user_message
            else:
                raise AssertionError("an nginx pair was accepted")

    asyncio.run(scenario())


async def _resize(stub, lb_id: str, flavor_id: str):
    return await stub.ResizeLoadBalancer(
        pb.ResizeLoadBalancerRequest(scope=ADMIN, id=lb_id, flavor_id=flavor_id)
    )


def test_a_pair_is_resized_backup_first_each_old_half_drained(database_url, run_dir):
    """Resize replaces the BACKUP with one of the new size, then the MASTER, whose resized
    BACKUP becomes MASTER; each old half is drained (on the VIP) before it is deleted, and each
    new one rendered with the new size."""

    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            s = st.stub
            small = await _flavor(
                s, "small", loadbalancer_topology="ACTIVE_STANDBY", compute_flavor="small"
            )
            large = await _flavor(
                s, "large", loadbalancer_topology="ACTIVE_STANDBY", compute_flavor="large"
            )
            lb = (await s.CreateLoadBalancer(_request(small))).loadbalancer

            async def active():
                return await lb_status(s, lb.meta.id) == "PROVISIONING_STATUS_ACTIVE"

            await wait_for(active, what="pair ACTIVE")
            amps = await _amphorae(s, lb.meta.id)
            assert {a.compute_flavor for a in amps} == {"small"}
            assert all(st.renderer.sizes[a.id].threads == 1 for a in amps)
            old = {a.role: a.id for a in amps}
            st.compute.events.clear()
            await _resize(s, lb.meta.id, large)
            assert (await s.GetLoadBalancer(
                pb.GetLoadBalancerRequest(scope=ADMIN, id=lb.meta.id)
            )).loadbalancer.flavor_id == large  # fmt: skip

            async def resized():
                now = await _amphorae(s, lb.meta.id)
                return (
                    len(now) == 2
                    and not {a.id for a in now} & set(old.values())
                    and all(a.status == "ALLOCATED" for a in now)
                    and await active()
                )

            await wait_for(resized, what="both halves resized")
            events = st.compute.events
            assert [k for k, _ in events] == [
                "create", "drain", "delete", "create", "drain", "delete"
            ], events  # fmt: skip
            assert events[1][1] == events[2][1] == old["BACKUP"], "the BACKUP goes first"
            assert events[4][1] == events[5][1] == old["MASTER"]
            vip = (await s.GetLoadBalancer(
                pb.GetLoadBalancerRequest(scope=ADMIN, id=lb.meta.id)
            )).loadbalancer.vip.address  # fmt: skip
            assert all(addresses == (vip,) for _, addresses in st.agent.drains)
            amps = await _amphorae(s, lb.meta.id)
            assert {a.compute_flavor for a in amps} == {"large"}
            assert sorted(a.role for a in amps) == ["BACKUP", "MASTER"]
            assert next(a for a in amps if a.role == "MASTER").id == events[0][1]
            for a in amps:
                size = st.renderer.sizes[a.id]
                assert (size.threads, size.max_connections) == (4, 8_000)
            _check_peers(st.renderer, amps)

    asyncio.run(scenario())


def test_a_single_load_balancer_is_resized_beside_its_replacement(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            s = st.stub
            medium = await _flavor(s, "medium", compute_flavor="medium")
            lb = (await s.CreateLoadBalancer(_request(""))).loadbalancer

            async def active():
                return await lb_status(s, lb.meta.id) == "PROVISIONING_STATUS_ACTIVE"

            await wait_for(active, what="ACTIVE")
            (old,) = await _amphorae(s, lb.meta.id)
            assert old.compute_flavor == "" and st.renderer.sizes[old.id] is None
            st.compute.events.clear()
            await _resize(s, lb.meta.id, medium)

            async def resized():
                now = await _amphorae(s, lb.meta.id)
                return [a.compute_flavor for a in now] == ["medium"] and await active()

            await wait_for(resized, what="resized")
            (new,) = await _amphorae(s, lb.meta.id)
            assert [k for k, _ in st.compute.events] == ["create", "drain", "delete"]
            assert st.compute.events[1][1] == old.id
            assert st.renderer.sizes[new.id].threads == 2

    asyncio.run(scenario())


def test_a_resize_the_load_balancer_cannot_take_is_refused(database_url, run_dir):
    """Another topology or backend, an unknown or disabled flavor: 400 naming flavor_id; a
    load balancer with a change in flight: 409 (FAILED_PRECONDITION), as a failover."""

    async def scenario():
        async with orchestrator(_settings(database_url, run_dir), worker=False) as st:
            s = st.stub
            pair = await _flavor(s, "pair", loadbalancer_topology="ACTIVE_STANDBY")
            nginx = await _flavor(s, "nginx", backend="nginx")
            medium = await _flavor(s, "medium", compute_flavor="medium")
            lb = (await s.CreateLoadBalancer(_request(""))).loadbalancer
            for flavor, words in (
                (pair, "topology"),
                (nginx, "backend"),
                ("0b0e0e0e-0000-4000-8000-000000000000", "not found"),
                ("", "required"),
            ):
                try:
                    await _resize(s, lb.meta.id, flavor)
                except grpc.aio.AioRpcError as err:
                    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, flavor
                    detail = from_rpc_error(err)
                    assert detail.field == "flavor_id" and words in detail.user_message
                else:
                    raise AssertionError(f"resize to {flavor!r} accepted")
            # No worker: the create is still PENDING_CREATE.
            try:
                await _resize(s, lb.meta.id, medium)
            except grpc.aio.AioRpcError as err:
                assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
            else:
                raise AssertionError("resize of a busy load balancer accepted")
            got = await s.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=ADMIN, id=lb.meta.id))
            assert got.loadbalancer.flavor_id == ""

    asyncio.run(scenario())
