"""NetnsComputeDriver with real namespaces, a real bridge and the real amphora agent.

Each test has its own bridge (lbt-<6 hex>), a /22 that no route of the host overlaps and a temp
run dir; whatever it made is removed at teardown, also when it failed, without relying on the
driver: processes in the namespaces are killed, then namespaces, veths and the bridge deleted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from services.common.errors import Unavailable
from services.orchestrator.adapters.agent_client import GrpcAgentClient
from services.orchestrator.adapters.compute_netns import (
    AGENT_PORT,
    NetnsComputeDriver,
    bridge_mac,
    host_veth_name,
    namespace_name,
    remove_orphans,
    stop_all,
)
from services.orchestrator.adapters.pki import FileCertificateAuthority
from services.orchestrator.domain.netns_layout import NetnsLayout
from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance

REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 (`ip`) is not installed"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="the agent needs haproxy"),
]

# The machine is slow (2 cores, other tests running): waits are generous, and all bounded.
WAIT = 60.0


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


def _namespaces() -> set[str]:
    return {line.split()[0] for line in _ip("netns", "list").stdout.splitlines() if line.strip()}


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _addresses(namespace: str) -> set[str]:
    out = json.loads(_ip("-n", namespace, "-j", "addr", "show", "dev", "eth0").stdout)
    return {f"{a['local']}/{a['prefixlen']}" for a in out[0]["addr_info"] if a["family"] == "inet"}


def _processes_naming(text: str) -> list[int]:
    """Live (not zombie) processes whose command line mentions text."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            cmdline = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if state not in ("Z", "X") and text in cmdline:
            found.append(int(entry.name))
    return found


def _free_cidr() -> str:
    """A /22 in 10.200.0.0-10.254.255.255 that no route or address of the host overlaps."""
    taken = []
    for line in _ip("-4", "route", "show", "table", "all").stdout.splitlines():
        dst = line.split()[0] if line.split() else ""
        if dst[0:1].isdigit():
            taken.append(ipaddress.ip_network(dst, strict=False))
    for line in _ip("-4", "-o", "addr").stdout.splitlines():
        taken.append(ipaddress.ip_interface(line.split()[3]).network)
    for _ in range(200):
        candidate = ipaddress.ip_network(
            f"10.{random.randint(200, 254)}.{random.randrange(0, 256, 4)}.0/22"
        )
        if not any(candidate.overlaps(net) for net in taken):
            return str(candidate)
    raise RuntimeError("no free /22 for the test bridge")


