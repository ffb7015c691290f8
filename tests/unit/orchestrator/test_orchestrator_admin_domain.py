"""Pure checks of the operator side: profile data validation, quota settings, noop drivers."""

from __future__ import annotations

import asyncio

import pytest

from services.common.errors import InvalidInput
from services.orchestrator.adapters.agent_noop import NoopAgentClient, files_hash
from services.orchestrator.adapters.compute_noop import NoopComputeDriver
from services.orchestrator.config import Settings
from services.orchestrator.domain.ports import AmphoraSpec, IssuedCertificate
from services.orchestrator.service_layer import catalog
from services.renderer.domain.hashing import config_hash as renderer_hash


def test_flavor_data_accepts_known_capabilities_only():
    data = '{"loadbalancer_topology": "ACTIVE_STANDBY", "backend": "haproxy"}'
    assert catalog.validate_flavor_data("amphora", data)["backend"] == "haproxy"
    assert catalog.validate_flavor_data("octavia", "{}") == {}
    for bad in ("", "null", "[]", '{"x": 1}', '{"backend": "envoy"}', '{"compute_flavor": 3}'):
        with pytest.raises(InvalidInput) as info:
            catalog.validate_flavor_data("amphora", bad)
        assert info.value.field == "flavor_data"
    with pytest.raises(InvalidInput) as info:
        catalog.validate_flavor_data("f5", "{}")
    assert info.value.field == "provider_name"


def test_availability_zone_data_shapes():
    ok = '{"compute_zone": "az1", "valid_vip_networks": ["n1"]}'
    assert catalog.validate_availability_zone_data("amphora", ok)["compute_zone"] == "az1"
    for bad in ('{"valid_vip_networks": "n1"}', '{"zone": "x"}', '"az1"'):
        with pytest.raises(InvalidInput):
            catalog.validate_availability_zone_data("amphora", bad)


def test_quota_defaults_and_driver_from_environment():
    env = {"DATABASE_URL": "postgresql://u@/db", "LBAAS_QUOTA_LOAD_BALANCER": "10"}
    settings = Settings.from_env(env)
    assert settings.quota_defaults["load_balancer"] == 10
    assert settings.quota_defaults["l7rule"] == -1
    with pytest.raises(ValueError):
        Settings.from_env({**env, "LBAAS_QUOTA_POOL": "-5"})
    with pytest.raises(ValueError):
        Settings.from_env({**env, "LBAAS_COMPUTE_DRIVER": "nova"})


def test_role_from_environment_decides_what_runs_and_where_it_binds():
    env = {"DATABASE_URL": "postgresql://u@/db", "LBAAS_ORCHESTRATOR_ADDR": "127.0.0.1:7001"}
    both = Settings.from_env(env)
    assert (both.role, both.serves_api, both.runs_worker) == ("all", True, True)
    assert both.bind_addr == "127.0.0.1:7001"
    api = Settings.from_env({**env, "LBAAS_ORCHESTRATOR_ROLE": "api"})
    assert (api.serves_api, api.runs_worker, api.bind_addr) == (True, False, "127.0.0.1:7001")
    worker = Settings.from_env(
        {**env, "LBAAS_ORCHESTRATOR_ROLE": "worker", "LBAAS_ORCHESTRATOR_WORKER_ADDR": ":7002"}
    )
    # The worker keeps off the API's port: both run side by side on one host.
    assert (worker.serves_api, worker.runs_worker, worker.bind_addr) == (False, True, ":7002")
    with pytest.raises(ValueError):
        Settings.from_env({**env, "LBAAS_ORCHESTRATOR_ROLE": "scheduler"})


def test_noop_agent_uses_the_renderer_hash_and_refuses_a_wrong_one():
    files = [("haproxy.cfg", b"global\n", 0o644), ("certs/a.pem", b"x", 0o600)]
    good = renderer_hash([(p, c) for p, c, _ in files])
    assert files_hash(files) == good

    async def scenario():
        agent = NoopAgentClient()
        info = await agent.get_info("192.0.2.1:9443", "amp-1")
        assert info.haproxy_version.startswith("2.6") and info.backend_type == "haproxy"
        assert (await agent.apply_config("a", "amp-1", files, good, "r")).result == "APPLIED"
        assert (await agent.get_info("a", "amp-1")).applied_config_hash == good
        assert (await agent.apply_config("a", "amp-1", files, "0" * 64, "r")).result == "INVALID"

        compute = NoopComputeDriver()
        cert = IssuedCertificate(b"c", b"k", b"ca")
        made = await compute.create_amphora(AmphoraSpec("amp-1", "lb-1", "haproxy", "", cert))
        assert await compute.is_alive(made.compute_id)
        assert not await compute.is_alive("1234:5678")  # a local compute id is not ours
        await compute.delete_amphora("amp-1", made.compute_id)

    asyncio.run(scenario())
