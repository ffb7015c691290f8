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
            kinds = [kind for kind, _ in st.compute.events]
            assert kinds == ["create", "delete", "create", "delete"], st.compute.events
            assert st.compute.events[1][1] == old["BACKUP"], "the BACKUP goes first"
            assert st.compute.events[3][1] == old["MASTER"]
            first_new = st.compute.events[0][1]
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
                assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
                error = from_rpc_error(err)
                assert error.field == "flavor_id" and "nginx" in error.user_message
            else:
                raise AssertionError("an nginx pair was accepted")

    asyncio.run(scenario())
