"""Log offload settings: read and checked once at start (a clear error naming the variable),
handed to the renderers as Target.log_offload (unset for the defaults), to the agents as flags,
and to the feature gate (log offload over TCP refuses nginx load balancers with a 400)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lbaas.common.v1 import graph_pb2 as g
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.renderer.v1 import renderer_service_pb2 as r

from amphora_agent.config import parse_settings
from services.common.errors import Unsupported
from services.common.log_offload import LogOffload, SyslogTarget
from services.orchestrator.adapters.compute_local import LocalComputeDriver
from services.orchestrator.adapters.renderer_client import build_target, log_offload_message
from services.orchestrator.compute_host.config import Settings as ComputeHostSettings
from services.orchestrator.config import Settings
from services.orchestrator.domain import features
from services.orchestrator.domain.ports import AgentInfo, AmphoraSpec, IssuedCertificate
from services.orchestrator.handlers.orchestrator import OrchestratorServicer
from services.orchestrator.service_layer.feature_gate import FeatureGate

BASE = {"DATABASE_URL": "postgresql://u@/db?host=/tmp", "LBAAS_RUN_DIR": "/tmp/lbaas-unit"}


def _settings(**env: str) -> LogOffload:
    return Settings.from_env({**BASE, **env}).log_offload


def test_defaults_offload_nothing() -> None:
    settings = _settings()
    assert settings == LogOffload()
    assert not settings.configured
    assert settings.agent_args() == ()
    assert log_offload_message(settings) is None


def test_targets_protocol_and_local_storage_are_read() -> None:
    settings = _settings(
        LBAAS_TENANT_LOG_TARGETS=" 192.0.2.10:514, [2001:db8::1]:1514 ,",
        LBAAS_ADMIN_LOG_TARGETS="192.0.2.11:10514",
        LBAAS_LOG_PROTOCOL="TCP",
        LBAAS_DISABLE_LOCAL_LOG_STORAGE="true",
    )
    assert settings.tenant_targets == (
        SyslogTarget("192.0.2.10", 514),
        SyslogTarget("2001:db8::1", 1514),
    )
    assert settings.admin_targets == (SyslogTarget("192.0.2.11", 10514),)
    assert settings.protocol == "tcp"
    assert settings.disable_local_log_storage
    assert settings.agent_args() == (
        "--admin-log-target", "192.0.2.11:10514", "--log-protocol", "tcp",
        "--disable-local-log-storage",
    )  # fmt: skip
    message = log_offload_message(settings)
    assert message == r.LogOffload(
        tenant_targets=[
            r.SyslogTarget(address="192.0.2.10", port=514),
            r.SyslogTarget(address="2001:db8::1", port=1514),
        ],
        admin_targets=[r.SyslogTarget(address="192.0.2.11", port=10514)],
        protocol=r.LOG_PROTOCOL_TCP,
        disable_local_log_storage=True,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"LBAAS_TENANT_LOG_TARGETS": "syslog.example.com:514"}, "must be an IP address"),
        ({"LBAAS_TENANT_LOG_TARGETS": "192.0.2.1"}, "not host:port"),
        ({"LBAAS_TENANT_LOG_TARGETS": "192.0.2.1:0"}, "port of 1-65535"),
        ({"LBAAS_ADMIN_LOG_TARGETS": "192.0.2.1:65536"}, "port of 1-65535"),
        ({"LBAAS_ADMIN_LOG_TARGETS": "2001:db8::1:514"}, "in brackets"),
        ({"LBAAS_ADMIN_LOG_TARGETS": "0.0.0.0:514"}, "not a unicast address"),
        ({"LBAAS_ADMIN_LOG_TARGETS": "192.0.2.1:514,192.0.2.1:514"}, "listed twice"),
        ({"LBAAS_TENANT_LOG_TARGETS": ",".join(f"192.0.2.1:{p}" for p in range(1, 10))}, "at most"),
        ({"LBAAS_LOG_PROTOCOL": "relp"}, "LBAAS_LOG_PROTOCOL must be udp or tcp"),
        ({"LBAAS_DISABLE_LOCAL_LOG_STORAGE": "maybe"}, "must be true or false"),
    ],
)
def test_bad_settings_stop_the_start_naming_the_variable(env: dict, says: str) -> None:
    with pytest.raises(ValueError, match=says) as err:
        Settings.from_env({**BASE, **env})
    assert next(iter(env)) in str(err.value)


def test_the_compute_host_reads_the_same_variables() -> None:
    env = {"LBAAS_RUN_DIR": "/tmp/lbaas-unit", "LBAAS_ADMIN_LOG_TARGETS": "192.0.2.11:514"}
    assert ComputeHostSettings.from_env(env).log_offload.admin_targets == (
        SyslogTarget("192.0.2.11", 514),
    )
    with pytest.raises(ValueError, match="LBAAS_ADMIN_LOG_TARGETS"):
        ComputeHostSettings.from_env({**env, "LBAAS_ADMIN_LOG_TARGETS": "nowhere:514"})


def test_the_target_carries_the_settings_only_when_configured() -> None:
    info = AgentInfo(
        amphora_id="a1", api_version="1.1", backend_type="haproxy", haproxy_version="2.6.12",
        openssl_version="3.0.2", nginx_version="", runtime_dir="/run/a1", applied_config_hash="",
    )  # fmt: skip
    assert not build_target(info, "127.30.0.7").HasField("log_offload")
    message = log_offload_message(LogOffload(admin_targets=(SyslogTarget("192.0.2.1", 514),)))
    target = build_target(info, "127.30.0.7", log_offload=message)
    assert target.log_offload.protocol == r.LOG_PROTOCOL_UDP
    assert [t.address for t in target.log_offload.admin_targets] == ["192.0.2.1"]


def test_agents_get_the_flags_and_parse_them(tmp_path: Path) -> None:
    settings = LogOffload(
        admin_targets=(SyslogTarget("2001:db8::7", 514), SyslogTarget("192.0.2.7", 514)),
        protocol="tcp",
        disable_local_log_storage=True,
    )
    driver = LocalComputeDriver(
        tmp_path, "127.0.0.1:1", None, 1.0, agent_log_args=settings.agent_args()
    )
    spec = AmphoraSpec(
        amphora_id="a1", loadbalancer_id="lb", backend_type="haproxy", vip_address="127.0.0.9",
        certificate=IssuedCertificate(b"", b"", b""),
    )  # fmt: skip
    command = driver._agent_command(spec, tmp_path, 9443)
    assert command[-7:] == [
        "--admin-log-target", "[2001:db8::7]:514", "--admin-log-target", "192.0.2.7:514",
        "--log-protocol", "tcp", "--disable-local-log-storage",
    ]  # fmt: skip
    agent = parse_settings(command[command.index("--amphora-id") :])
    assert agent.admin_log_targets == settings.admin_targets
    assert agent.log_protocol == "tcp" and agent.disable_local_log_storage
    # An agent started without the flags logs as before.
    plain_command = LocalComputeDriver(tmp_path, "127.0.0.1:1", None, 1.0)._agent_command(
        spec, tmp_path, 1
    )
    plain = parse_settings(plain_command[plain_command.index("--amphora-id") :])
    assert plain.admin_log_targets == () and not plain.disable_local_log_storage


class NginxRenderer:
    address = "127.0.0.1:2"

    async def describe(self):
        return "nginx", "nginx-test", ["listener.protocol.HTTP", "pool.protocol.HTTP"]


class HaproxyRenderer:
    address = "127.0.0.1:1"

    async def describe(self):
        return "haproxy", "haproxy-test", ["listener.protocol.HTTP", "log_offload.tcp"]


class NoWrites:
    """A unit of work that stops the handler where it would reach the database."""

    def transaction(self):
        raise AssertionError("the handler wrote before checking features")

    def run(self, work):
        self.transaction()


@pytest.mark.parametrize(("protocol", "refused"), [("tcp", True), ("udp", False)])
def test_log_offload_over_tcp_refuses_what_the_renderer_cannot_send(protocol, refused) -> None:
    standing = features.deployment(protocol, has_log_targets=True)
    gate = FeatureGate(NginxRenderer(), standing=standing)
    servicer = OrchestratorServicer(NoWrites(), deps=None, feature_gate=gate)
    # A plain load balancer create needs nothing of the graph: the standing need still counts.
    request = pb.CreateLoadBalancerRequest(
        scope=pb.Scope(all_projects=True), loadbalancer=g.LoadBalancer(topology="SINGLE")
    )
    if refused:
        with pytest.raises(Unsupported) as err:
            asyncio.run(servicer.CreateLoadBalancer(request, None))
        assert str(err.value) == (
            "Provider 'amphora' does not support a requested option: "
            "feature log_offload.tcp is not supported by the nginx backend"
        )
        assert err.value.field == "flavor_id"
    else:
        with pytest.raises(AssertionError, match="wrote before"):
            asyncio.run(servicer.CreateLoadBalancer(request, None))
    # haproxy advertises it: nothing is refused.
    asyncio.run(FeatureGate(HaproxyRenderer(), standing=standing).check([]))


def test_tcp_without_targets_needs_nothing() -> None:
    assert list(features.deployment("tcp", has_log_targets=False)) == []
