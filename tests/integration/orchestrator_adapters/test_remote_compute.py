"""The `remote` compute driver against the compute host, served in-process on a loopback port.

The worker and the compute host get run directories of their own, so nothing the amphora needs
can reach it through a shared file: the certificate, the heartbeat keys and settings cross the
wire or the test fails."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.common.errors import DomainError, InvalidInput, Unavailable
from services.common.internal_tls import (
    COMPUTE,
    HEALTH,
    WORKER,
    InternalTLS,
    ensure_internal_pki,
)
from services.health.domain.envelope import open_envelope, parse_key_file
from services.orchestrator.adapters.agent_client import GrpcAgentClient
from services.orchestrator.adapters.compute_local import parse_compute_id
from services.orchestrator.adapters.compute_remote import RemoteComputeDriver
from services.orchestrator.adapters.heartbeat_keys import agent_key_file, parse_master_keys
from services.orchestrator.compute_host.bootstrap import build_driver
from services.orchestrator.compute_host.config import Settings
from services.orchestrator.compute_host.server import serve
from services.orchestrator.domain.ports import AgentInfo, AmphoraSpec, ComputeInstance
from tests.integration.orchestrator_adapters.test_local_compute_driver import STAND_IN

AMPHORA_ID = "5b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
MASTER_KEYS = f"k1 {'ab' * 32}\n"
ROTATED_KEYS = f"k2 {'cd' * 32}\nk1 {'ab' * 32}\n"


@contextlib.asynccontextmanager
async def compute_host(
    run_dir: Path,
    *,
    agent_host: str = "127.0.0.1",
    python: str = sys.executable,
    tls: InternalTLS | None = None,
) -> AsyncIterator[str]:
    """The compute host on a free loopback port; its address."""
    settings = Settings(bind_address="127.0.0.1:0", agent_host=agent_host, run_dir=run_dir, tls=tls)
    server, port = await serve(settings, driver=build_driver(settings, python))
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


@pytest.fixture
def worker_run(work_dir: Path) -> Path:
    """The worker's run directory: the master heartbeat keys live here only."""
    path = work_dir / "worker"
    path.mkdir()
    (path / "heartbeat.keys").write_text(MASTER_KEYS)
    return path


@pytest.fixture
def host_run(work_dir: Path) -> Path:
    path = work_dir / "host"
    path.mkdir()
    return path


