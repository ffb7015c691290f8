"""Operator RPCs end to end: catalog (flavors, zones, providers) and amphora administration."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import admin_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import make_settings
from orch_harness import ADMIN, ALICE, create_lb, lb_status, orchestrator, wait_for

from services.common.errors import InvalidInput, from_rpc_error
from services.orchestrator.adapters.network_loopback import SUBNET_ID


async def _error(call):
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


def _profile(data, provider="amphora", name="fp"):
    text = data if isinstance(data, str) else json.dumps(data)
    return pb.CreateFlavorProfileRequest(
        flavorprofile=admin_pb2.FlavorProfile(name=name, provider_name=provider, flavor_data=text)
    )


async def _create_lb(stub, **fields):
    lb = graph_pb2.LoadBalancer(
        meta=graph_pb2.ResourceMeta(name="lb", admin_state_up=True),
        vip=graph_pb2.Vip(subnet_id=SUBNET_ID),
        **fields,
    )
    resp = await stub.CreateLoadBalancer(pb.CreateLoadBalancerRequest(scope=ALICE, loadbalancer=lb))
    return resp.loadbalancer


async def _active(stub, lb_id):
    return await lb_status(stub, lb_id) == "PROVISIONING_STATUS_ACTIVE"


def test_flavors_profiles_and_load_balancer_validation(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            s = st.stub
            for bad, field in (
                (_profile({}, provider="f5"), "provider_name"),
                (_profile("[1]"), "flavor_data"),
                (_profile("{nope"), "flavor_data"),
                (_profile({"cpu": 2}), "flavor_data"),
                (_profile({"loadbalancer_topology": "TRIPLE"}), "flavor_data"),
                (_profile({"backend": "envoy"}), "flavor_data"),
            ):
                code, err = await _error(s.CreateFlavorProfile(bad))
                assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == field, bad
            data = {
                "loadbalancer_topology": "SINGLE",
                "compute_flavor": "medium",
                "backend": "nginx",
            }
            fp = (await s.CreateFlavorProfile(_profile(data))).flavorprofile
            assert json.loads(fp.flavor_data) == data and fp.provider_name == "amphora"
            got = await s.GetFlavorProfile(pb.GetFlavorProfileRequest(id=fp.id))
            assert got.flavorprofile == fp

            code, err = await _error(
                s.CreateFlavor(
                    pb.CreateFlavorRequest(
                        flavor=admin_pb2.Flavor(name="x", flavor_profile_id="nope", enabled=True)
                    )
                )
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "flavor_profile_id"
            flavor = (
                await s.CreateFlavor(
                    pb.CreateFlavorRequest(
                        flavor=admin_pb2.Flavor(
                            name="small", description="d", enabled=True, flavor_profile_id=fp.id
                        )
                    )
                )
            ).flavor
            code, _ = await _error(
                s.CreateFlavor(
                    pb.CreateFlavorRequest(
                        flavor=admin_pb2.Flavor(name="small", enabled=True, flavor_profile_id=fp.id)
                    )
                )
            )
            assert code == grpc.StatusCode.ALREADY_EXISTS
            assert [f.id for f in (await s.ListFlavors(pb.ListFlavorsRequest())).flavors] == [
                flavor.id
            ]

            # A profile in use can be renamed but neither deleted nor given other behaviour.
            code, _ = await _error(s.DeleteFlavorProfile(pb.DeleteFlavorProfileRequest(id=fp.id)))
            assert code == grpc.StatusCode.FAILED_PRECONDITION
            code, _ = await _error(
                s.UpdateFlavorProfile(
                    pb.UpdateFlavorProfileRequest(
                        flavorprofile=admin_pb2.FlavorProfile(id=fp.id, flavor_data="{}"),
                        update_mask=FieldMask(paths=["flavor_data"]),
                    )
                )
            )
            assert code == grpc.StatusCode.FAILED_PRECONDITION
            renamed = await s.UpdateFlavorProfile(
                pb.UpdateFlavorProfileRequest(
                    flavorprofile=admin_pb2.FlavorProfile(id=fp.id, name="renamed"),
                    update_mask=FieldMask(paths=["name"]),
                )
            )
            assert renamed.flavorprofile.name == "renamed"

            # Load balancer create honours the flavor.
            code, err = await _error(
                _create_lb(s, flavor_id="00000000-0000-0000-0000-000000000000")
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "flavor_id"
            lb = await _create_lb(s, flavor_id=flavor.id)
            assert lb.flavor_id == flavor.id
            disabled = await s.UpdateFlavor(
                pb.UpdateFlavorRequest(
                    flavor=admin_pb2.Flavor(id=flavor.id, enabled=False),
                    update_mask=FieldMask(paths=["enabled"]),
                )
            )
            assert disabled.flavor.enabled is False and disabled.flavor.name == "small"
            code, err = await _error(_create_lb(s, flavor_id=flavor.id))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "flavor_id"
            code, _ = await _error(s.DeleteFlavor(pb.DeleteFlavorRequest(id=flavor.id)))
            assert code == grpc.StatusCode.FAILED_PRECONDITION

            await s.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(scope=ADMIN, id=lb.meta.id))
            await asyncio.to_thread(_purge_lbs, st)
            await s.DeleteFlavor(pb.DeleteFlavorRequest(id=flavor.id))
            await s.DeleteFlavorProfile(pb.DeleteFlavorProfileRequest(id=fp.id))
            code, _ = await _error(s.GetFlavorProfile(pb.GetFlavorProfileRequest(id=fp.id)))
            assert code == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())


def _purge_lbs(st):
    """Without a worker nothing removes rows pending deletion; do what the reconcile would."""
    from sqlalchemy import text

    with st.running.orchestrator.uow.transaction() as session:
        session.execute(text("DELETE FROM vip_port"))
        session.execute(text("DELETE FROM load_balancer"))


def test_availability_zones_and_providers(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir), worker=False) as st:
            s = st.stub
            providers = (await s.ListProviders(pb.ListProvidersRequest())).providers
            assert [(p.name, p.description) for p in providers] == [
                ("amphora", "The Octavia Amphora driver."),
                ("octavia", "Deprecated alias of the Octavia Amphora driver."),
            ]
            caps = await s.ListProviderFlavorCapabilities(
                pb.ListProviderCapabilitiesRequest(provider="amphora")
            )
            names = [c.name for c in caps.capabilities]
            assert {"loadbalancer_topology", "compute_flavor", "backend"} <= set(names)
            assert all(c.description for c in caps.capabilities)
            az_caps = await s.ListProviderAvailabilityZoneCapabilities(
                pb.ListProviderCapabilitiesRequest(provider="octavia")
            )
            assert "compute_zone" in [c.name for c in az_caps.capabilities]
            code, err = await _error(
                s.ListProviderFlavorCapabilities(pb.ListProviderCapabilitiesRequest(provider="x"))
            )
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "provider"

            def azp(data):
                return pb.CreateAvailabilityZoneProfileRequest(
                    availability_zone_profile=admin_pb2.AvailabilityZoneProfile(
                        name="azp", provider_name="amphora", availability_zone_data=data
                    )
                )

            code, err = await _error(s.CreateAvailabilityZoneProfile(azp('{"region": "x"}')))
            assert (
                code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "availability_zone_data"
            )
            profile = (
                await s.CreateAvailabilityZoneProfile(azp('{"compute_zone": "nova"}'))
            ).availability_zone_profile

            def az(name, profile_id, enabled=True):
                return pb.CreateAvailabilityZoneRequest(
                    availability_zone=admin_pb2.AvailabilityZone(
                        name=name, enabled=enabled, availability_zone_profile_id=profile_id
                    )
                )

            code, err = await _error(s.CreateAvailabilityZone(az("zone-a", "nope")))
            assert err.field == "availability_zone_profile_id"
            zone = (await s.CreateAvailabilityZone(az("zone-a", profile.id))).availability_zone
            assert zone.enabled and zone.availability_zone_profile_id == profile.id
            code, _ = await _error(s.CreateAvailabilityZone(az("zone-a", profile.id)))
            assert code == grpc.StatusCode.ALREADY_EXISTS
            await s.CreateAvailabilityZone(az("zone-off", profile.id, enabled=False))
            listed = await s.ListAvailabilityZones(pb.ListAvailabilityZonesRequest())
            assert [z.name for z in listed.availability_zones] == ["zone-a", "zone-off"]

            code, err = await _error(_create_lb(s, availability_zone="zone-off"))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and err.field == "availability_zone"
            code, err = await _error(_create_lb(s, availability_zone="zone-z"))
            assert err.field == "availability_zone"
            lb = await _create_lb(s, availability_zone="zone-a")
            assert lb.availability_zone == "zone-a"
            code, _ = await _error(
                s.DeleteAvailabilityZone(pb.DeleteAvailabilityZoneRequest(name="zone-a"))
            )
            assert code == grpc.StatusCode.FAILED_PRECONDITION
            code, _ = await _error(
                s.DeleteAvailabilityZoneProfile(
                    pb.DeleteAvailabilityZoneProfileRequest(id=profile.id)
                )
            )
            assert code == grpc.StatusCode.FAILED_PRECONDITION
            updated = await s.UpdateAvailabilityZone(
                pb.UpdateAvailabilityZoneRequest(
                    availability_zone=admin_pb2.AvailabilityZone(name="zone-off", enabled=True),
                    update_mask=FieldMask(paths=["enabled"]),
                )
            )
            assert updated.availability_zone.enabled
            await s.DeleteAvailabilityZone(pb.DeleteAvailabilityZoneRequest(name="zone-off"))
            code, _ = await _error(
                s.GetAvailabilityZone(pb.GetAvailabilityZoneRequest(name="zone-off"))
            )
            assert code == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())


def test_amphora_show_configure_failover_and_delete(database_url, run_dir):
    async def scenario():
        async with orchestrator(make_settings(database_url, run_dir)) as st:
            s = st.stub
            lb = await create_lb(s)
            lb_id = lb.meta.id
            await wait_for(lambda: _active(s, lb_id))
            amps = (await s.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))).amphorae
            assert len(amps) == 1
            old = (await s.GetAmphora(pb.GetAmphoraRequest(id=amps[0].id))).amphora
            assert old.status == "ALLOCATED" and old.lb_network_ip == "127.0.0.1"
            assert old.created_at.seconds > 0 and old.updated_at.seconds > 0
            assert old.cert_expiration.seconds > old.created_at.seconds
            everything = (await s.ListAmphorae(pb.ListAmphoraeRequest())).amphorae
            assert [a.id for a in everything] == [old.id]

            # Configure: one more push to the same amphora; the load balancer stays ACTIVE.
            calls = st.agent.apply_calls
            await s.ConfigureAmphora(pb.ConfigureAmphoraRequest(id=old.id))
            await wait_for(lambda: st.agent.apply_calls > calls, what="configure push")
            await wait_for(lambda: _active(s, lb_id))

            # A serving amphora cannot be deleted.
            code, _ = await _error(s.DeleteAmphora(pb.DeleteAmphoraRequest(id=old.id)))
            assert code == grpc.StatusCode.FAILED_PRECONDITION

            # Failover of the load balancer: a new amphora (new id, new certificate) first,
            # then the old one goes; PENDING_UPDATE meanwhile, ACTIVE after.
            st.renderer.delay = 0.3
            await s.FailoverLoadBalancer(pb.FailoverLoadBalancerRequest(scope=ALICE, id=lb_id))
            assert await lb_status(s, lb_id) == "PROVISIONING_STATUS_PENDING_UPDATE"
            code, _ = await _error(
                s.FailoverLoadBalancer(pb.FailoverLoadBalancerRequest(scope=ALICE, id=lb_id))
            )
            assert code == grpc.StatusCode.FAILED_PRECONDITION
            await wait_for(lambda: _active(s, lb_id))
            st.renderer.delay = 0
            amps = (await s.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))).amphorae
            assert len(amps) == 1 and amps[0].id != old.id
            new = amps[0]
            assert new.status == "ALLOCATED" and st.agent.applied[new.id] == new.applied_config_hash
            assert st.compute.deleted == [old.id]
            assert [spec.amphora_id for spec in st.compute.created] == [old.id, new.id]
            certs = [spec.certificate.cert_pem for spec in st.compute.created]
            assert certs[0] != certs[1]
            code, _ = await _error(s.GetAmphora(pb.GetAmphoraRequest(id=old.id)))
            assert code == grpc.StatusCode.NOT_FOUND

            # Failover of one amphora does the same.
            await s.FailoverAmphora(pb.FailoverAmphoraRequest(id=new.id))
            await wait_for(lambda: _active(s, lb_id))
            amps = (await s.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))).amphorae
            assert len(amps) == 1 and amps[0].id not in (old.id, new.id)
            assert st.compute.deleted == [old.id, new.id]

            # A replacement that cannot be configured ends in ERROR; the old one keeps serving
            # and DeleteAmphora then removes the broken one.
            current = amps[0]
            st.renderer.fail = InvalidInput("cannot render", field="protocol")
            await s.FailoverAmphora(pb.FailoverAmphoraRequest(id=current.id))
            await wait_for(
                lambda: _status_is(s, lb_id, "PROVISIONING_STATUS_ERROR"), what="failed failover"
            )
            amps = (await s.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb_id))).amphorae
            broken = [a for a in amps if a.id != current.id]
            assert len(broken) == 1 and broken[0].status == "ERROR"
            assert "cannot render" in broken[0].status_reason
            assert current.id in {a.id for a in amps} and current.id not in st.compute.deleted
            st.renderer.fail = None
            await s.DeleteAmphora(pb.DeleteAmphoraRequest(id=broken[0].id))
            await wait_for(lambda: _active(s, lb_id))
            await wait_for(lambda: broken[0].id in st.compute.deleted, what="broken deleted")

    asyncio.run(scenario())


async def _status_is(stub, lb_id, name):
    return await lb_status(stub, lb_id) == name
