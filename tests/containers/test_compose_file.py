"""What the running stack cannot show every time: cross-references inside compose.yaml. (Which
health replica the stack test kills depends on which one the gateway uses; a replica missing from
the agents' heartbeat targets would go unnoticed whenever it is the other one.) No docker here."""

from __future__ import annotations

import yaml

from tests.containers.stack import COMPOSE_FILE, LONG_RUNNING


def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def replicas(prefix: str) -> set[str]:
    return {name for name in services() if name.rstrip("0123456789") == f"{prefix}-"}


def test_every_health_replica_is_a_heartbeat_target_of_every_orchestrator() -> None:
    health = replicas("health")
    assert len(health) >= 2, health
    for name in replicas("orchestrator") | replicas("orchestrator-worker"):
        targets = services()[name]["environment"]["LBAAS_HEALTH_UDP_ADDRS"].split(",")
        assert sorted(targets) == sorted(f"{h}:9893" for h in health), name


def test_clients_reach_every_replica_through_one_alias() -> None:
    for prefix in ("orchestrator", "health"):
        for name in replicas(prefix):
            aliases = services()[name]["networks"]["default"]["aliases"]
            assert aliases == [prefix], name


def test_the_tests_wait_for_every_long_running_service() -> None:
    one_shot = {name for name, svc in services().items() if svc.get("restart") == "no"}
    assert one_shot == {"init"}
    assert set(services()) - one_shot == set(LONG_RUNNING)
