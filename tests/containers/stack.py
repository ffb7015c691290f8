"""The compose stack of deploy/docker as the container tests drive it: a base image made from
Debian packages, the images built, `docker-compose up`, readiness, logs, and `down`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.containers.engine import Engine

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy" / "docker" / "compose.yaml"
BASE_IMAGE_SCRIPT = REPO / "deploy" / "docker" / "build-base-image.sh"
# Kept between runs (made again only when missing): debootstrap is the slowest step.
BASE_IMAGE = "local/debian-python:bookworm"
IMAGE_TAG = "ci"
# The services that run on (every one but the init step) and must all be healthy.
LONG_RUNNING = (
    "postgres",
    "renderer-haproxy",
    "renderer-nginx",
    "compute",
    "orchestrator-1",
    "orchestrator-2",
    "orchestrator-worker-1",
    "orchestrator-worker-2",
    "health-1",
    "health-2",
    "gateway-1",
    "gateway-2",
)


class StackError(AssertionError):
    pass


@dataclass
class Compose:
    engine: Engine
    project: str

    @property
    def env(self) -> dict[str, str]:
        docker_dir = str(Path(self.engine.docker).parent)
        return {
            **os.environ,
            # docker-compose builds with the docker CLI, which builds with BuildKit (only the
            # stages a target needs, in parallel): Debian's CLI, which has it built in.
            "PATH": f"{docker_dir}:{os.environ.get('PATH', '')}",
            "COMPOSE_DOCKER_CLI_BUILD": "1",
            "DOCKER_BUILDKIT": "1",
            "BASE_IMAGE": BASE_IMAGE,
            "LBAAS_IMAGE_TAG": IMAGE_TAG,
            # Free ports on the host's loopback: never one that a developer's `make run` holds.
            "LBAAS_API_PUBLISH": "127.0.0.1:",
            "LBAAS_API_2_PUBLISH": "127.0.0.1:",
        }

    def run(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess:
        cmd = ["docker-compose", "-p", self.project, "-f", str(COMPOSE_FILE), *args]
        return _run(cmd, self.env, timeout, check)

    def docker(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess:
        return _run([self.engine.docker, *args], self.env, timeout, check)

    @property
    def network(self) -> str:
        return f"{self.project}_default"

    def container(self, service: str) -> str:
        """The container id of a service (one container per service here)."""
        ids = self.run("ps", "-q", service, timeout=60).stdout.split()
        if len(ids) != 1:
            raise StackError(f"{service}: {len(ids)} containers")
        return ids[0]

    def inspect(self, container: str) -> dict:
        return json.loads(self.docker("inspect", container).stdout)[0]

    def state(self, service: str) -> tuple[str, str]:
        """(status, health) of the service's container: ('running', 'healthy'), ..."""
        state = self.inspect(self.container(service))["State"]
        return state["Status"], (state.get("Health") or {}).get("Status", "")

    def wait_healthy(self, services: Sequence[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        states: dict[str, tuple[str, str]] = {}
        while time.monotonic() < deadline:
            states = {s: self.state(s) for s in services}
            if all(st == ("running", "healthy") for st in states.values()):
                return
            dead = {s: st for s, st in states.items() if st[0] in ("exited", "dead")}
            if dead:
                raise StackError(f"containers exited: {dead}")
            time.sleep(1)
        waiting = {s: st for s, st in states.items() if st != ("running", "healthy")}
        raise StackError(f"not healthy after {timeout:.0f}s: {waiting}")

    def address(self, container: str) -> str:
        """A container's address on the stack's network."""
        return self.inspect(container)["NetworkSettings"]["Networks"][self.network]["IPAddress"]

    def connected_to(self, service: str, port: int, among: Sequence[str]) -> list[str]:
        """Which of the services `among` the service's container holds an established TCP
        connection to, on port (its /proc/net/tcp): e.g. the replica a gRPC client uses."""
        peers = set()
        for line in self.exec(service, "cat", "/proc/net/tcp").splitlines()[1:]:
            fields = line.split()
            remote, state = fields[2], fields[3]
            address, _, remote_port = remote.partition(":")
            if state == "01" and int(remote_port, 16) == port:  # 01: ESTABLISHED
                peers.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
        return [s for s in among if self.address(self.container(s)) in peers]

    def published(self, service: str, port: int) -> str:
        """host:port that a service's port is published at."""
        return self.run("port", service, str(port), timeout=60).stdout.strip()

    def exec(self, service: str, *cmd: str, timeout: float = 120) -> str:
        return self.docker("exec", self.container(service), *cmd, timeout=timeout).stdout

    def logs(self, tail: int = 200) -> str:
        """Every container's last lines, merged in time order ("service | time message")."""
        done = self.run(
            "logs", "--no-color", "--timestamps", f"--tail={tail}", timeout=120, check=False
        )
        lines = [line for line in done.stdout.splitlines() if " | " in line]
        lines.sort(key=lambda line: line.split(" | ", 1)[1][:30])
        return "\n".join(lines) + "\n" + done.stderr


def _run(
    cmd: Sequence[str], env: dict[str, str], timeout: float, check: bool
) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(
            list(cmd), env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as err:
        raise StackError(f"{' '.join(cmd)}: no answer after {timeout:.0f}s") from err
    if check and done.returncode != 0:
        raise StackError(
            f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def ensure_base_image(compose: Compose) -> float | None:
    """The base image from Debian packages, made when missing; seconds it took (None: kept)."""
    if compose.docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
        return None
    started = time.monotonic()
    _run([str(BASE_IMAGE_SCRIPT), BASE_IMAGE], compose.env, timeout=1200, check=True)
    return time.monotonic() - started