@pytest.fixture
def heartbeat_socket() -> Iterator[socket.socket]:
    """Where the amphora under test sends its heartbeats."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(15)
        yield sock


def _spec(ca, amphora_id: str = AMPHORA_ID) -> AmphoraSpec:
    return AmphoraSpec(
        amphora_id=amphora_id,
        loadbalancer_id="lb-1",
        backend_type="haproxy",
        vip_address="127.30.2.1",
        certificate=ca.issue_amphora_certificate(amphora_id),
    )


def _remote(address: str, worker_run: Path, targets, **kwargs) -> RemoteComputeDriver:
    return RemoteComputeDriver(address, targets, worker_run / "heartbeat.keys", 0.2, **kwargs)


async def _wait_for_agent(
    agents: GrpcAgentClient, driver: RemoteComputeDriver, instance: ComputeInstance, log: Path
) -> AgentInfo:
    deadline = time.monotonic() + 30
    while True:
        try:
            return await agents.get_info(instance.agent_address, AMPHORA_ID)
        except Unavailable:
            if time.monotonic() > deadline or not await driver.is_alive(instance.compute_id):
                pytest.fail(f"agent never answered GetInfo; its log:\n{log.read_text()}")
            await asyncio.sleep(0.2)


def _first_heartbeat(sock: socket.socket, master_keys: str):
    """The first datagram, verified as the health service verifies it (its own key)."""
    data = sock.recv(65535)
    return open_envelope(data, parse_key_file(master_keys))


def _session_members(session_id: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != session_id:
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except FileNotFoundError:
                continue
            if fields[3] == str(session_id) and fields[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


def test_an_amphora_runs_on_the_compute_host_reports_and_goes(
    ca, janitor, worker_run, host_run, heartbeat_socket
):
    target = f"127.0.0.1:{heartbeat_socket.getsockname()[1]}"
    amphora_dir = host_run / "amphorae" / AMPHORA_ID

    async def scenario():
        async with compute_host(host_run) as address:
            driver = _remote(address, worker_run, target)
            agents = GrpcAgentClient(ca, timeout=2)
            try:
                instance = await driver.create_amphora(_spec(ca))
                janitor.track_compute_id(instance.compute_id)
                assert instance.agent_address.startswith("127.0.0.1:")
                assert instance.details["amphora_dir"] == str(amphora_dir)

                # A real agent, over mutual TLS with the certificate the worker's CA issued.
                info = await _wait_for_agent(agents, driver, instance, amphora_dir / "agent.log")
                assert (info.amphora_id, info.backend_type) == (AMPHORA_ID, "haproxy")
                assert info.haproxy_version.startswith("2.")
                assert await driver.is_alive(instance.compute_id)

                # Its heartbeats go where the worker said, signed with the key the worker
                # derived; the master keys never left the worker.
                beat = await asyncio.to_thread(_first_heartbeat, heartbeat_socket, MASTER_KEYS)
                assert beat.amphora_id == AMPHORA_ID
                master_hex = MASTER_KEYS.split()[1].encode()
                on_host = [p for p in host_run.rglob("*") if p.is_file()]
                assert (amphora_dir / "heartbeat.key") in on_host
                assert not [p for p in on_host if master_hex in p.read_bytes()]

                # A rotation of the master keys reaches the agent's key file on the host.
                (worker_run / "heartbeat.keys").write_text(ROTATED_KEYS)
                assert await driver.sync_heartbeat_keys() == 1
                assert (amphora_dir / "heartbeat.key").read_bytes() == agent_key_file(
                    parse_master_keys(ROTATED_KEYS), AMPHORA_ID
                )
                assert await driver.sync_heartbeat_keys() == 0

                pid = parse_compute_id(instance.compute_id)[0]
                await driver.delete_amphora(AMPHORA_ID, instance.compute_id)
                assert not await driver.is_alive(instance.compute_id)
                assert _session_members(pid) == []  # its haproxy went with it
                assert not amphora_dir.exists()
            finally:
                await agents.close()
                await driver.close()

    asyncio.run(scenario())


def test_errors_on_the_compute_host_come_back_as_the_same_domain_errors(
    ca, janitor, worker_run, host_run, udp_port
):
    direct = build_driver(Settings("127.0.0.1:0", "127.0.0.1", host_run))

    async def scenario():
        driver: RemoteComputeDriver | None = None
        try:
            async with compute_host(host_run) as address:
                driver = _remote(address, worker_run, f"127.0.0.1:{udp_port}", query_timeout=2)
                # The local driver's own error, raised on the host, is the caller's.
                with pytest.raises(InvalidInput) as here:
                    await direct.delete_amphora("../escape", "")
                with pytest.raises(InvalidInput) as there:
                    await driver.delete_amphora("../escape", "")
                assert (there.value.user_message, there.value.field) == (
                    here.value.user_message,
                    here.value.field,
                )

                # An agent that cannot start: the operator sees its log, and which host said so.
                bogus = dataclasses.replace(_spec(ca, "amp-bogus"), backend_type="bogus")
                with pytest.raises(Unavailable) as err:
                    await driver.create_amphora(bogus)
                assert err.value.user_message == "amphora agent exited during start"
                assert err.value.operator_detail.startswith(f"compute host at {address}: ")
                assert "invalid choice: 'bogus'" in err.value.operator_detail

                # Master keys the worker cannot read: refused before the host is asked.
                (worker_run / "heartbeat.keys").write_text("k1 not-hex\n")
                with pytest.raises(Unavailable) as err:
                    await driver.create_amphora(_spec(ca, "amp-no-keys"))
                assert "heartbeat key file" in err.value.operator_detail
                assert not (host_run / "amphorae" / "amp-no-keys").exists()

            # The host is gone: whether an amphora lives is unknown, which is not "dead".
            with pytest.raises(Unavailable):
                await driver.is_alive("1234:5678")
        finally:
            if driver is not None:
                await driver.close()

    asyncio.run(scenario())


def test_the_agent_starts_with_the_workers_settings_where_workers_reach_it(
    ca, work_dir, janitor, worker_run, host_run
):
    stand_in = work_dir / "fake-agent"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    amphora_id = "amp-wire"
    amphora_dir = host_run / "amphorae" / amphora_id
    spec = _spec(ca, amphora_id)

    async def scenario():
        async with compute_host(
            host_run, agent_host="compute-1.test", python=str(stand_in)
        ) as address:
            driver = _remote(address, worker_run, ("health:9893", "health-2:9903"))
            try:
                instance = await driver.create_amphora(spec)
                janitor.track_compute_id(instance.compute_id)
                # What the stand-in was started with, and the files it got.
                argv = json.loads((amphora_dir / "standin.json").read_text())["argv"]
                files = {
                    name: (amphora_dir / name).read_bytes()
                    for name in ("heartbeat.key", "agent.crt", "agent.key", "ca.crt")
                }
                key_mode = (amphora_dir / "heartbeat.key").stat().st_mode & 0o777
                await driver.delete_amphora(amphora_id, instance.compute_id)
            finally:
                await driver.close()
        return instance, argv, files, key_mode

    instance, argv, files, key_mode = asyncio.run(scenario())

    def values(flag: str) -> list[str]:
        return [argv[i + 1] for i, a in enumerate(argv) if a == flag]

    host, _, port = instance.agent_address.rpartition(":")
    assert host == "compute-1.test"  # as the workers reach it
    assert values("--listen") == [f"0.0.0.0:{port}"]  # a name: on every interface
    assert values("--heartbeat-target") == ["health:9893", "health-2:9903"]
    assert values("--heartbeat-interval") == ["0.2"]
    assert files["heartbeat.key"] == agent_key_file(parse_master_keys(MASTER_KEYS), amphora_id)
    assert key_mode == 0o600
    assert files["agent.crt"] == spec.certificate.cert_pem
    assert files["agent.key"] == spec.certificate.key_pem
    assert files["ca.crt"] == spec.certificate.ca_pem


def test_the_driver_takes_the_internal_mutual_tls(work_dir, worker_run, host_run, udp_port):
    tls_dir = ensure_internal_pki(work_dir / "internal-tls")
    target = f"127.0.0.1:{udp_port}"

    def as_identity(address: str, identity: str) -> RemoteComputeDriver:
        return _remote(
            address,
            worker_run,
            target,
            query_timeout=2,
            tls=InternalTLS(tls_dir, identity),
        )

    async def scenario():
        async with compute_host(host_run, tls=InternalTLS(tls_dir, COMPUTE)) as address:
            worker = as_identity(address, WORKER)
            health = as_identity(address, HEALTH)
            plaintext = _remote(address, worker_run, target, query_timeout=2)
            try:
                assert await worker.is_alive("not-a-compute-id") is False
                with pytest.raises(DomainError):  # PERMISSION_DENIED: not a caller of compute
                    await health.is_alive("not-a-compute-id")
                with pytest.raises(Unavailable):  # no handshake, no call
                    await plaintext.is_alive("not-a-compute-id")
            finally:
                for driver in (worker, health, plaintext):
                    await driver.close()

    asyncio.run(scenario())
