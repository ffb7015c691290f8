"""Fixtures of the container tests (`make test-containers`; `make test` leaves this directory out).

The session builds the base image from Debian packages (kept between runs), the images, and the
compose stack of deploy/docker, and takes it all down at the end, failed or not (the base and
service images stay: they are the next run's cache). Build and start-up times are printed at the
end of the run.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.containers.engine import Engine, docker_engine
from tests.containers.stack import LONG_RUNNING, Compose, ensure_base_image

PROJECT = "lbaasci"
# Containers the tests start beside the stack (backends), removed by this label.
LABEL = f"lbaas-ci-project={PROJECT}"
TIMINGS: dict[str, str] = {}


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    with docker_engine() as running:
        if running.installed:
            TIMINGS["apt-get install " + " ".join(running.installed)] = (
                f"{running.install_seconds:.0f} s"
            )
        TIMINGS["docker engine"] = (
            f"started by the tests (pid {running.started_pid})"
            if running.started_pid
            else "already running"
        )
        yield running


def _remove_labelled(compose: Compose) -> None:
    ids = compose.docker("ps", "-aq", "--filter", f"label={LABEL}", check=False).stdout.split()
    if ids:
        compose.docker("rm", "-f", *ids, check=False)


def _down(compose: Compose) -> None:
    _remove_labelled(compose)
    compose.run("down", "-v", "--remove-orphans", "--timeout", "20", timeout=300, check=False)


@pytest.fixture(scope="session")
def compose(engine: Engine) -> Iterator[Compose]:
    stack = Compose(engine, PROJECT)
    _down(stack)  # what an interrupted run left
    try:
        took = ensure_base_image(stack)
        TIMINGS["base image from Debian packages"] = (
            f"{took:.0f} s" if took is not None else "kept from an earlier run"
        )
        started = time.monotonic()
        stack.run("build", timeout=1800)
        TIMINGS["image build (docker-compose build)"] = f"{time.monotonic() - started:.0f} s"
        started = time.monotonic()
        stack.run("up", "-d", "--no-build", timeout=900)
        up = time.monotonic() - started
        stack.wait_healthy(LONG_RUNNING, timeout=600)
        TIMINGS["stack start-up (up -d until every container is healthy)"] = (
            f"{time.monotonic() - started:.0f} s (up -d returned after {up:.0f} s)"
        )
        yield stack
    finally:
        logs = Path(tempfile.gettempdir()) / f"{PROJECT}-compose.log"
        logs.write_text(stack.logs(tail=2000))
        TIMINGS["compose logs"] = str(logs)
        _down(stack)


@pytest.fixture
def labelled_run(compose: Compose) -> Iterator:
    """Starts a container on the stack's network: run(name, image, *command) -> its address."""
    started: list[str] = []

    def run(name: str, image: str, *command: str) -> str:
        container = f"{PROJECT}-{name}"
        compose.docker(
            "run", "-d", "--name", container, "--label", LABEL, "--network", compose.network,
            image, *command,
        )  # fmt: skip
        started.append(container)
        return compose.address(container)

    yield run
    if started:
        compose.docker("rm", "-f", *started, check=False)


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("container stack")
    for what, value in TIMINGS.items():
        terminalreporter.write_line(f"{what}: {value}")
    logs = Path(TIMINGS.get("compose logs", "/nonexistent"))
    if (
        terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")
    ) and logs.exists():
        terminalreporter.section("compose logs (last 150 lines)")
        for line in logs.read_text(errors="replace").splitlines()[-150:]:
            terminalreporter.write_line(line)
