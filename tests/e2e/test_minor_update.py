"""A minor update end to end: while three load balancers carry real HTTP traffic, the haproxy
renderer is redeployed with a changed template (only pools with a health monitor render
differently) and a new version; the operator's roll pushes the one changed config, leaves the
other amphorae untouched (same config directory, same haproxy worker) but records the new
renderer version for them, and no request fails during the roll."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import httpx
import pytest
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from services.renderer.backends.haproxy import renderer as haproxy_renderer
from tests.support.api import Api, wait_for
from tests.support.backends import Backend
from tests.support.haproxy_socket import haproxy_pids
from tests.support.stack import (
    RunningStack,
    leftover_pids,
    operator_channel,
    restart_service,
    running_stack,
)

pytestmark = pytest.mark.e2e
PORT = 8080
NEW_VERSION = "e2e-minor-2"
MONITOR_LINE = "    timeout check {{ hm.timeout | hx_int }}s\n"


def _changed_templates(into: Path) -> Path:
    """The packaged haproxy templates with one change in the health-monitor section."""
    packaged = Path(haproxy_renderer.__file__).parent / "templates"
    shutil.copytree(packaged, into)
    cfg = into / "haproxy.cfg.j2"
    text = cfg.read_text()
    assert text.count(MONITOR_LINE) == 1, "the template's monitor section moved; adapt the test"
    cfg.write_text(text.replace(MONITOR_LINE, MONITOR_LINE + "    option log-health-checks\n"))
    return into


def _create(api: Api, subnet: str, name: str, backends: list[Backend], monitor: bool) -> dict:
    pool: dict = {
        "name": f"{name}-pool",
        "protocol": "HTTP",
        "lb_algorithm": "ROUND_ROBIN",
        "members": [{"address": b.host, "protocol_port": b.port} for b in backends],
    }
    if monitor:
        pool["healthmonitor"] = {
            "type": "HTTP",
            "delay": 1,
            "timeout": 1,
            "max_retries": 1,
            "url_path": "/",
            "expected_codes": "200",
        }
    body = {
        "loadbalancer": {
            "name": name,
            "vip_subnet_id": subnet,
            "listeners": [
                {
                    "name": f"{name}-l",
                    "protocol": "HTTP",
                    "protocol_port": PORT,
                    "default_pool": pool,
                }
            ],
        }
    }
    lb = api.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
    return api.wait_lb(lb["id"], timeout=90)


def _amphorae(stack: RunningStack) -> dict[str, pb.Amphora]:
    address = stack.env["LBAAS_ORCHESTRATOR_ADDR"]
    with operator_channel(stack, address, "orchestrator") as ch:
        resp = pb_grpc.OrchestratorServiceStub(ch).ListAmphorae(
            pb.ListAmphoraeRequest(), timeout=10
        )
    return {a.loadbalancer_id: a for a in resp.amphorae}


def _haproxy_pids(run_dir: Path, amphora_id: str) -> set[int]:
    return haproxy_pids(leftover_pids(run_dir), str(run_dir / "amphorae" / amphora_id).encode())


class Traffic:
    """Fresh-connection requests to every VIP in a loop until stopped; counts failures."""

    def __init__(self, urls: list[str]):
        self.urls = urls
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5, headers={"Connection": "close"}) as client:
            while not self._stop.is_set():
                for url in self.urls:
                    try:
                        r = client.get(url)
                        if r.status_code == 200:
                            self.ok += 1
                        else:
                            self.failures.append(f"{url}: {r.status_code}")
                    except httpx.HTTPError as err:
                        self.failures.append(f"{url}: {err!r}")

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_minor_update_pushes_only_changed_configs_without_dropping_requests(tmp_path):
    backends = [Backend(f"b{i}").start() for i in range(2)]
    try:
        with running_stack(
            "lbaas-mu-", extra_env={"LBAAS_ORCHESTRATOR_RENDERER_CHECK_INTERVAL": "3600"}
        ) as stack:
            member = Api(stack.api_url, stack.token("member"))
            admin = Api(stack.api_url, stack.token("admin"))
            try:
                subnet = member.get("/v2.0/subnets")["subnets"][0]["id"]
                lbs = {
                    "plain-1": _create(member, subnet, "plain-1", backends, monitor=False),
                    "plain-2": _create(member, subnet, "plain-2", backends, monitor=False),
                    "monitored": _create(member, subnet, "monitored", backends, monitor=True),
                }
                urls = [f"http://{lb['vip_address']}:{PORT}/" for lb in lbs.values()]
                for url in urls:
                    wait_for(lambda u=url: httpx.get(u, timeout=2).status_code == 200, 30, url)
                before = _amphorae(stack)
                amp = {name: before[lb["id"]] for name, lb in lbs.items()}
                old_version = amp["plain-1"].applied_renderer_version
                assert old_version and old_version != NEW_VERSION
                amp_dir = {n: stack.run_dir / "amphorae" / a.id for n, a in amp.items()}
                conf = {n: os.readlink(d / "conf") for n, d in amp_dir.items()}
                pids = {n: _haproxy_pids(stack.run_dir, a.id) for n, a in amp.items()}
                assert all(pids.values())

                templates = _changed_templates(tmp_path / "templates")
                with Traffic(urls) as traffic:
                    restart_service(
                        stack,
                        "renderer-haproxy",
                        {
                            "LBAAS_RENDERER_TEMPLATE_DIR": str(templates),
                            "LBAAS_RENDERER_VERSION": NEW_VERSION,
                        },
                    )
                    r = admin.http.put("/v2/octavia/amphorae/config", timeout=300)
                    assert r.status_code == 200, r.text
                    report = r.json()
                    # A little traffic after the roll too.
                    seen = traffic.ok
                    wait_for(lambda: traffic.ok > seen + 30, 30, "traffic after the roll")
                assert traffic.failures == [], traffic.failures[:5]
                assert traffic.ok > 30
                assert report["failures"] == [] and not report["stopped"], report
                assert (report["rendered"], report["pushed"], report["unchanged"]) == (3, 1, 2)

                after = _amphorae(stack)
                for name, lb in lbs.items():
                    assert after[lb["id"]].applied_renderer_version == NEW_VERSION, name
                # The affected amphora got the new config...
                assert os.readlink(amp_dir["monitored"] / "conf") != conf["monitored"]
                cfg = (amp_dir["monitored"] / "conf" / "haproxy.cfg").read_text()
                assert "option log-health-checks" in cfg
                assert (
                    after[lbs["monitored"]["id"]].applied_config_hash
                    != amp["monitored"].applied_config_hash
                )
                # ...the others were not touched: same config directory, same haproxy worker.
                for name in ("plain-1", "plain-2"):
                    assert os.readlink(amp_dir[name] / "conf") == conf[name], name
                    assert _haproxy_pids(stack.run_dir, amp[name].id) == pids[name], name
                    text = (amp_dir[name] / "conf" / "haproxy.cfg").read_text()
                    assert "log-health-checks" not in text
            finally:
                member.close()
                admin.close()
    finally:
        for b in backends:
            b.stop()


def test_one_system_serves_haproxy_and_nginx_load_balancers():
    """A flavor whose profile names the nginx backend: its load balancer runs nginx next to an
    haproxy one in the same running system, both carrying real traffic; what only haproxy can
    do (active health monitors) is a 400 naming the feature on the nginx one."""
    backends = [Backend(f"n{i}").start() for i in range(2)]
    try:
        with running_stack("lbaas-nx-") as stack:
            member = Api(stack.api_url, stack.token("member"))
            admin = Api(stack.api_url, stack.token("admin"))
            try:
                profile = admin.post(
                    "/v2/lbaas/flavorprofiles",
                    {
                        "flavorprofile": {
                            "name": "nginx-engine",
                            "provider_name": "amphora",
                            "flavor_data": '{"backend": "nginx"}',
                        }
                    },
                )["flavorprofile"]
                flavor = admin.post(
                    "/v2/lbaas/flavors",
                    {
                        "flavor": {
                            "name": "nginx",
                            "flavor_profile_id": profile["id"],
                            "enabled": True,
                        }
                    },
                )["flavor"]
                subnet = member.get("/v2.0/subnets")["subnets"][0]["id"]
                pool = {
                    "protocol": "HTTP",
                    "lb_algorithm": "ROUND_ROBIN",
                    "members": [{"address": b.host, "protocol_port": b.port} for b in backends],
                }
                made = {}
                for name, extra in (("ha", {}), ("nx", {"flavor_id": flavor["id"]})):
                    body = {
                        "loadbalancer": {
                            "name": name,
                            "vip_subnet_id": subnet,
                            "listeners": [
                                {
                                    "protocol": "HTTP",
                                    "protocol_port": PORT,
                                    "default_pool": {**pool, "name": f"{name}-pool"},
                                }
                            ],
                            **extra,
                        }
                    }
                    made[name] = member.post("/v2/lbaas/loadbalancers", body)["loadbalancer"]
                for name, lb in made.items():
                    made[name] = member.wait_lb(lb["id"], timeout=90)
                amphorae = _amphorae(stack)
                assert amphorae[made["ha"]["id"]].backend_type == "haproxy"
                assert amphorae[made["nx"]["id"]].backend_type == "nginx"
                for name, lb in made.items():
                    url = f"http://{lb['vip_address']}:{PORT}/"
                    wait_for(lambda u=url: httpx.get(u, timeout=2).status_code == 200, 30, url)
                    seen = {httpx.get(url, timeout=5).text for _ in range(20)}
                    assert seen == {"n0", "n1"}, (name, seen)
                nx_amphora = amphorae[made["nx"]["id"]].id
                nginx_running = [
                    pid
                    for pid in leftover_pids(stack.run_dir)
                    if b"nginx" in _cmd(pid) and nx_amphora.encode() in _cmd(pid)
                ]
                assert nginx_running
                # An active health monitor is something only haproxy does here.
                pool_id = made["nx"]["pools"][0]["id"]
                monitor = {
                    "healthmonitor": {
                        "pool_id": pool_id,
                        "type": "HTTP",
                        "delay": 1,
                        "timeout": 1,
                        "max_retries": 1,
                    }
                }
                r = member.http.post("/v2/lbaas/healthmonitors", json=monitor)
                # An option the nginx backend cannot do: Octavia's 501 for the provider.
                assert r.status_code == 501, r.text
                assert "does not support a requested option" in r.text, r.text
                assert "nginx backend" in r.text, r.text
                monitor["healthmonitor"]["pool_id"] = made["ha"]["pools"][0]["id"]
                member.post("/v2/lbaas/healthmonitors", monitor)
            finally:
                member.close()
                admin.close()
    finally:
        for b in backends:
            b.stop()


def _cmd(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
