"""deploy/conformance/run.py's own logic (the run itself is `make conformance`): a failed, an
unexpected-success or a missing result fails it; skips are listed with their reasons; the tempest
configuration keeps the settings docs/conformance.md explains."""

from __future__ import annotations

import configparser
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location(
        "conformance_run", REPO / "deploy/conformance/run.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(status: str, reason: str = "") -> dict:
    return {"status": status, "reason": reason}


def test_report_passes_only_with_no_failure(run, tmp_path, capsys):
    ok = {"a": _result("success"), "b": _result("skip", "Provider 'amphora' does not support")}
    assert run.report(ok, 1.0, tmp_path, tmp_path / "out") == 0
    out = capsys.readouterr().out
    assert "1 passed, 1 skipped, 0 failed" in out
    assert "Provider 'amphora' does not support" in out
    saved = json.loads((tmp_path / "out" / "last-results.json").read_text())
    assert saved == ok
    for bad in (_result("fail"), _result("uxsuccess"), _result(None)):
        assert run.report({**ok, "c": bad}, 1.0, tmp_path, tmp_path / "out") == 1
    assert run.report({}, 1.0, tmp_path, tmp_path / "out") == 1  # nothing ran


def test_tempest_configuration(run):
    conf = configparser.ConfigParser()
    conf.read_string(run.tempest_conf("http://127.0.0.1:5000/v3", "net-id"))
    lb = conf["load_balancer"]
    assert lb["RBAC_test_type"] == "keystone_default_roles"  # the plugin's default mode
    assert lb["test_network_override"] == "net-id"
    assert "test_subnet_override" not in lb  # plugin 3.5.0 bug (docs/conformance.md)
    assert conf["identity"]["uri_v3"] == "http://127.0.0.1:5000/v3"
    assert conf["loadbalancer-feature-enabled"]["not_implemented_is_error"] == "false"
    # Documented, each of them.
    doc = (REPO / "docs/conformance.md").read_text().lower()
    for section in ("load_balancer", "loadbalancer-feature-enabled", "service_available"):
        for key in conf[section]:
            if key not in conf.defaults():  # [DEFAULT]'s keys show in every section
                assert f"{key}" in doc, f"[{section}] {key} is not explained in docs/conformance.md"
