"""LocalComputeDriver's process handling, proven with a stand-in agent script.

The stand-in accepts the agent's command line, writes agent.pid, listens on the agent port and
runs a "haproxy" child, like the real agent, so the driver is tested whatever state the real
agent is in (test_local_compute_real_agent.py runs the real one when it exists).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from services.common.errors import Unavailable
from services.health.domain.amphora_keys import derive_amphora_key
from services.health.domain.envelope import parse_key_file
from services.orchestrator.adapters.agent_noop import NoopAgentClient
from services.orchestrator.adapters.compute_local import (
    LocalComputeDriver,
    parse_compute_id,
    stop_all,
)
from services.orchestrator.bootstrap import build
from services.orchestrator.domain.ports import AmphoraSpec, run_dir_amphora_path
from tests.integration.orchestrator.orch_fakes import make_settings

MASTER_KEY = bytes.fromhex("ab" * 32)

STAND_IN = textwrap.dedent(
    f"""\
    #!{sys.executable}
    import argparse, json, os, signal, socket, subprocess, sys, time
    from pathlib import Path

    p = argparse.ArgumentParser()
    p.add_argument("-m", dest="module", required=True)
    for flag in ("amphora-id", "listen", "tls-cert", "tls-key", "client-ca", "runtime-dir",
                 "heartbeat-target", "heartbeat-key-file", "heartbeat-interval", "backend"):
        p.add_argument("--" + flag, required=True)
    p.add_argument("--nft-bin", required=True)  # "": no Drain in the host's namespace
    args = p.parse_args()
    assert args.module == "amphora_agent", args.module
    runtime = Path(args.runtime_dir)
    # How to behave: a file beside the script (the agent gets none of the test's environment).
    mode_file = Path(sys.argv[0]).with_name("standin-mode")
    mode = mode_file.read_text() if mode_file.exists() else ""
    if mode == "crash":
        print("boom: cannot start", file=sys.stderr, flush=True)
        sys.exit(3)
    host, _, port = args.listen.rpartition(":")
    listener = socket.socket()
    listener.bind((host, int(port)))
    listener.listen()
    # The "haproxy": its own process group, still in the agent's session.
    haproxy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                               process_group=0)
    (runtime / "haproxy.pid").write_text(str(haproxy.pid))
    (runtime / "standin.json").write_text(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(),
        "environ": dict(os.environ)}}))
    if mode == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        def stop(signum, frame):
            haproxy.terminate()
            haproxy.wait()
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
    (runtime / "agent.pid").write_text(str(os.getpid()))
    while True:
        time.sleep(3600)
    """
)


@pytest.fixture
def stand_in(work_dir: Path) -> str:
    path = work_dir / "fake-agent"
    path.write_text(STAND_IN)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def run_dir(work_dir: Path) -> Path:
    path = work_dir / "run"
    path.mkdir()
    (path / "heartbeat.keys").write_text(f"k1 {MASTER_KEY.hex()}\n")
    return path


def _driver(run_dir: Path, python: str, **kwargs) -> LocalComputeDriver:
    return LocalComputeDriver(
        run_dir, "127.0.0.1:9", run_dir / "heartbeat.keys", 0.5, python=python, **kwargs
    )


def _spec(ca, amphora_id: str, agent_port: int | None = None) -> AmphoraSpec:
    return AmphoraSpec(
        amphora_id=amphora_id,
        loadbalancer_id="lb-1",
        backend_type="haproxy",
        vip_address="127.30.0.5",
        certificate=ca.issue_amphora_certificate(amphora_id),
        agent_port=agent_port,
    )


def _exists(pid: int) -> bool:
    """Running, as opposed to gone or a zombie nobody reaped yet."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return text.rpartition(")")[2].split()[0] not in ("Z", "X")


def _pid(compute_id: str) -> int:
    return parse_compute_id(compute_id)[0]


