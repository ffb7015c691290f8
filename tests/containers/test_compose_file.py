"""What the running stack cannot show every time: cross-references inside compose.yaml. (Which
health replica the stack test kills depends on which one the gateway uses; a replica missing from
the agents' heartbeat targets would go unnoticed whenever it is the other one.) No docker here."""

from __future__ import annotations

import re

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


def test_only_the_init_step_mounts_the_internal_ca_key() -> None:
    mounting = {
        name
        for name, svc in services().items()
        if any(str(v).startswith("internal-ca:") for v in svc.get("volumes", []))
    }
    assert mounting == {"init"}
    assert "--internal-ca-key-dir /var/lib/lbaas-internal-ca" in str(services()["init"]["command"])


def _default(value: str) -> str:
    """The value compose substitutes when the variable is unset: ${NAME:-default}."""
    match = re.fullmatch(r"\$\{\w+:-(.*)\}", value)
    return match[1] if match else value


def test_every_service_of_ours_serves_metrics_on_its_network_only() -> None:
    ours = {
        name: svc
        for name, svc in services().items()
        if svc.get("build", {}).get("dockerfile") == "deploy/docker/Dockerfile"
        and svc.get("restart") != "no"
    }
    assert set(ours) == set(LONG_RUNNING) - {"postgres"}
    for name, svc in ours.items():
        assert svc.get("expose") == ["9100"], name
        assert not any("9100" in str(p) for p in svc.get("ports", [])), name  # not published
        address = _default(svc["environment"]["LBAAS_METRICS_ADDR"])
        assert address == "0.0.0.0:9100", name
    # The images serve them there by default, and say so.
    dockerfile = (COMPOSE_FILE.parent / "Dockerfile").read_text()
    assert "LBAAS_METRICS_ADDR=0.0.0.0:9100" in dockerfile
    targets = re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.M)
    exposed = dict(
        re.findall(r"^FROM \S+ AS (\S+)\n(?:(?!FROM ).*\n)*?EXPOSE (.*)$", dockerfile, re.M)
    )
    for target in ("api-gateway", "orchestrator", "renderer", "health", "compute"):
        assert target in targets and "9100" in exposed[target].split(), target
