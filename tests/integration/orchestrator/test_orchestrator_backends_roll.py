"""Flavors choose the backend, the feature gate asks that backend's renderer, and minor updates
roll only changed configs: real PostgreSQL, real gRPC, real procrastinate, fake drivers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import FakeRenderer, make_settings
from orch_harness import ADMIN, ALICE, BOB, lb_status, orchestrator, wait_for
from sqlalchemy import event

from services.common.errors import Precondition, from_rpc_error
from services.common.log_offload import LogOffload, SyslogTarget
from services.orchestrator.adapters.db.admin_models import FlavorProfileRow
from services.orchestrator.adapters.db.models import AmphoraRow, LoadBalancerRow, MemberRow
from services.orchestrator.adapters.network_loopback import SUBNET_ID
from services.orchestrator.service_layer import loadbalancers

# The nginx fake cannot do TCP listeners (something only haproxy can here).
NGINX_FEATURES = ["loadbalancer", "listener.protocol.HTTP", "pool", "member", "healthmonitor"]


def _settings(database_url, run_dir, **changes):
    # No automatic roll unless a test asks for one: the RPC's counts are then exact.
    changes.setdefault("renderer_check_interval", 3600.0)
    return dataclasses.replace(make_settings(database_url, run_dir), **changes)


def _renderers():
    return {"haproxy": FakeRenderer(), "nginx": FakeRenderer("nginx", NGINX_FEATURES)}


async def _flavor(stub, backend: str, **extra: str) -> str:
    fp = await stub.CreateFlavorProfile(
        pb.CreateFlavorProfileRequest(
            flavorprofile=admin_pb2.FlavorProfile(
                name=f"fp-{backend}-{'-'.join(extra.values())}",
                provider_name="amphora",
                flavor_data=json.dumps({"backend": backend, **extra}),
            )
        )
    )
    flavor = await stub.CreateFlavor(
        pb.CreateFlavorRequest(
            flavor=admin_pb2.Flavor(
                name=f"f-{backend}-{'-'.join(extra.values())}",
                enabled=True,
                flavor_profile_id=fp.flavorprofile.id,
            )
        )
    )
    return flavor.flavor.id


async def _lb(stub, name="lb", flavor_id="", listeners=()) -> str:
    lb = graph_pb2.LoadBalancer(
        meta=graph_pb2.ResourceMeta(name=name, admin_state_up=True),
        vip=graph_pb2.Vip(subnet_id=SUBNET_ID),
        flavor_id=flavor_id,
        listeners=list(listeners),
    )
    resp = await stub.CreateLoadBalancer(pb.CreateLoadBalancerRequest(scope=ALICE, loadbalancer=lb))
    return resp.loadbalancer.meta.id


async def _active(stub, *ids):
    for lb_id in ids:
        await wait_for(lambda i=lb_id: _is_active(stub, i), what=f"load balancer {lb_id} ACTIVE")


async def _is_active(stub, lb_id):
    return await lb_status(stub, lb_id) == "PROVISIONING_STATUS_ACTIVE"


async def _amphora(stub, lb_id) -> pb.Amphora:
    resp = await stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))
    (amp,) = resp.amphorae
    return amp


def _db(st, fn):
    with st.running.orchestrator.uow.transaction() as s:
        return fn(s)


async def _error(call):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


def test_flavor_backend_is_decided_at_create_and_serves_both_backends(database_url, run_dir):
    async def scenario():
        renderers = _renderers()
        async with orchestrator(_settings(database_url, run_dir), renderers=renderers) as st:
            nginx_flavor = await _flavor(st.stub, "nginx")
            plain = await _lb(st.stub, "plain")
            nginx = await _lb(st.stub, "web", nginx_flavor)
            await _active(st.stub, plain, nginx)
            by_lb = {spec.loadbalancer_id: spec.backend_type for spec in st.compute.created}
            assert by_lb == {plain: "haproxy", nginx: "nginx"}
            assert renderers["nginx"].rendered_ids == [nginx]
            assert plain in renderers["haproxy"].rendered_ids
            assert nginx not in renderers["haproxy"].rendered_ids
            assert (await _amphora(st.stub, nginx)).backend_type == "nginx"
            # The renderer got the versions the agent reported.
            target = renderers["nginx"].targets[-1]
            assert (target.api_version, target.haproxy_version, target.openssl_version) == (
                "1.0",
                "2.8.5",
                "3.0.13",
            )

            # Editing the flavor later does not move the running load balancer (the API refuses
            # to edit a profile in use; the database is edited as an operator's script might).
            flavor = await st.stub.GetFlavor(pb.GetFlavorRequest(id=nginx_flavor))
            profile_id = flavor.flavor.flavor_profile_id
            _db(
                st,
                lambda s: setattr(
                    s.get(FlavorProfileRow, profile_id), "flavor_data", '{"backend": "haproxy"}'
                ),
            )
            await st.stub.UpdateLoadBalancer(
                pb.UpdateLoadBalancerRequest(
                    scope=ALICE,
                    loadbalancer=graph_pb2.LoadBalancer(
                        meta=graph_pb2.ResourceMeta(id=nginx, name="web2")
                    ),
                    update_mask=FieldMask(paths=["meta.name"]),
                )
            )
            await _active(st.stub, nginx)
            assert renderers["nginx"].rendered_ids == [nginx, nginx]
            assert _db(st, lambda s: s.get(LoadBalancerRow, nginx).backend) == "nginx"

    asyncio.run(scenario())


def test_feature_gate_asks_the_load_balancers_backend(database_url, run_dir):
    async def scenario():
        async with orchestrator(
            _settings(database_url, run_dir), renderers=_renderers(), worker=False
        ) as st:
            nginx_flavor = await _flavor(st.stub, "nginx")
            tcp = graph_pb2.Listener(protocol="TCP", protocol_port=80)
            # A fully populated create is checked against the flavor's backend.
            code, err = await _error(_lb(st.stub, "bad", nginx_flavor, [tcp]))
            assert code == grpc.StatusCode.UNIMPLEMENTED
            assert str(err) == (
                "Provider 'amphora' does not support a requested option: "
                "feature listener.protocol.TCP is not supported by the nginx backend"
            )
            nginx = await _lb(st.stub, "web", nginx_flavor)
            haproxy = await _lb(st.stub, "plain")
            listener = graph_pb2.Listener(protocol="TCP", protocol_port=80)
            listener.loadbalancer_id = nginx
            code, err = await _error(
                st.stub.CreateListener(pb.CreateListenerRequest(scope=ALICE, listener=listener))
            )
            assert code == grpc.StatusCode.UNIMPLEMENTED and "nginx backend" in str(err)
            assert err.field == "protocol"
            listener.loadbalancer_id = haproxy
            await st.stub.CreateListener(pb.CreateListenerRequest(scope=ALICE, listener=listener))
            # A child of the nginx load balancer is checked through its parent.
            http = graph_pb2.Listener(protocol="HTTP", protocol_port=81, loadbalancer_id=nginx)
            made = await st.stub.CreateListener(
                pb.CreateListenerRequest(scope=ALICE, listener=http)
            )
            code, err = await _error(
                st.stub.UpdateListener(
                    pb.UpdateListenerRequest(
                        scope=ALICE,
                        listener=graph_pb2.Listener(
                            meta=graph_pb2.ResourceMeta(id=made.listener.meta.id),
                            protocol="TCP",
                        ),
                        update_mask=FieldMask(paths=["protocol"]),
                    )
                )
            )
            assert code == grpc.StatusCode.UNIMPLEMENTED and "nginx backend" in str(err)

    asyncio.run(scenario())


# An nginx fake without backup members (haproxy's fake has everything).
NGINX_NO_BACKUP = ["loadbalancer", "listener", "pool", "member.monitor_address", "healthmonitor"]
_LB_READ = re.compile(r"^\s*SELECT\b.*\bFROM load_balancer\b", re.DOTALL | re.IGNORECASE)


class _Counts:
    """The transactions the orchestrator opens (UnitOfWork.transaction: each run opens one) and
    the statements that read a load balancer row, from the moment it is made."""

    def __init__(self, st) -> None:
        self.transactions = 0
        self.lb_reads: list[str] = []
        uow = st.running.orchestrator.uow
        real = uow.transaction

        def counting():
            self.transactions += 1
            return real()

        uow.transaction = counting

        @event.listens_for(st.running.orchestrator.engine, "before_cursor_execute")
        def _statement(_conn, _cursor, statement, _params, _context, _many):
            if _LB_READ.search(statement):
                self.lb_reads.append(statement)

    def reset(self) -> None:
        self.transactions, self.lb_reads = 0, []


async def _member(stub, pool_id, address, **extra):
    member = graph_pb2.Member(pool_id=pool_id, address=address, protocol_port=80, **extra)
    resp = await stub.CreateMember(pb.CreateMemberRequest(scope=ALICE, member=member))
    return resp.member.meta.id


def _update_member(pool_id, member_id, paths, scope=ALICE, **values):
    return pb.UpdateMemberRequest(
        scope=scope,
        member=graph_pb2.Member(
            meta=graph_pb2.ResourceMeta(id=member_id), pool_id=pool_id, **values
        ),
        update_mask=FieldMask(paths=paths),
    )


def test_a_write_is_one_transaction_that_finds_the_backend_once(database_url, run_dir):
    """With a renderer per backend, a change is checked in its own transaction where it locks
    the load balancer: one transaction, one read of the load balancer row. A refused change
    (501) wrote nothing; a 404 or 403 comes before the 501, the 501 before the use case's 400s
    that follow the lock."""

    async def scenario():
        renderers = {"haproxy": FakeRenderer(), "nginx": FakeRenderer("nginx", NGINX_NO_BACKUP)}
        async with orchestrator(
            _settings(database_url, run_dir), renderers=renderers, worker=False
        ) as st:
            nginx_flavor = await _flavor(st.stub, "nginx")
            pools = {}
            for backend, flavor in (("nginx", nginx_flavor), ("haproxy", "")):
                lb_id = await _lb(st.stub, backend, flavor)
                pool = await st.stub.CreatePool(
                    pb.CreatePoolRequest(
                        scope=ALICE,
                        pool=graph_pb2.Pool(
                            loadbalancer_id=lb_id, protocol="HTTP", lb_algorithm="ROUND_ROBIN"
                        ),
                    )
                )
                pools[backend] = (lb_id, pool.pool.meta.id)
            lb_id, pool_id = pools["nginx"]
            member_id = await _member(st.stub, pool_id, "192.0.2.10")
            counts = _Counts(st)

            # A change that needs a feature the backend has.
            await st.stub.UpdateMember(
                _update_member(pool_id, member_id, ["monitor_address"], monitor_address="192.0.2.9")
            )
            assert counts.transactions == 1
            assert len(counts.lb_reads) == 1 and "FOR UPDATE" in counts.lb_reads[0]

            def state(s):
                member = s.get(MemberRow, member_id)
                lb = s.get(LoadBalancerRow, lb_id)
                return (member.backup, member.weight, member.provisioning_status), (
                    lb.desired_version,
                    lb.provisioning_status,
                )

            before = _db(st, state)
            # One it lacks: refused in that one transaction, nothing written, before the 400
            # an out-of-range weight gets after the lock.
            counts.reset()
            code, err = await _error(
                st.stub.UpdateMember(
                    _update_member(
                        pool_id, member_id, ["backup", "weight"], backup=True, weight=999
                    )
                )
            )
            assert code == grpc.StatusCode.UNIMPLEMENTED and err.field == "backup"
            assert "member.backup is not supported by the nginx backend" in str(err)
            assert counts.transactions == 1 and len(counts.lb_reads) == 1
            assert _db(st, state) == before
            # A create too: the 501 before the 400 of a member without an address; no row.
            counts.reset()
            code, err = await _error(_member(st.stub, pool_id, "", backup=True))
            assert code == grpc.StatusCode.UNIMPLEMENTED and err.field == "backup"
            assert counts.transactions == 1
            assert _db(st, lambda s: s.query(MemberRow).count()) == 1
            # Not found, or another project's: that answer comes first.
            for request, expected in (
                (
                    _update_member(pool_id, member_id, ["backup"], scope=BOB, backup=True),
                    grpc.StatusCode.PERMISSION_DENIED,
                ),
                (
                    _update_member(pool_id, SUBNET_ID, ["backup"], backup=True),
                    grpc.StatusCode.NOT_FOUND,
                ),
            ):
                code, _ = await _error(st.stub.UpdateMember(request))
                assert code == expected
            code, _ = await _error(_member(st.stub, SUBNET_ID, "192.0.2.11", backup=True))
            assert code == grpc.StatusCode.NOT_FOUND
            # A field no update may change is a 400 after the 501 (as when the check ran before
            # the transaction), and before a 404.
            counts.reset()
            code, _ = await _error(
                st.stub.UpdateMember(
                    _update_member(pool_id, member_id, ["backup", "address"], backup=True)
                )
            )
            assert code == grpc.StatusCode.UNIMPLEMENTED and counts.transactions == 1
            assert _db(st, state) == before
            code, _ = await _error(
                st.stub.UpdateMember(
                    _update_member(pool_id, SUBNET_ID, ["backup", "address"], backup=True)
                )
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT
            # The haproxy load balancer's backend has it: accepted, in one transaction.
            _, haproxy_pool = pools["haproxy"]
            member_id = await _member(st.stub, haproxy_pool, "192.0.2.10")
            counts.reset()
            await st.stub.UpdateMember(
                _update_member(haproxy_pool, member_id, ["backup"], backup=True)
            )
            assert counts.transactions == 1 and len(counts.lb_reads) == 1

    asyncio.run(scenario())


def test_a_batch_of_plain_creates_refuses_only_the_backends_that_lack_a_standing_need(
    database_url, run_dir, monkeypatch
):
    """Log offload over TCP, which the nginx fake lacks: plain creates that arrive together are
    written in one transaction; an nginx one fails it (501), and then, one by one, only the
    nginx ones fail."""
    sizes: list[int] = []
    real = loadbalancers.create_plain_many

    def recording(session, deps, requests):
        sizes.append(len(requests))
        return real(session, deps, requests)

    monkeypatch.setattr(loadbalancers, "create_plain_many", recording)
    offload = LogOffload(admin_targets=(SyslogTarget("192.0.2.5", 514),), protocol="tcp")
    renderers = {
        "haproxy": FakeRenderer("haproxy", [*FakeRenderer.supported_features, "log_offload"]),
        "nginx": FakeRenderer("nginx", NGINX_FEATURES),
    }

    async def scenario():
        settings = _settings(database_url, run_dir, log_offload=offload)
        async with orchestrator(settings, renderers=renderers, worker=False) as st:
            nginx_flavor = await _flavor(st.stub, "nginx")
            flavors = ["", nginx_flavor] * 8
            calls = [_lb(st.stub, f"lb{i}", flavor) for i, flavor in enumerate(flavors)]
            outcomes = await asyncio.gather(*calls, return_exceptions=True)
            listed = await st.stub.ListLoadBalancers(pb.ListLoadBalancersRequest(scope=ADMIN))
            return outcomes, listed.loadbalancers

    outcomes, listed = asyncio.run(scenario())
    created, refused = outcomes[0::2], outcomes[1::2]
    assert all(isinstance(lb_id, str) and lb_id for lb_id in created)
    for err in refused:
        assert isinstance(err, grpc.aio.AioRpcError)
        assert err.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "log_offload.tcp is not supported by the nginx backend" in err.details()
    assert sorted(lb.meta.id for lb in listed) == sorted(created)
    assert max(sizes) > 1  # batched, and the batches that failed fell back


def test_a_target_the_renderer_refuses_is_error_before_any_push(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            st.renderer.fail = Precondition("listener.protocol.TCP needs haproxy >= 9.9")
            lb_id = await _lb(st.stub, "old-target")
            await wait_for(
                lambda: _status(st.stub, lb_id, "PROVISIONING_STATUS_ERROR"), what="ERROR"
            )
            reason = _db(st, lambda s: s.get(LoadBalancerRow, lb_id).status_reason)
            assert "needs haproxy >= 9.9" in reason
            assert st.agent.apply_calls == 0

    asyncio.run(scenario())


async def _status(stub, lb_id, name):
    return await lb_status(stub, lb_id) == name


def test_roll_pushes_only_changed_configs_and_skips_pending(database_url, run_dir):
    # No sweep: it would start the pass of the load balancer made PENDING_UPDATE below (it has
    # no job), and that pass's push would race the counts and calls this test checks.
    settings = _settings(database_url, run_dir, sweep_interval=3600.0)

    async def scenario():
        async with orchestrator(settings) as st:
            ids = [await _lb(st.stub, name) for name in ("a", "b", "c", "busy")]
            await _active(st.stub, *ids)
            before = {i: await _amphora(st.stub, i) for i in ids}
            assert {a.applied_renderer_version for a in before.values()} == {"fake-1"}
            # A change of its own in flight (its pass will render with the new renderer).
            _db(
                st,
                lambda s: setattr(
                    s.get(LoadBalancerRow, ids[3]), "provisioning_status", "PENDING_UPDATE"
                ),
            )
            calls = len(st.agent.calls)
            st.renderer.version, st.renderer.touches = "fake-2", {"b"}
            resp = await st.stub.RefreshConfigs(pb.RefreshConfigsRequest())
            assert (resp.rendered, resp.pushed, resp.unchanged, resp.skipped) == (3, 1, 2, 1)
            assert not resp.failures and not resp.stopped
            pushed = st.agent.calls[calls:]
            assert pushed == [(before[ids[1]].id, False, "fake-2")]
            after = {i: await _amphora(st.stub, i) for i in ids}
            assert after[ids[1]].applied_config_hash != before[ids[1]].applied_config_hash
            for i in ids[:3]:
                assert after[i].applied_renderer_version == "fake-2"
            for i in (ids[0], ids[2]):
                assert after[i].applied_config_hash == before[i].applied_config_hash
            assert after[ids[3]].applied_renderer_version == "fake-1"
            # Again: nothing left to push. With force: every ACTIVE one is pushed.
            again = await st.stub.RefreshConfigs(pb.RefreshConfigsRequest())
            assert (again.pushed, again.unchanged) == (0, 3)
            forced = await st.stub.RefreshConfigs(
                pb.RefreshConfigsRequest(loadbalancer_id=ids[0], force=True)
            )
            assert (forced.rendered, forced.pushed) == (1, 1)
            assert st.agent.calls[-1] == (before[ids[0]].id, True, "fake-2")
            code, _ = await _error(
                st.stub.RefreshConfigs(
                    pb.RefreshConfigsRequest(loadbalancer_id="5b3d3a4e-0000-4000-8000-000000000000")
                )
            )
            assert code == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())


def test_roll_stops_at_a_failure_not_rolled_back_and_continues_past_rolled_back(
    database_url, run_dir
):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir, roll_concurrency=1)) as st:
            ids = [await _lb(st.stub, name) for name in ("a", "b", "c")]
            await _active(st.stub, *ids)
            amps = [await _amphora(st.stub, i) for i in ids]
            st.renderer.version, st.renderer.touches = "fake-2", {"a", "b", "c"}
            # Rolled back (INVALID): reported, and the roll goes on.
            st.agent.results = {amps[0].id: "INVALID"}
            resp = await st.stub.RefreshConfigs(pb.RefreshConfigsRequest())
            assert not resp.stopped and resp.pushed == 2
            assert [f.loadbalancer_id for f in resp.failures] == [ids[0]]
            assert lb_status  # the load balancer keeps serving its previous config
            assert await _is_active(st.stub, ids[0])
            assert (await _amphora(st.stub, ids[0])).applied_renderer_version == "fake-1"
            # BROKEN: the roll stops; nothing after it is started.
            st.renderer.version, st.renderer.touches = "fake-3", {"a", "b", "c"}
            st.agent.results = {amps[0].id: "BROKEN"}
            calls = len(st.agent.calls)
            resp = await st.stub.RefreshConfigs(pb.RefreshConfigsRequest())
            assert resp.stopped and resp.pushed == 0
            assert [f.loadbalancer_id for f in resp.failures] == [ids[0]]
            assert [c[0] for c in st.agent.calls[calls:]] == [amps[0].id]
            # An unreachable agent stops it too.
            st.agent.results = {}
            st.agent.unavailable = True
            resp = await st.stub.RefreshConfigs(pb.RefreshConfigsRequest())
            assert resp.stopped and len(resp.failures) == 1

    asyncio.run(scenario())


def test_roll_concurrency_is_bounded(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir, roll_concurrency=2)) as st:
            names = [f"lb{i}" for i in range(5)]
            ids = [await _lb(st.stub, name) for name in names]
            await _active(st.stub, *ids)
            st.agent.max_in_flight = 0
            st.agent.apply_delay = 0.3
            st.renderer.version, st.renderer.touches = "fake-2", set(names)
            resp = await st.stub.RefreshConfigs(pb.RefreshConfigsRequest())
            assert resp.pushed == 5
            assert st.agent.max_in_flight == 2

    asyncio.run(scenario())


def test_configure_amphora_forces_the_push(database_url, run_dir):
    async def scenario():
        async with orchestrator(_settings(database_url, run_dir)) as st:
            lb_id = await _lb(st.stub, "a")
            await _active(st.stub, lb_id)
            amp = await _amphora(st.stub, lb_id)
            assert st.agent.calls[-1] == (amp.id, False, "fake-1")
            calls = len(st.agent.calls)
            await st.stub.ConfigureAmphora(pb.ConfigureAmphoraRequest(id=amp.id))
            await wait_for(lambda: len(st.agent.calls) > calls, what="configure push")
            assert st.agent.calls[calls] == (amp.id, True, "fake-1")
            await wait_for(
                lambda: not _db(st, lambda s: s.get(AmphoraRow, amp.id).configure_requested),
                what="configure recorded",
            )
            assert await _is_active(st.stub, lb_id)

    asyncio.run(scenario())


def test_a_new_renderer_version_starts_a_roll_by_itself(database_url, run_dir):
    async def scenario():
        settings = _settings(database_url, run_dir, renderer_check_interval=0.5)
        async with orchestrator(settings) as st:
            ids = [await _lb(st.stub, name) for name in ("a", "b")]
            await _active(st.stub, *ids)
            calls = len(st.agent.calls)
            st.renderer.version, st.renderer.touches = "fake-2", {"a"}

            async def rolled():
                amps = [await _amphora(st.stub, i) for i in ids]
                return all(a.applied_renderer_version == "fake-2" for a in amps)

            await wait_for(rolled, timeout=20, what="automatic roll")
            amp_a = await _amphora(st.stub, ids[0])
            assert [c[0] for c in st.agent.calls[calls:]] == [amp_a.id]

    asyncio.run(scenario())


assert ADMIN  # the admin scope is what the RPCs above need no scope for


def test_a_flavor_topology_the_driver_cannot_build_is_refused(database_url, run_dir):
    """ACTIVE_STANDBY (a keepalived pair) on the local driver, or a compute size the catalog
    lacks, is refused with a 400 naming flavor_data when the flavor profile is made (as
    Octavia's provider validates flavor data), never built otherwise behind the tenant's back;
    SINGLE and a known size are accepted."""

    async def scenario():
        async with orchestrator(_settings(database_url, run_dir), worker=False) as st:
            # A topology the compute driver cannot build is an option the provider does not
            # support (Octavia's 501); an unknown size is a bad value (400).
            for extra, words, expected in (
                (
                    {"loadbalancer_topology": "ACTIVE_STANDBY"},
                    ("ACTIVE_STANDBY", "SINGLE"),
                    grpc.StatusCode.UNIMPLEMENTED,
                ),
                ({"compute_flavor": "huge"}, ("huge", "small"), grpc.StatusCode.INVALID_ARGUMENT),
            ):
                code, err = await _error(_flavor(st.stub, "haproxy", **extra))
                assert code == expected
                assert err.field == "flavor_data"
                assert all(w in err.user_message for w in words), err.user_message
            listed = await st.stub.ListFlavorProfiles(pb.ListFlavorProfilesRequest())
            assert len(listed.flavorprofiles) == 0
            single = await _flavor(
                st.stub, "haproxy", loadbalancer_topology="SINGLE", compute_flavor="small"
            )
            assert await _lb(st.stub, "single", flavor_id=single)

    asyncio.run(scenario())