def test_create_is_alive_delete(ca, run_dir, stand_in, janitor):
    driver = _driver(run_dir, stand_in)

    async def scenario():
        instance = await driver.create_amphora(_spec(ca, "amp-a"))
        janitor.track_compute_id(instance.compute_id)
        pid = _pid(instance.compute_id)
        amphora_dir = run_dir_amphora_path(run_dir, "amp-a")
        port = int(instance.details["port"])
        assert instance.agent_address == f"127.0.0.1:{port}"

        # The command line, certificates and environment the agent gets.
        recorded = json.loads((amphora_dir / "standin.json").read_text())
        argv = recorded["argv"]
        flags = dict(zip(argv[2::2], argv[3::2], strict=True))
        assert argv[:2] == ["-m", "amphora_agent"]
        assert flags == {
            "--amphora-id": "amp-a",
            "--listen": instance.agent_address,
            "--tls-cert": str(amphora_dir / "agent.crt"),
            "--tls-key": str(amphora_dir / "agent.key"),
            "--client-ca": str(amphora_dir / "ca.crt"),
            "--runtime-dir": str(amphora_dir),
            "--heartbeat-target": "127.0.0.1:9",
            "--heartbeat-key-file": str(amphora_dir / "heartbeat.key"),
            "--heartbeat-interval": "0.5",
            "--backend": "haproxy",
            "--nft-bin": "",
        }
        repo_root = Path(__file__).resolve().parents[3]
        assert recorded["cwd"] == str(repo_root)
        assert str(repo_root) in recorded["environ"]["PYTHONPATH"].split(os.pathsep)
        assert (amphora_dir / "agent.key").stat().st_mode & 0o777 == 0o600
        # Its own heartbeat key, never the master file (heartbeat_keys.py).
        key_file = amphora_dir / "heartbeat.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        ring = parse_key_file(key_file.read_text())
        assert dict(ring.keys) == {"k1": derive_amphora_key(MASTER_KEY, "amp-a")}
        assert MASTER_KEY.hex() not in key_file.read_text()
        assert (amphora_dir / "ca.crt").read_bytes() == ca.ca_certificate_pem()
        assert b"BEGIN CERTIFICATE" in (amphora_dir / "agent.crt").read_bytes()
        assert (amphora_dir / "agent.pid").read_text() == str(pid)

        # Detached: its own session and process group, not the orchestrator's.
        assert os.getsid(pid) == pid != os.getsid(0)
        assert os.getpgid(pid) == pid != os.getpgid(0)

        assert await driver.is_alive(instance.compute_id)
        start_time = parse_compute_id(instance.compute_id)[1]
        assert not await driver.is_alive(f"{pid}:{start_time + 1}")  # pid reused by another
        assert not await driver.is_alive("garbage")

        haproxy = int((amphora_dir / "haproxy.pid").read_text())
        assert _exists(haproxy)
        await driver.delete_amphora("amp-a", instance.compute_id)
        assert not _exists(pid) and not _exists(haproxy)
        assert not Path(f"/proc/{pid}").exists()  # reaped, not left a zombie
        assert not amphora_dir.exists()
        assert not await driver.is_alive(instance.compute_id)

        # Idempotent: again, and with nothing at all left.
        await driver.delete_amphora("amp-a", instance.compute_id)
        await driver.delete_amphora("amp-never", "")
        await driver.delete_amphora("amp-never", "123:456")

    asyncio.run(scenario())


def test_wrong_start_time_is_never_signalled(ca, run_dir, stand_in, janitor):
    driver = _driver(run_dir, stand_in)

    async def scenario():
        instance = await driver.create_amphora(_spec(ca, "amp-b"))
        janitor.track_compute_id(instance.compute_id)
        pid = _pid(instance.compute_id)
        # Another amphora's record names this pid with another start time: deleting that
        # amphora must not touch this process.
        await driver.delete_amphora("amp-other", f"{pid}:1")
        assert await driver.is_alive(instance.compute_id)
        await driver.delete_amphora("amp-b", instance.compute_id)
        assert not _exists(pid)

    asyncio.run(scenario())


def test_agent_port_preference(ca, run_dir, stand_in, janitor):
    driver = _driver(run_dir, stand_in)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        wanted = probe.getsockname()[1]
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = busy.getsockname()[1]

    async def scenario():
        first = await driver.create_amphora(_spec(ca, "amp-c", agent_port=wanted))
        janitor.track_compute_id(first.compute_id)
        assert first.agent_address == f"127.0.0.1:{wanted}"
        second = await driver.create_amphora(_spec(ca, "amp-d", agent_port=taken))
        janitor.track_compute_id(second.compute_id)
        assert second.details["port"] != str(taken)
        # The stand-in listens on the port it was given, so the choice really was free.
        with socket.create_connection(("127.0.0.1", int(second.details["port"])), timeout=2):
            pass
        for amphora_id, instance in (("amp-c", first), ("amp-d", second)):
            await driver.delete_amphora(amphora_id, instance.compute_id)

    try:
        asyncio.run(scenario())
    finally:
        busy.close()


