"""The launcher's replicas: how many, their names and addresses, and what each is told."""

from __future__ import annotations

import pytest

from deploy.local.stack import Stack, StackSettings

BASE = {"LBAAS_RUN_DIR": "/tmp/lbaas-unit", "LBAAS_RENDERER_BACKENDS": "haproxy"}


def names(stack: Stack) -> list[str]:
    return [svc.name for svc in stack.services]


def test_one_replica_of_each_by_default():
    settings = StackSettings.from_env(BASE)
    assert settings.health_replicas == [("health", "127.0.0.1:9892", "127.0.0.1:9893")]
    assert settings.worker_replicas == [("orchestrator-worker", "127.0.0.1:9896")]
    assert names(Stack(settings)) == [
        "renderer-haproxy",
        "orchestrator",
        "orchestrator-worker",
        "health",
        "api_gateway",
    ]


def test_replicas_get_offset_ports_or_their_own_variables():
    env = {
        **BASE,
        "LBAAS_HEALTH_REPLICAS": "3",
        "LBAAS_ORCHESTRATOR_WORKER_REPLICAS": "2",
        "LBAAS_HEALTH_ADDR": "127.0.0.1:7000",
        "LBAAS_HEALTH_3_UDP_ADDR": "127.0.0.1:7777",
        "LBAAS_ORCHESTRATOR_WORKER_2_ADDR": "127.0.0.1:8888",
    }
    settings = StackSettings.from_env(env)
    assert settings.health_replicas == [
        ("health", "127.0.0.1:7000", "127.0.0.1:9893"),
        ("health-2", "127.0.0.1:7010", "127.0.0.1:9903"),
        ("health-3", "127.0.0.1:7020", "127.0.0.1:7777"),
    ]
    assert settings.worker_replicas == [
        ("orchestrator-worker", "127.0.0.1:9896"),
        ("orchestrator-worker-2", "127.0.0.1:8888"),
    ]
    # The gateway keeps asking the first health replica.
    assert settings.health_addr == "127.0.0.1:7000"

    stack = Stack(settings)
    assert names(stack) == [
        "renderer-haproxy",
        "orchestrator",
        "orchestrator-worker",
        "orchestrator-worker-2",
        "health",
        "health-2",
        "health-3",
        "api_gateway",
    ]
    by_name = {svc.name: svc for svc in stack.services}
    assert by_name["health-3"].grpc_addr == "127.0.0.1:7020"
    assert by_name["health-3"].env == {
        "LBAAS_HEALTH_ADDR": "127.0.0.1:7020",
        "LBAAS_HEALTH_UDP_ADDR": "127.0.0.1:7777",
    }
    assert by_name["orchestrator-worker-2"].env == {
        "LBAAS_ORCHESTRATOR_ROLE": "worker",
        "LBAAS_ORCHESTRATOR_WORKER_ADDR": "127.0.0.1:8888",
    }


@pytest.mark.parametrize("count", ["0", "-1", "two"])
def test_a_replica_count_below_one_is_refused(count: str):
    with pytest.raises(ValueError, match="LBAAS_HEALTH_REPLICAS"):
        StackSettings.from_env({**BASE, "LBAAS_HEALTH_REPLICAS": count})


def test_each_process_and_replica_gets_a_metrics_port_of_its_own():
    env = {
        **BASE,
        "LBAAS_RENDERER_BACKENDS": "haproxy,nginx,f5-as3",
        "LBAAS_HEALTH_REPLICAS": "3",
        "LBAAS_ORCHESTRATOR_WORKER_REPLICAS": "2",
        "LBAAS_HEALTH_3_METRICS_ADDR": "127.0.0.1:7777",
        "LBAAS_API_METRICS_ADDR": "0.0.0.0:9100",
    }
    addrs = StackSettings.from_env(env).metrics_addrs
    assert addrs == {
        "api_gateway": "0.0.0.0:9100",
        "orchestrator": "127.0.0.1:9990",
        "compute": "127.0.0.1:9997",
        "renderer-haproxy": "127.0.0.1:9991",
        "renderer-nginx": "127.0.0.1:9994",
        "renderer-f5-as3": "127.0.0.1:9995",
        "health": "127.0.0.1:9992",
        "health-2": "127.0.0.1:10002",
        "health-3": "127.0.0.1:7777",
        "orchestrator-worker": "127.0.0.1:9996",
        "orchestrator-worker-2": "127.0.0.1:10006",
    }
    # None of them is another process's gRPC or REST port.
    settings = StackSettings.from_env(env)
    taken = {a for _, a, _ in settings.health_replicas} | {a for _, a in settings.worker_replicas}
    taken |= set(settings.renderer_addrs.values()) | {
        settings.orchestrator_addr,
        settings.compute_host_addr,
        f"{settings.api_host}:{settings.api_port}",
    }
    assert not taken & set(addrs.values())
    assert len(set(addrs.values())) == len(addrs)
    # Every service the launcher runs has one.
    assert {svc.name for svc in Stack(settings).services} <= set(addrs)


def test_metrics_off_for_every_process_or_a_single_address_refused():
    off = StackSettings.from_env({**BASE, "LBAAS_METRICS_ADDR": "0"}).metrics_addrs
    assert set(off.values()) == {"0"}
    with pytest.raises(ValueError, match="LBAAS_METRICS_ADDR is each process's own"):
        StackSettings.from_env({**BASE, "LBAAS_METRICS_ADDR": "127.0.0.1:9100"})
