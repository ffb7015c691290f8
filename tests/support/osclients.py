"""The real OpenStack clients against a running stack: openstacksdk and the `openstack` CLI
(python-octaviaclient), both configured only through the stack's own clouds.yaml."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import openstack
import openstack.config

from tests.support.cli_forkserver import ForkServer
from tests.support.stack import RunningStack

OPENSTACK = shutil.which("openstack", path=str(Path(sys.executable).parent)) or "openstack"

# The compute driver that records amphorae without starting processes: resource-API tests need
# no haproxy, and a load balancer goes ACTIVE as soon as the orchestrator has run its flow.
NOOP_ENV = {"LBAAS_COMPUTE_DRIVER": "noop"}


# A sitecustomize that shortens python-octaviaclient's 3 s `--wait` poll (cli_poll/).
_FAST_POLL = str(Path(__file__).parent / "cli_poll")


def cli_env(stack: RunningStack) -> dict[str, str]:
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(stack.run_dir / "clouds.yaml"))
    for key in [k for k in env if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        env.pop(key)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (_FAST_POLL, env.get("PYTHONPATH"))))
    return env


_fork_server: ForkServer | None = None


def stop_fork_server() -> None:
    """Ends the CLI fork server, if one was started (the compat tests' session teardown)."""
    global _fork_server
    if _fork_server is not None:
        _fork_server.stop()
        _fork_server = None


def run_cli(
    stack: RunningStack, *args: str, cloud: str = "lbaas", json_out: bool = True
) -> subprocess.CompletedProcess:
    """`openstack --os-cloud <cloud> <args> [-f json]`: the real CLI's entry point, run in a
    child forked from a process that imported the CLI once (cli_forkserver.py), which saves
    its second of start-up per command."""
    global _fork_server
    cmd = [OPENSTACK, "--os-cloud", cloud, *args]
    if json_out:
        cmd += ["-f", "json"]
    if _fork_server is None:
        _fork_server = ForkServer()
        atexit.register(stop_fork_server)
    # A CLI waiting on a load balancer that never settles fails, not hangs.
    rc, out, err = _fork_server.run(cmd[1:], cli_env(stack), timeout=55)
    return subprocess.CompletedProcess(cmd, rc, out, err)


def cli(stack: RunningStack, *args: str, cloud: str = "lbaas", parse: bool = True) -> Any:
    """Runs `openstack --os-cloud <cloud> <args> [-f json]`; fails the test on a non-zero exit."""
    done = run_cli(stack, *args, cloud=cloud, json_out=parse)
    assert done.returncode == 0, f"openstack {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout) if parse and done.stdout.strip() else done.stdout


def cli_fails(stack: RunningStack, *args: str, cloud: str = "lbaas") -> str:
    """Runs a command that must fail; returns its stderr+stdout for the caller to check."""
    done = run_cli(stack, *args, cloud=cloud, json_out=False)
    assert done.returncode != 0, f"openstack {' '.join(args)} unexpectedly passed:\n{done.stdout}"
    return done.stdout + done.stderr


def sdk(stack: RunningStack, cloud: str = "lbaas") -> openstack.connection.Connection:
    """An openstacksdk Connection built from the stack's clouds.yaml (no environment)."""
    config = openstack.config.OpenStackConfig(
        config_files=[str(stack.run_dir / "clouds.yaml")], load_envvars=False
    )
    return openstack.connection.Connection(config=config.get_one(cloud))


def unique(prefix: str) -> str:
    """A name no other test in the same stack uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
