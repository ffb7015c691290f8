"""deploy/grafana's dashboard against the code and docs/operations.md: every metric it draws is
one the services define and the page describes, and every metric they define is described."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import REGISTRY

import services.api_gateway.observability
import services.common.metrics
import services.health.metrics
import services.orchestrator.metrics
import services.renderer.metrics  # noqa: F401  (their metrics register on import)
from services.health.domain.drops import DropCounts
from services.health.domain.failover import BreakerPolicy, FailoverGate
from services.health.domain.ports import Fleet
from services.health.domain.writer import WriteCounts

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = REPO / "deploy" / "grafana" / "lbaas-control-plane.json"
OPERATIONS = REPO / "docs" / "operations.md"
METRIC = re.compile(r"\blbaas_[a-z0-9_]+")
# What a histogram or counter family exposes besides its own name.
SUFFIXES = ("_bucket", "_count", "_sum", "_created", "_total")


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def defined() -> set[str]:
    """Every lbaas_ family the services register, the health collector's included."""
    names = {m.name for m in REGISTRY.collect() if m.name.startswith("lbaas_")}
    app = SimpleNamespace(
        drops=DropCounts(),
        intake=SimpleNamespace(accepted=0, master_signed=0),
        writer=SimpleNamespace(counts=WriteCounts(), behind=0.0),
        watch=SimpleNamespace(last_fleet=Fleet(0, ()), requested=0, claimed=0),
        gate=FailoverGate(BreakerPolicy(), 1.5, 0.0),
    )
    names |= {m.name for m in services.health.metrics.HealthCollector(app).collect()}
    return names


def documented() -> set[str]:
    return {family(n) for n in METRIC.findall(OPERATIONS.read_text())}


def drawn() -> set[str]:
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    return {family(n) for e in exprs for n in METRIC.findall(e)}


def test_the_dashboard_is_grafana_json_with_unique_panels():
    board = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert board["uid"] == "lbaas-control-plane"
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel
            assert panel["description"], panel["title"]


def test_every_metric_is_defined_documented_and_drawn():
    code = {family(n) for n in defined()}
    assert drawn() <= code, drawn() - code
    assert documented() - {"lbaas_service_info"} <= code, documented() - code
    assert code <= documented(), code - documented()
    assert drawn() == code  # lbaas_service_info names the processes in the process panels
