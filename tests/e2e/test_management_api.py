"""The management API end to end, through the launcher's processes with real agents and haproxy:
the config preview shows the change a pending update would make (a redeployed renderer whose
templates render the load balancer differently, not pushed until asked) and `differs: false`
once the re-sync pushed it; diagnostics show the real haproxy version and the last reload,
and haproxy's error output when a reload failed; logs return the agent's last lines and refuse
more than the cap; non-administrators are refused every call."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from services.renderer.backends.haproxy import renderer as haproxy_renderer
from tests.support.api import Api, amphorae, wait_for
from tests.support.stack import RunningStack, restart_service, running_stack

pytestmark = pytest.mark.e2e
PORT = 8080
NEW_VERSION = "e2e-management-2"
MONITOR_LINE = "    timeout check {{ hm.timeout | hx_int }}s\n"
ADDED = "    option log-health-checks"


@pytest.fixture(scope="module")
def stack():
    # No automatic roll: a redeployed renderer's change waits for the operator's re-sync.
    env = {"LBAAS_ORCHESTRATOR_RENDERER_CHECK_INTERVAL": "3600"}
    with running_stack("lbaas-mgmt-", extra_env=env) as running:
        yield running


@pytest.fixture(scope="module")
def admin(stack: RunningStack):
    client = Api(stack.api_url, stack.token("admin"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def member(stack: RunningStack):
    client = Api(stack.api_url, stack.token("member"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def lb(member: Api) -> dict:
    """An HTTP listener and a pool with a health monitor (what the new templates change)."""
    subnet = member.get("/v2.0/subnets")["subnets"][0]["id"]
    body = {
        "loadbalancer": {
            "name": "managed",
            "vip_subnet_id": subnet,
            "listeners": [
                {
                    "name": "managed-l",
                    "protocol": "HTTP",
                    "protocol_port": PORT,
                    "default_pool": {
                        "name": "managed-pool",
                        "protocol": "HTTP",
                        "lb_algorithm": "ROUND_ROBIN",
                        "members": [{"address": "127.0.0.1", "protocol_port": 9}],
                        "healthmonitor": {
                            "type": "HTTP",
                            "delay": 5,
                            "timeout": 2,
                            "max_retries": 1,
                            "url_path": "/",
                        },
                    },
                }
            ],
        }
    }
    made = member.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
    return member.wait_lb(made["id"], timeout=90)


@pytest.fixture(scope="module")
def amphora(admin: Api, lb: dict) -> dict:
    (found,) = amphorae(admin, lb["id"])
    return found


def _preview(admin: Api, lb_id: str) -> dict:
    return admin.get(f"/v2/octavia/loadbalancers/{lb_id}/config_preview")["config_preview"]


def _on_disk(stack: RunningStack, amphora_id: str) -> str:
    return (stack.run_dir / "amphorae" / amphora_id / "conf" / "haproxy.cfg").read_text()


def _new_templates(into: Path) -> Path:
    """The packaged haproxy templates with one more line for pools with a health monitor."""
    shutil.copytree(Path(haproxy_renderer.__file__).parent / "templates", into)
    cfg = into / "haproxy.cfg.j2"
    text = cfg.read_text()
    assert text.count(MONITOR_LINE) == 1, "the template's monitor section moved; adapt the test"
    cfg.write_text(text.replace(MONITOR_LINE, MONITOR_LINE + ADDED + "\n"))
    return into


def test_preview_shows_a_pending_change_until_the_resync_pushes_it(
    stack, admin, lb, amphora, tmp_path
):
    preview = _preview(admin, lb["id"])
    (amp,) = preview["amphorae"]
    assert preview["differs"] is False and amp["differs"] is False and amp["diff"] == ""
    assert amp["amphora_id"] == amphora["id"] and amp["role"] == "STANDALONE"
    assert amp["config_hash"] == amp["applied_config_hash"]
    files = {f["path"]: f for f in amp["files"]}
    # What the renderer makes now is, byte for byte, what the amphora runs.
    assert files["haproxy.cfg"]["content"] == _on_disk(stack, amphora["id"])
    old_version = amp["renderer_version"]

    # The pending update: a renderer that renders this load balancer differently, deployed but
    # not pushed (no automatic roll in this stack).
    restart_service(
        stack,
        "renderer-haproxy",
        {
            "LBAAS_RENDERER_TEMPLATE_DIR": str(_new_templates(tmp_path / "templates")),
            "LBAAS_RENDERER_VERSION": NEW_VERSION,
        },
    )
    preview = _preview(admin, lb["id"])
    (amp,) = preview["amphorae"]
    assert preview["differs"] is True and amp["differs"] is True
    assert amp["renderer_version"] == NEW_VERSION
    assert amp["applied_renderer_version"] == old_version != NEW_VERSION
    assert amp["config_hash"] != amp["applied_config_hash"]
    assert "--- a/haproxy.cfg\n+++ b/haproxy.cfg\n" in amp["diff"]
    changed = [line for line in amp["diff"].splitlines() if line.startswith(("+", "-"))]
    assert changed == ["--- a/haproxy.cfg", "+++ b/haproxy.cfg", "+" + ADDED], amp["diff"]
    assert ADDED not in _on_disk(stack, amphora["id"])  # previewed, not pushed

    r = admin.http.put(f"/v2/octavia/loadbalancers/{lb['id']}/config")
    assert r.status_code == 202, r.text
    # The forced push runs in the load balancer's next reconcile pass.
    preview = wait_for(
        lambda: (p := _preview(admin, lb["id"]))["differs"] is False and p, 30, "the re-sync"
    )
    (amp,) = preview["amphorae"]
    assert amp["applied_renderer_version"] == NEW_VERSION and amp["diff"] == ""
    assert ADDED in _on_disk(stack, amphora["id"])
    # The agent reports the new config as soon as it is swapped in; the apply (the reload) is
    # recorded once it has finished.
    diagnostics = wait_for(
        lambda: (
            (d := _diagnostics(admin, amphora["id"]))["last_apply"]["config_hash"]
            == amp["config_hash"]
            and d
        ),
        30,
        "the forced apply's record",
    )
    assert diagnostics["last_apply"]["force"] is True
    assert diagnostics["last_apply"]["result"] == "APPLIED"
    assert diagnostics["last_reload"]["ok"] is True
    assert diagnostics["last_reload"]["config_hash"] == amp["config_hash"]


def _diagnostics(admin: Api, amphora_id: str) -> dict:
    return admin.get(f"/v2/octavia/amphorae/{amphora_id}/diagnostics")["amphora_diagnostics"]


def test_diagnostics_show_the_real_engine(admin, lb, amphora):
    found = _diagnostics(admin, amphora["id"])
    out = subprocess.run(["haproxy", "-v"], capture_output=True, text=True, check=True).stdout
    assert found["haproxy_version"] == re.search(r"version (\d+\.\d+\.\d+)", out).group(1)
    assert found["openssl_version"] and found["api_version"] in ("1.0", "1.1")
    assert {"diagnostics", "logs", "apply-config"} <= set(found["capabilities"])
    assert found["engine_running"] is True and found["backend_type"] == "haproxy"
    assert found["applied_config_hash"] and found["applied_renderer_version"]
    roles = [p["role"] for p in found["processes"]]
    assert roles[:2] == ["agent", "master"] and "worker" in roles, roles
    assert all(p["uptime_seconds"] >= 0 and p["started_at"] for p in found["processes"])
    sockets = {(s["address"], s["port"]) for s in found["listening_sockets"]}
    assert (lb["vip_address"], PORT) in sockets, sockets
    reload = found["last_reload"]
    assert (
        reload["ok"] is True and reload["error"] == "" and reload["action"] in ("start", "reload")
    )


def test_logs_return_the_agents_last_lines_and_refuse_more_than_the_cap(stack, admin, amphora):
    path = f"/v2/octavia/amphorae/{amphora['id']}/logs"
    logs = {t["source"]: t for t in admin.get(f"{path}?lines=5")["amphora_logs"]["logs"]}
    agent = logs["agent"]
    assert agent["found"] and agent["path"].endswith(f"/amphorae/{amphora['id']}/agent.log")
    assert 0 < len(agent["lines"]) <= 5 and not agent["truncated"]
    on_disk = (stack.run_dir / "amphorae" / amphora["id"] / "agent.log").read_text()
    assert "\n".join(agent["lines"]) in on_disk  # the file's lines, in order
    assert logs["engine"]["found"] and logs["engine"]["path"].endswith("/haproxy.log")

    r = admin.http.get(f"{path}?lines=1001")
    assert r.status_code == 400, r.text
    assert r.json()["faultstring"] == "lines must be at most 1000, not 1001."
    assert admin.http.get(f"{path}?lines=1000").status_code == 200


def test_non_administrators_are_refused(member, lb, amphora):
    for method, path in (
        ("GET", f"/v2/octavia/loadbalancers/{lb['id']}/config_preview"),
        ("PUT", f"/v2/octavia/loadbalancers/{lb['id']}/config"),
        ("GET", f"/v2/octavia/amphorae/{amphora['id']}/diagnostics"),
        ("GET", f"/v2/octavia/amphorae/{amphora['id']}/logs"),
    ):
        r = member.http.request(method, path)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["faultstring"] == "Policy does not allow this request to be performed."


def test_a_failed_reload_shows_haproxys_error_output(admin, member, lb, amphora):
    """Last: it changes the load balancer's listeners. A listener haproxy cannot bind passes
    `haproxy -c` and fails at reload: the agent rolls back and keeps haproxy's words, and the
    load balancer is in ERROR until a re-sync, once the port is free, loads it."""
    blocker = socket.socket()
    try:
        blocker.bind((lb["vip_address"], 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        body = {
            "listener": {"loadbalancer_id": lb["id"], "protocol": "TCP", "protocol_port": taken}
        }
        member.post("/v2/lbaas/listeners", body)
        wait_for(
            lambda: member.lb(lb["id"])["provisioning_status"] == "ERROR", 60, "the failed push"
        )
    finally:
        blocker.close()
    found = _diagnostics(admin, amphora["id"])
    failed = found["last_failed_reload"]
    assert failed["ok"] is False and failed["action"] == "reload"
    assert "cannot bind socket" in failed["error"], failed["error"]
    assert f"{lb['vip_address']}:{taken}" in failed["error"]
    assert found["last_reload"]["action"] == "rollback" and found["last_reload"]["ok"] is True
    assert found["last_apply"]["result"] == "ROLLED_BACK"
    # The previous config serves on: haproxy is up and still listens on the first listener.
    assert found["engine_running"] is True
    assert (lb["vip_address"], PORT) in {
        (s["address"], s["port"]) for s in found["listening_sockets"]
    }
    # (an HTTP answer at all: whatever its member says, or haproxy's own when none is up)
    assert httpx.get(f"http://{lb['vip_address']}:{PORT}/", timeout=5).status_code

    # The port is free again: a re-sync pushes the same config, which now loads.
    assert admin.http.put(f"/v2/octavia/loadbalancers/{lb['id']}/config").status_code == 202
    # (the re-sync leaves the status alone: ERROR until its pass succeeds)
    wait_for(lambda: member.lb(lb["id"])["provisioning_status"] == "ACTIVE", 30, "the re-sync")
    found = _diagnostics(admin, amphora["id"])
    assert (found["last_reload"]["action"], found["last_reload"]["ok"]) == ("reload", True)
    assert (lb["vip_address"], taken) in {
        (s["address"], s["port"]) for s in found["listening_sockets"]
    }
    assert found["last_failed_reload"] == failed  # kept until another reload fails
