"""The compute host's settings, the orchestrator's `remote` driver settings, and the launcher."""

from __future__ import annotations

import pytest

from deploy.local.stack import Stack, StackSettings
from services.orchestrator.compute_host.config import Settings
from services.orchestrator.config import TOPOLOGIES_BY_DRIVER
from services.orchestrator.config import Settings as OrchestratorSettings


def test_defaults_are_the_loopback():
    settings = Settings.from_env({"LBAAS_RUN_DIR": "/tmp/lbaas-unit"})
    assert settings.bind_address == "127.0.0.1:9897"
    assert settings.agent_host == "127.0.0.1"
    assert settings.agent_listen_host == "127.0.0.1"
    assert str(settings.run_dir) == "/tmp/lbaas-unit"


@pytest.mark.parametrize(
    ("agent_host", "listens_on"),
    [
        ("compute", "0.0.0.0"),  # a container's service name: every interface
        ("compute_host.lbaas.internal", "0.0.0.0"),
        ("10.1.2.3", "10.1.2.3"),  # an address: that one
        ("localhost", "127.0.0.1"),
    ],
)
def test_agents_listen_where_the_agent_host_is_reached(agent_host, listens_on):
    env = {"LBAAS_RUN_DIR": "/tmp/lbaas-unit", "LBAAS_COMPUTE_AGENT_HOST": agent_host}
    settings = Settings.from_env(env)
    assert settings.agent_host == agent_host
    assert settings.agent_listen_host == listens_on


@pytest.mark.parametrize("agent_host", ["::1", "compute:9443", "-compute", "a" * 64, "two words"])
def test_an_agent_host_that_cannot_make_an_agent_address_is_refused(agent_host):
    env = {"LBAAS_RUN_DIR": "/tmp/lbaas-unit", "LBAAS_COMPUTE_AGENT_HOST": agent_host}
    with pytest.raises(ValueError, match="LBAAS_COMPUTE_AGENT_HOST"):
        Settings.from_env(env)


def test_a_run_dir_too_long_for_haproxy_sockets_is_refused():
    with pytest.raises(ValueError, match="LBAAS_RUN_DIR"):
        Settings.from_env({"LBAAS_RUN_DIR": "/tmp/" + "x" * 60})


def test_the_orchestrator_selects_the_remote_driver_and_its_address():
    base = {"DATABASE_URL": "postgresql://u@/db", "LBAAS_COMPUTE_DRIVER": "remote"}
    settings = OrchestratorSettings.from_env(base)
    assert (settings.compute_driver, settings.compute_addr) == ("remote", "127.0.0.1:9897")
    settings = OrchestratorSettings.from_env({**base, "LBAAS_COMPUTE_ADDR": "compute:9897"})
    assert settings.compute_addr == "compute:9897"
    assert TOPOLOGIES_BY_DRIVER["remote"] == ("SINGLE",)


def _names(stack: Stack) -> list[str]:
    return [svc.name for svc in stack.services]


def test_the_launcher_runs_the_compute_host_before_the_workers_only_when_remote():
    base = {"LBAAS_RUN_DIR": "/tmp/lbaas-unit", "LBAAS_RENDERER_BACKENDS": "haproxy"}
    assert "compute" not in _names(Stack(StackSettings.from_env(base)))

    env = {**base, "LBAAS_COMPUTE_DRIVER": "remote", "LBAAS_COMPUTE_HOST_ADDR": "127.0.0.1:7897"}
    stack = Stack(StackSettings.from_env(env))
    names = _names(stack)
    assert names.index("compute") < names.index("orchestrator-worker")
    compute = stack.services[names.index("compute")]
    assert compute.module == "services.orchestrator.compute_host"
    assert compute.identity == "compute"
    assert compute.env == {"LBAAS_COMPUTE_HOST_ADDR": "127.0.0.1:7897"}
    # The workers call it where it binds unless told otherwise.
    assert compute.grpc_addr == stack.s.compute_addr == "127.0.0.1:7897"