@dataclass
class NetEnv:
    work: Path
    bridge: str
    layout: NetnsLayout
    key_file: Path
    ca: FileCertificateAuthority
    namespaces: set[str] = field(default_factory=set)  # everything the test may have made
    veths: set[str] = field(default_factory=set)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def run_dir(self) -> Path:
        return self.work / "run"

    def driver(self) -> NetnsComputeDriver:
        return NetnsComputeDriver(
            self.run_dir,
            f"{self.layout.host_address}:9",  # nobody listens: the heartbeats are not checked
            self.key_file,
            0.5,
            bridge=self.bridge,
            layout=self.layout,
            startup_timeout=WAIT,
        )

    def track(self, amphora_id: str) -> str:
        self.namespaces.add(namespace_name(amphora_id))
        self.veths.add(host_veth_name(amphora_id))
        return amphora_id

    def spec(self, amphora_id: str) -> AmphoraSpec:
        return AmphoraSpec(
            amphora_id=self.track(amphora_id),
            loadbalancer_id="lb-1",
            backend_type="haproxy",
            vip_address=self.layout.vips.first,
            certificate=self.ca.issue_amphora_certificate(amphora_id),
        )

    def exec_in(self, namespace: str, *argv: str) -> subprocess.Popen[bytes]:
        """A long-lived process inside namespace, killed at teardown."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def cleanup(self) -> None:
        for namespace in sorted(self.namespaces & _namespaces()):
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                pids = _ip("netns", "pids", namespace, check=False).stdout.split()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.1)
            _ip("netns", "del", namespace, check=False)
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=WAIT)
        for link in sorted(self.veths) + [self.bridge]:
            if _link_exists(link):
                _ip("link", "del", link, check=False)
        for pid in _processes_naming(str(self.work)):  # agents left by a failed test
            os.kill(pid, signal.SIGKILL)
        while True:  # reap the agents this process started
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        shutil.rmtree(self.work, ignore_errors=True)


@pytest.fixture
def env() -> Iterator[NetEnv]:
    work = Path(tempfile.mkdtemp(prefix="lbaas-netns-"))
    net = NetEnv(
        work=work,
        bridge=f"lbt-{secrets.token_hex(3)}",
        layout=NetnsLayout(_free_cidr()),
        key_file=work / "heartbeat.keys",
        ca=FileCertificateAuthority(work / "ca"),
    )
    try:
        net.key_file.write_text("k1 " + os.urandom(32).hex() + "\n")
        yield net
    finally:
        net.cleanup()
    assert not (net.namespaces & _namespaces())
    assert not _link_exists(net.bridge)


async def _wait_serving(
    client: GrpcAgentClient, driver: NetnsComputeDriver, instance: ComputeInstance, env: NetEnv
) -> None:
    amphora_id = instance.details["namespace"].removeprefix("lbaas-amp-")
    deadline = time.monotonic() + WAIT
    while True:
        try:
            info = await client.get_info(instance.agent_address, amphora_id)
            assert info.amphora_id == amphora_id
            return
        except Unavailable:
            if time.monotonic() > deadline or not await driver.is_alive(instance.compute_id):
                log = (env.run_dir / "amphorae" / amphora_id / "agent.log").read_text()
                pytest.fail(f"agent never answered GetInfo; its log:\n{log}")
            await asyncio.sleep(0.3)


def _fetch(url: str, timeout: float = WAIT) -> tuple[int, bytes]:
    """(status, body) of a GET, retried until it connects."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, b""
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _wait_listening(namespace: str, port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while not _ip("netns", "exec", namespace, "ss", "-Hltn", f"sport = :{port}").stdout.strip():
        assert server.poll() is None, "the HTTP server exited (could it not bind the VIP?)"
        assert time.monotonic() < deadline, "the HTTP server never listened"
        time.sleep(0.1)


def _http_server(env: NetEnv, namespace: str, vip: str, port: int, name: str):
    root = env.work / f"www-{name}"
    root.mkdir()
    (root / f"{name}.txt").write_text(name)
    return env.exec_in(
        namespace, sys.executable, "-m", "http.server", "--bind", vip, "--directory", str(root),
        str(port),
    )  # fmt: skip


def _mac(link: str) -> str:
    return json.loads(_ip("-j", "link", "show", link).stdout)[0]["address"]


def test_amphora_lifecycle_and_fencing(env):
    driver = env.driver()
    amphora_id = str(uuid.uuid4())
    namespace = namespace_name(amphora_id)
    veth = host_veth_name(amphora_id)
    lease_dir = env.run_dir / "netns" / "addresses"

    async def scenario():
        client = GrpcAgentClient(env.ca, timeout=5)
        try:
            instance = await driver.create_amphora(env.spec(amphora_id))
            address = instance.details["address"]
            assert address in env.layout.amphorae
            assert instance.agent_address == f"{address}:{AGENT_PORT}"
            assert instance.details["namespace"] == namespace
            assert instance.details["interface"] == "eth0"
            assert namespace in _namespaces()
            link = json.loads(_ip("-j", "link", "show", veth).stdout)[0]
            assert link["master"] == env.bridge and "UP" in link["flags"]
            # The bridge keeps the MAC it was given whatever ports come and go (else the
            # amphorae's ARP entries for the host go stale: heartbeats and answers are lost).
            assert _mac(env.bridge) == bridge_mac(env.bridge)
            assert _addresses(namespace) == {f"{address}/22"}
            sysctl = _ip("netns", "exec", namespace, "cat", "/proc/sys/net/ipv4/ip_nonlocal_bind")
            assert sysctl.stdout.strip() == "1"
            assert (lease_dir / address).read_text().strip() == amphora_id
            assert await driver.is_alive(instance.compute_id)
            await _wait_serving(client, driver, instance, env)  # from the host, over mTLS

            # Re-creating the amphora replaces its namespace and agent, and keeps its address.
            again = await driver.create_amphora(env.spec(amphora_id))
            assert again.details["address"] == address
            assert again.compute_id != instance.compute_id
            assert not await driver.is_alive(instance.compute_id)
            await _wait_serving(client, driver, again, env)

            stray = env.exec_in(namespace, "sleep", "1000")  # not the agent's: fencing kills it
            deadline = time.monotonic() + WAIT
            while str(stray.pid) not in _ip("netns", "pids", namespace).stdout.split():
                assert time.monotonic() < deadline, "sleep never entered the namespace"
                await asyncio.sleep(0.1)

            await driver.delete_amphora(amphora_id, again.compute_id)
            assert stray.wait(timeout=WAIT) == -signal.SIGKILL
            assert not await driver.is_alive(again.compute_id)
            assert namespace not in _namespaces()
            assert not _link_exists(veth)
            assert _mac(env.bridge) == bridge_mac(env.bridge)
            assert not (env.run_dir / "amphorae" / amphora_id).exists()
            assert list(lease_dir.iterdir()) == []
            assert _processes_naming(amphora_id) == []  # the agent and its haproxy too

            await driver.delete_amphora(amphora_id, again.compute_id)  # idempotent
            await driver.delete_amphora(amphora_id, "")
        finally:
            await client.close()

    asyncio.run(scenario())


def test_take_vip_moves_the_vip_and_the_hosts_traffic(env):
    driver = env.driver()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    ns_first, ns_second = namespace_name(first), namespace_name(second)
    vip = env.layout.vips.first
    cidr = f"{vip}/{env.layout.prefix_length}"
    port = random.randint(20000, 30000)

    async def scenario():
        a = await driver.create_amphora(env.spec(first))
        b = await driver.create_amphora(env.spec(second))
        assert a.details["address"] != b.details["address"]

        await driver.take_vip(first, vip, env.layout.prefix_length, [second, "gone-amphora"])
        assert cidr in _addresses(ns_first) and cidr not in _addresses(ns_second)
        _http_server(env, ns_first, vip, port, "first")
        assert _fetch(f"http://{vip}:{port}/first.txt") == (200, b"first")

        # The standby's server binds the VIP before it holds it (ip_nonlocal_bind).
        server = _http_server(env, ns_second, vip, port, "second")
        _wait_listening(ns_second, port, server)
        await driver.take_vip(second, vip, env.layout.prefix_length, [first])
        await driver.take_vip(second, vip, env.layout.prefix_length, [first])  # idempotent
        assert cidr not in _addresses(ns_first) and cidr in _addresses(ns_second)
        # At once: the host's neighbour entry moved with the VIP. Left alone, the host would
        # send to the first amphora's MAC until its entry failed (5 s of DELAY, 3 probes of 1 s).
        started = time.monotonic()
        assert _fetch(f"http://{vip}:{port}/second.txt") == (200, b"second")
        assert time.monotonic() - started < 6.0
        assert _fetch(f"http://{vip}:{port}/first.txt")[0] == 404  # served by the second

        await driver.take_vip(first, vip, env.layout.prefix_length, [second])  # and back
        assert _fetch(f"http://{vip}:{port}/first.txt") == (200, b"first")

        for amphora_id, instance in ((first, a), (second, b)):
            await driver.delete_amphora(amphora_id, instance.compute_id)

    asyncio.run(scenario())


def test_remove_orphans_and_stop_all_remove_only_their_run_dirs_amphorae(env):
    driver = env.driver()
    kept, orphan = str(uuid.uuid4()), str(uuid.uuid4())
    foreign = env.track(str(uuid.uuid4()))  # another run's amphora: no directory, no lease here
    lease_dir = env.run_dir / "netns" / "addresses"

    async def create():
        return (
            await driver.create_amphora(env.spec(kept)),
            await driver.create_amphora(env.spec(orphan)),
        )

    kept_instance, orphan_instance = asyncio.run(create())
    _ip("netns", "add", namespace_name(foreign))
    foreign_sleep = env.exec_in(namespace_name(foreign), "sleep", "1000")
    ghost = env.layout.amphorae.last  # a lease left by a crash, of an amphora not known
    (lease_dir / ghost).write_text("ghost-amphora\n")

    assert remove_orphans(env.run_dir, {kept}) == [namespace_name(orphan)]
    assert namespace_name(orphan) not in _namespaces()
    assert not _link_exists(host_veth_name(orphan))
    assert not asyncio.run(driver.is_alive(orphan_instance.compute_id))
    assert sorted(p.name for p in lease_dir.iterdir()) == [kept_instance.details["address"]]
    assert asyncio.run(driver.is_alive(kept_instance.compute_id))
    assert {namespace_name(kept), namespace_name(foreign)} <= _namespaces()

    assert stop_all(env.run_dir, env.bridge) == [namespace_name(kept)]
    assert not asyncio.run(driver.is_alive(kept_instance.compute_id))
    assert namespace_name(kept) not in _namespaces()
    assert not _link_exists(host_veth_name(kept))
    assert not _link_exists(env.bridge)  # no port left on it
    assert list(lease_dir.iterdir()) == []
    assert (env.run_dir / "amphorae" / kept).is_dir()  # re-created at the next start
    assert namespace_name(foreign) in _namespaces() and foreign_sleep.poll() is None
    assert stop_all(env.run_dir, env.bridge) == []
