"""The docker engine for the container tests: installed when absent, started when not running
(and then stopped again, by its pid), and the host's networking put back as it was.

dockerd changes the host's network settings when it starts (net.ipv4.ip_forward=1, the nft
tables `ip nat` and `ip filter` with a FORWARD policy of DROP, the docker0 bridge), which breaks
tests that route between network namespaces; what it changed is undone when the dockerd this
module started stops. An engine that was already running is used and left alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGES = {
    "dockerd": "docker.io",
    "docker-compose": "docker-compose",
    "debootstrap": "debootstrap",
}
_IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
# The tables dockerd's iptables (nft backend) adds.
_DOCKER_TABLES = {("ip", "nat"), ("ip", "filter"), ("ip6", "nat"), ("ip6", "filter")}
_SOCKET = Path("/var/run/docker.sock")


def docker_cli() -> str:
    """Debian's docker CLI (it builds with BuildKit, which a newer CLI elsewhere on PATH may do
    only with a buildx plugin), else whichever is on PATH."""
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("no docker CLI after installing docker.io")


def _apt_install(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-qq", *packages]
    if subprocess.run(cmd, env=env, capture_output=True).returncode == 0:
        return
    # A stale package index: refresh it once, and only then.
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"apt-get install {' '.join(packages)} failed:\n{done.stderr[-2000:]}")


def ensure_packages() -> list[str]:
    """Installs the packages whose tools are missing; returns those it installed."""
    missing = [pkg for tool, pkg in PACKAGES.items() if not _found(tool)]
    if not missing:
        return []
    if os.geteuid() != 0:
        pytest.fail(f"the container tests need {', '.join(missing)}: run them as root")
    _apt_install(missing)
    still = [tool for tool in PACKAGES if not _found(tool)]
    if still:
        pytest.fail(f"still missing after apt-get install: {', '.join(still)}")
    return missing


def _found(tool: str) -> bool:
    return shutil.which(tool) is not None or any(
        os.access(f"{d}/{tool}", os.X_OK) for d in ("/usr/sbin", "/usr/bin", "/sbin")
    )


def engine_answers(docker: str, timeout: float = 10) -> bool:
    try:
        done = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


# --- host networking --------------------------------------------------------------------------


def _nft(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["nft", *args], input=stdin, capture_output=True, text=True)


def _tables() -> set[tuple[str, str]]:
    done = _nft("list", "tables")
    found = set()
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "table":
            found.add((parts[1], parts[2]))
    return found


def _link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


@dataclass
class HostNetwork:
    """What dockerd changes, as it was before it started."""

    ip_forward: str
    tables: set[tuple[str, str]]
    # The text of each docker table that existed already (restored as it was).
    saved_tables: dict[tuple[str, str], str] = field(default_factory=dict)
    docker0: bool = False

    @classmethod
    def capture(cls) -> HostNetwork:
        tables = _tables()
        saved = {t: _nft("list", "table", *t).stdout for t in tables & _DOCKER_TABLES}
        return cls(_IP_FORWARD.read_text().strip(), tables, saved, _link_exists("docker0"))

    def restore(self) -> list[str]:
        """Puts back what changed; returns what could not be put back."""
        problems = []
        for table in _DOCKER_TABLES & _tables():
            now = _nft("list", "table", *table).stdout
            if table in self.tables and now == self.saved_tables.get(table):
                continue
            done = _nft("delete", "table", *table)
            if done.returncode != 0:
                problems.append(f"nft delete table {' '.join(table)}: {done.stderr.strip()}")
            elif table in self.tables:
                done = _nft("-f", "-", stdin=self.saved_tables[table])
                if done.returncode != 0:
                    problems.append(f"nft restore {' '.join(table)}: {done.stderr.strip()}")
        if not self.docker0 and _link_exists("docker0"):
            done = subprocess.run(
                ["ip", "link", "delete", "docker0"], capture_output=True, text=True
            )
            if done.returncode != 0:
                problems.append(f"ip link delete docker0: {done.stderr.strip()}")
        if _IP_FORWARD.read_text().strip() != self.ip_forward:
            _IP_FORWARD.write_text(self.ip_forward)
        return problems


# --- the engine -------------------------------------------------------------------------------


@dataclass
class Engine:
    docker: str
    started_pid: int | None  # the dockerd this run started (None: one that was running already)
    log: Path | None
    installed: list[str] = field(default_factory=list)  # packages this run installed
    install_seconds: float = 0.0


def _log_tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # dockerd stops its containers and its containerd
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


@contextlib.contextmanager
def docker_engine(start_timeout: float = 60) -> Iterator[Engine]:
    """A docker engine that answers, for the duration of the block. Fails (never skips) when
    one cannot be installed or started."""
    started = time.monotonic()
    installed = ensure_packages()
    took = time.monotonic() - started
    docker = docker_cli()
    if engine_answers(docker):
        yield Engine(docker, None, None, installed, took)
        return
    if os.geteuid() != 0:
        pytest.fail("no docker engine answers, and only root can start one")
    saved = HostNetwork.capture()
    log = Path(tempfile.mkstemp(prefix="lbaas-dockerd-", suffix=".log")[1])
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [shutil.which("dockerd") or "/usr/sbin/dockerd"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + start_timeout
        while not engine_answers(docker, timeout=5):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"dockerd did not start (exit {proc.poll()}); its log, {log}:\n{_log_tail(log)}"
                )
            time.sleep(0.5)
        yield Engine(docker, proc.pid, log, installed, took)
    finally:
        _stop(proc)
        log.unlink(missing_ok=True)  # a failure to start quoted its tail already
        problems = saved.restore()
        if problems:
            pytest.fail("host networking not restored after dockerd: " + "; ".join(problems))