def test_agent_gets_only_the_environment_it_needs(ca, run_dir, stand_in, janitor, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://lbaas:s3cret@db/lbaas")
    monkeypatch.setenv("LBAAS_SECRET", "s3cret")
    monkeypatch.setenv("LBAAS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("LBAAS_LOG_FORMAT", "json")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("PYTHONPATH", "/opt/extra")
    # Tracing: the agent's spans go where the orchestrator's go.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    monkeypatch.setenv("LBAAS_TRACE_EXPORTER", "file")
    monkeypatch.delenv("LBAAS_TRACE_FILE", raising=False)
    driver = _driver(run_dir, stand_in)

    async def scenario():
        instance = await driver.create_amphora(_spec(ca, "amp-env"))
        janitor.track_compute_id(instance.compute_id)
        recorded = json.loads(
            (run_dir_amphora_path(run_dir, "amp-env") / "standin.json").read_text()
        )
        await driver.delete_amphora("amp-env", instance.compute_id)
        return recorded["environ"]

    env = asyncio.run(scenario())
    assert "DATABASE_URL" not in env and "LBAAS_SECRET" not in env
    assert "s3cret" not in json.dumps(env)
    assert env["LBAAS_LOG_LEVEL"] == "DEBUG"  # the agent reads it
    assert env["LBAAS_LOG_FORMAT"] == "json"  # and this
    assert (env["LC_ALL"], env["TZ"], env["PATH"]) == ("C.UTF-8", "UTC", os.environ["PATH"])
    repo_root = Path(__file__).resolve().parents[3]
    assert env["PYTHONPATH"].split(os.pathsep) == [
        str(repo_root),
        str(repo_root / "protos"),
        "/opt/extra",
    ]
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4317"
    assert env["LBAAS_TRACE_EXPORTER"] == "file"
    # Spans of agents beside the services' (<run dir>/traces), not in the amphora's directory.
    assert env["LBAAS_TRACE_FILE"] == str(Path(run_dir) / "traces" / "amphora-agent.jsonl")
    allowed = {"PATH", "PYTHONPATH", "LANG", "TZ", "HOME", "LBAAS_LOG_LEVEL", "LBAAS_LOG_FORMAT"}
    prefixes = ("LC_", "OTEL_", "LBAAS_TRACE_")
    assert {name for name in env if not name.startswith(prefixes)} <= allowed


def _standin_mode(stand_in: str, mode: str) -> None:
    Path(stand_in).with_name("standin-mode").write_text(mode)


def test_sigterm_ignored_means_sigkill_for_the_whole_session(ca, run_dir, stand_in, janitor):
    _standin_mode(stand_in, "ignore-term")
    driver = _driver(run_dir, stand_in, stop_timeout=0.5)

    async def scenario():
        instance = await driver.create_amphora(_spec(ca, "amp-e"))
        janitor.track_compute_id(instance.compute_id)
        pid = _pid(instance.compute_id)
        haproxy = int((run_dir_amphora_path(run_dir, "amp-e") / "haproxy.pid").read_text())
        started = time.monotonic()
        await driver.delete_amphora("amp-e", instance.compute_id)
        assert time.monotonic() - started < 5
        assert not _exists(pid)
        # The child was in another process group, so only the session sweep could kill it.
        deadline = time.monotonic() + 5
        while _exists(haproxy) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not _exists(haproxy)

    asyncio.run(scenario())


def test_agent_that_dies_at_start_is_reported(ca, run_dir, stand_in, janitor):
    _standin_mode(stand_in, "crash")
    driver = _driver(run_dir, stand_in)

    async def scenario():
        with pytest.raises(Unavailable) as err:
            await driver.create_amphora(_spec(ca, "amp-f"))
        assert "boom: cannot start" in err.value.operator_detail
        assert "exit status 3" in err.value.operator_detail
        await driver.delete_amphora("amp-f", "")
        assert not run_dir_amphora_path(run_dir, "amp-f").exists()

    asyncio.run(scenario())


def test_agent_heartbeat_keys_follow_a_rotation_of_the_master_file(ca, run_dir, stand_in, janitor):
    driver = _driver(run_dir, stand_in)
    master_file = run_dir / "heartbeat.keys"

    def agent_keys(amphora_id: str) -> tuple[str, dict[str, bytes]]:
        ring = parse_key_file(
            (run_dir_amphora_path(run_dir, amphora_id) / "heartbeat.key").read_text()
        )
        return ring.signing_key_id, dict(ring.keys)

    async def scenario():
        for amphora_id in ("amp-r1", "amp-r2"):
            instance = await driver.create_amphora(_spec(ca, amphora_id))
            janitor.track_compute_id(instance.compute_id)
        # An amphora started by an orchestrator from before per-amphora keys: no key file.
        old = run_dir_amphora_path(run_dir, "amp-old")
        old.mkdir()
        assert await driver.sync_heartbeat_keys() == 0

        new_key = bytes.fromhex("cd" * 32)
        master_file.write_text(f"k2 {new_key.hex()}\nk1 {MASTER_KEY.hex()}\n")
        assert await driver.sync_heartbeat_keys() == 2
        for amphora_id in ("amp-r1", "amp-r2"):
            assert agent_keys(amphora_id) == (
                "k2",
                {
                    "k2": derive_amphora_key(new_key, amphora_id),
                    "k1": derive_amphora_key(MASTER_KEY, amphora_id),
                },
            )
            path = run_dir_amphora_path(run_dir, amphora_id) / "heartbeat.key"
            assert path.stat().st_mode & 0o777 == 0o600
        assert list(old.iterdir()) == []
        assert await driver.sync_heartbeat_keys() == 0

        # A broken edit of the master file: no agent loses its keys, no amphora is created.
        master_file.write_text("k2 not-hex\n")
        with pytest.raises(Unavailable):
            await driver.sync_heartbeat_keys()
        assert agent_keys("amp-r1")[0] == "k2"
        with pytest.raises(Unavailable) as err:
            await driver.create_amphora(_spec(ca, "amp-r3"))
        assert "heartbeat.keys" in err.value.operator_detail
        assert not (run_dir_amphora_path(run_dir, "amp-r3") / "agent.pid").exists()

        for amphora_id in ("amp-r1", "amp-r2"):
            await driver.delete_amphora(amphora_id, "")

    asyncio.run(scenario())


def test_create_again_replaces_the_running_agent(ca, run_dir, stand_in, janitor):
    driver = _driver(run_dir, stand_in)

    async def scenario():
        first = await driver.create_amphora(_spec(ca, "amp-g"))
        janitor.track_compute_id(first.compute_id)
        applied = run_dir_amphora_path(run_dir, "amp-g") / "conf" / "haproxy.cfg"
        applied.parent.mkdir()
        applied.write_text("last applied config")
        second = await driver.create_amphora(_spec(ca, "amp-g"))
        janitor.track_compute_id(second.compute_id)
        assert not await driver.is_alive(first.compute_id)
        assert await driver.is_alive(second.compute_id)
        assert applied.read_text() == "last applied config"  # the agent can resume it
        # A compute id that was never recorded: the pid file still finds the agent.
        await driver.delete_amphora("amp-g", "")
        assert not await driver.is_alive(second.compute_id)

    asyncio.run(scenario())


def test_killed_agent_is_not_alive_and_is_reaped(ca, run_dir, stand_in, janitor):
    driver = _driver(run_dir, stand_in)

    async def scenario():
        instance = await driver.create_amphora(_spec(ca, "amp-h"))
        janitor.track_compute_id(instance.compute_id)
        pid = _pid(instance.compute_id)
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while await driver.is_alive(instance.compute_id):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists()
        await driver.delete_amphora("amp-h", instance.compute_id)

    asyncio.run(scenario())


def test_stop_all_stops_agents_and_keeps_their_directories(ca, run_dir, stand_in, janitor):
    driver = _driver(run_dir, stand_in)
    # A pid file pointing at a process that is not that amphora's agent must be left alone.
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    janitor.track(decoy.pid)
    decoy_dir = run_dir / "amphorae" / "amp-decoy"
    decoy_dir.mkdir(parents=True)
    (decoy_dir / "agent.pid").write_text(str(decoy.pid))

    async def create():
        instances = [await driver.create_amphora(_spec(ca, f"amp-{n}")) for n in ("i", "j")]
        for instance in instances:
            janitor.track_compute_id(instance.compute_id)
        return instances

    instances = asyncio.run(create())
    pids = sorted(_pid(i.compute_id) for i in instances)
    assert sorted(stop_all(run_dir, timeout=5)) == pids
    for pid in pids:
        assert not _exists(pid)
    assert decoy.poll() is None
    assert (run_dir / "amphorae" / "amp-i" / "agent.crt").exists()
    assert stop_all(run_dir, timeout=1) == []  # nothing left to stop
    decoy.kill()
    decoy.wait()


CRASHING_ORCHESTRATOR = """
import asyncio, json, sys
from pathlib import Path
from services.orchestrator.adapters.compute_local import LocalComputeDriver
from services.orchestrator.adapters.pki import FileCertificateAuthority
from services.orchestrator.domain.ports import AmphoraSpec

run_dir, stand_in = Path(sys.argv[1]), sys.argv[2]
ca = FileCertificateAuthority(run_dir / "ca")
keys = run_dir / "heartbeat.keys"
driver = LocalComputeDriver(run_dir, "127.0.0.1:9", keys, 0.5, python=stand_in)
spec = AmphoraSpec("amp-k", "lb-1", "haproxy", "127.30.0.6", ca.issue_amphora_certificate("amp-k"))
instance = asyncio.run(driver.create_amphora(spec))
print(json.dumps({"compute_id": instance.compute_id}), flush=True)
import time
time.sleep(3600)
"""


def test_agent_survives_the_orchestrator_being_killed(run_dir, stand_in, janitor):
    repo_root = Path(__file__).resolve().parents[3]
    orchestrator = subprocess.Popen(
        [sys.executable, "-c", CRASHING_ORCHESTRATOR, str(run_dir), stand_in],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    janitor.track(orchestrator.pid)
    try:
        line = orchestrator.stdout.readline()
        assert line, "the orchestrator process did not report a compute id"
        compute_id = json.loads(line)["compute_id"]
        janitor.track_compute_id(compute_id)
        # The whole orchestrator process group dies at once, as on a crash or Ctrl-C.
        os.killpg(orchestrator.pid, signal.SIGKILL)
        orchestrator.wait(timeout=10)
    finally:
        orchestrator.stdout.close()

    driver = _driver(run_dir, stand_in)  # the restarted orchestrator

    async def scenario():
        await asyncio.sleep(0.3)
        assert await driver.is_alive(compute_id)
        # Not our child any more: delete still works (no waitpid on a stranger).
        await driver.delete_amphora("amp-k", compute_id)
        assert not await driver.is_alive(compute_id)

    asyncio.run(scenario())


def test_housekeeping_rewrites_agent_heartbeat_keys_after_a_rotation(
    ca, run_dir, stand_in, janitor, database_url
):
    driver = _driver(run_dir, stand_in)
    # Spares and certificates find no schema in this empty database: logged, and skipped.
    orch = build(
        make_settings(database_url, run_dir),
        compute=driver,
        agent=NoopAgentClient(),
        renderer=object(),  # type: ignore[arg-type]
        ca=ca,
    )

    async def scenario():
        instance = await driver.create_amphora(_spec(ca, "amp-h"))
        janitor.track_compute_id(instance.compute_id)
        new_key = bytes.fromhex("ef" * 32)
        (run_dir / "heartbeat.keys").write_text(f"k2 {new_key.hex()}\n")
        assert (await orch.housekeeper.run_once())["heartbeat keys"] == 1
        key_file = run_dir_amphora_path(run_dir, "amp-h") / "heartbeat.key"
        ring = parse_key_file(key_file.read_text())
        assert dict(ring.keys) == {"k2": derive_amphora_key(new_key, "amp-h")}
        await driver.delete_amphora("amp-h", instance.compute_id)

    try:
        asyncio.run(scenario())
    finally:
        orch.engine.dispose()
