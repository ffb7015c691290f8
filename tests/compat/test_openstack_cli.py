"""The walking-skeleton flow through the real `openstack loadbalancer` CLI (python-octaviaclient)
against `.run/clouds.yaml`, with real traffic through the VIP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.support.api import wait_for
from tests.support.backends import Backend
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.compat
OPENSTACK = shutil.which("openstack", path=str(Path(sys.executable).parent)) or "openstack"


@pytest.fixture(scope="module")
def stack():
    with running_stack("lbaas-compat-") as running:
        yield running


def cli(stack: RunningStack, *args: str, parse: bool = True):
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(stack.run_dir / "clouds.yaml"))
    for key in [k for k in env if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        env.pop(key)
    cmd = [OPENSTACK, "--os-cloud", "lbaas", *args]
    if parse:
        cmd += ["-f", "json"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout) if parse else done.stdout


def test_openstack_loadbalancer_cli_flow(stack: RunningStack):
    b1, b2 = Backend("cli-1").start(), Backend("cli-2").start()
    try:
        subnets = cli(stack, "subnet", "list")
        assert len(subnets) == 1
        subnet = subnets[0]

        lb = cli(
            stack,
            "loadbalancer",
            "create",
            "--name",
            "cli-lb",
            "--vip-subnet-id",
            subnet["ID"],
            "--wait",
        )
        assert lb["name"] == "cli-lb"
        assert lb["vip_subnet_id"] == subnet["ID"]
        lb = cli(stack, "loadbalancer", "show", "cli-lb")
        assert lb["provisioning_status"] == "ACTIVE"

        listener = cli(
            stack,
            "loadbalancer",
            "listener",
            "create",
            "--name",
            "cli-listener",
            "--protocol",
            "HTTP",
            "--protocol-port",
            "8080",
            "--wait",
            "cli-lb",
        )
        assert listener["protocol"] == "HTTP" and listener["protocol_port"] == 8080
        pool = cli(
            stack,
            "loadbalancer",
            "pool",
            "create",
            "--name",
            "cli-pool",
            "--listener",
            "cli-listener",
            "--protocol",
            "HTTP",
            "--lb-algorithm",
            "ROUND_ROBIN",
            "--wait",
        )
        assert pool["lb_algorithm"] == "ROUND_ROBIN"
        for b in (b1, b2):
            member = cli(
                stack,
                "loadbalancer",
                "member",
                "create",
                "--name",
                b.name,
                "--address",
                b.host,
                "--protocol-port",
                str(b.port),
                "--wait",
                "cli-pool",
            )
            assert member["address"] == b.host and member["protocol_port"] == b.port
        hm = cli(
            stack,
            "loadbalancer",
            "healthmonitor",
            "create",
            "--name",
            "cli-hm",
            "--delay",
            "1",
            "--timeout",
            "1",
            "--max-retries",
            "1",
            "--type",
            "HTTP",
            "--url-path",
            "/",
            "--wait",
            "cli-pool",
        )
        assert hm["type"] == "HTTP" and hm["url_path"] == "/"

        members = cli(stack, "loadbalancer", "member", "list", "cli-pool")
        assert sorted(m["name"] for m in members) == ["cli-1", "cli-2"]

        url = f"http://{lb['vip_address']}:8080/"
        seen = Counter(
            httpx.get(url, headers={"Connection": "close"}, timeout=5).text for _ in range(20)
        )
        assert set(seen) == {"cli-1", "cli-2"}, seen

        def online() -> bool:
            tree = json.loads(cli(stack, "loadbalancer", "status", "show", "cli-lb", parse=False))
            ms = tree["loadbalancer"]["listeners"][0]["pools"][0]["members"]
            return all(m["operating_status"] == "ONLINE" for m in ms) and len(ms) == 2

        wait_for(online, 30, "members ONLINE in the status tree", interval=1)

        cli(stack, "loadbalancer", "delete", "--cascade", "--wait", "cli-lb", parse=False)
        assert cli(stack, "loadbalancer", "list") == []
    finally:
        b1.stop()
        b2.stop()
