"""The `netns` compute driver: each amphora is an agent in its own Linux network namespace.

An amphora is the namespace `lbaas-amp-<amphora id>`, whose `eth0` is one end of a veth pair;
the host end (`la-<10 hex chars of the id>`) is a port of one bridge, on which the host has the
address layout.host_address. The agent is the `local` driver's agent process, started inside the
namespace with `ip netns exec` (which execs, so the pid we start is the agent's) and listening on
<amphora address>:9443. Everything stays on the bridge subnet: no route, no forwarding, no host
sysctl is touched.

Amphora addresses are leased in files run_dir/netns/addresses/<ip> naming the amphora id, created
atomically, so that several orchestrator workers on one host, and a restarted one, never hand one
address out twice.

A namespace outlives the removal of its name as long as a process holds it, so every teardown
kills what `ip netns pids` lists, and deletes the host veth (which cuts the namespace off the
bridge) before it deletes the name.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from services.common.errors import InvalidInput, Precondition, Unavailable
from services.orchestrator.adapters.compute_local import (
    _POLL_INTERVAL,
    _REPO_ROOT,
    LocalComputeDriver,
    _agent_pid_from_file,
    _log_tail,
    _signal,
    _stop_process,
    _write_file,
    format_compute_id,
    read_proc_stat,
)
from services.orchestrator.adapters.compute_local import stop_all as _stop_local_agents
from services.orchestrator.domain.netns_layout import AddressRange, NetnsLayout
from services.orchestrator.domain.ports import AmphoraSpec, ComputeInstance, run_dir_amphora_path

log = logging.getLogger(__name__)

NAMESPACE_PREFIX = "lbaas-amp-"
VETH_PREFIX = "la-"
DEFAULT_BRIDGE = "lbaas-br0"
AGENT_PORT = 9443
NAMESPACE_INTERFACE = "eth0"

_NETNS_DIR = Path("/var/run/netns")  # where `ip netns add` puts the names
_SYS_NET = Path("/sys/class/net")
_COMMAND_TIMEOUT = 15.0
# A plain name: it becomes a file under /var/run/netns and a directory under run_dir.
_AMPHORA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


# --- names ---------------------------------------------------------------------------------------


def namespace_name(amphora_id: str) -> str:
    return NAMESPACE_PREFIX + amphora_id


def host_veth_name(amphora_id: str) -> str:
    """la-<first 10 hex chars of the id>: interface names have at most 15 characters."""
    digits = amphora_id.replace("-", "").lower()
    if len(digits) < 10 or any(c not in "0123456789abcdef" for c in digits[:10]):
        digits = hashlib.sha256(amphora_id.encode()).hexdigest()  # not a UUID (tests, tools)
    return VETH_PREFIX + digits[:10]


def _check_amphora_id(amphora_id: str) -> None:
    if not _AMPHORA_ID.match(amphora_id):
        raise InvalidInput("amphora id is not a plain name", field="amphora_id")


# --- address leases ------------------------------------------------------------------------------


class AddressLeases:
    """Amphora addresses leased as files <directory>/<ip> that hold the amphora id.

    New leases come from addresses; every lease file is seen (and released) whatever its
    range, so that leases made under another layout are still cleaned up.

    A lease is made by hard-linking a fully written temporary file to its name: link() fails
    when the name exists, like O_CREAT|O_EXCL, and no reader ever sees a lease without its
    holder (a crash between an O_EXCL create and the write would leak an anonymous lease).
    """

    def __init__(self, directory: Path, addresses: AddressRange):
        self._dir = Path(directory)
        self._addresses = addresses

    def holders(self) -> dict[str, str]:
        """address -> amphora id, for every lease file."""
        found: dict[str, str] = {}
        try:
            entries = list(self._dir.iterdir())
        except FileNotFoundError:
            return found
        for entry in entries:
            if not _is_ipv4(entry.name):
                continue
            try:
                found[entry.name] = entry.read_text().strip()
            except FileNotFoundError:
                continue  # released meanwhile
        return found

    def lease_of(self, amphora_id: str) -> str | None:
        """The address in the range leased to amphora_id, None when it holds none."""
        mine = [
            self._addresses.index_of(address)
            for address, holder in self.holders().items()
            if holder == amphora_id
        ]
        return min((self._addresses.at(i) for i in mine if i is not None), default=None)

    def claim(self, amphora_id: str, preferred: str = "") -> str:
        """amphora_id's lease if it has one, else `preferred` when it is one of the range's
        and free, else a new one: probing forward from a start index derived from the id, so
        that retries and other workers rarely collide."""
        existing = self.lease_of(amphora_id)
        if existing is not None:
            return existing
        self._dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        tmp = self._dir / f".claim-{os.getpid()}-{uuid.uuid4().hex}"
        tmp.write_text(amphora_id + "\n")
        try:
            if preferred and preferred in self._addresses:
                try:
                    os.link(tmp, self._dir / preferred)
                    return preferred
                except FileExistsError:
                    pass
            start = int.from_bytes(hashlib.sha256(amphora_id.encode()).digest()[:8], "big")
            for step in range(self._addresses.size):
                address = self._addresses.at(start + step)
                try:
                    os.link(tmp, self._dir / address)
                except FileExistsError:
                    continue
                return address
        finally:
            tmp.unlink(missing_ok=True)
        raise Unavailable(
            "no free amphora address",
            operator_detail=f"all {self._addresses.size} addresses leased in {self._dir}",
        )

    def release(self, amphora_id: str) -> list[str]:
        """Removes every lease amphora_id holds; returns their addresses."""
        released = []
        for address, holder in self.holders().items():
            if holder == amphora_id:
                (self._dir / address).unlink(missing_ok=True)
                released.append(address)
        return released


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _leases(run_dir: Path, layout: NetnsLayout) -> AddressLeases:
    return AddressLeases(Path(run_dir) / "netns" / "addresses", layout.amphorae)


# --- commands ------------------------------------------------------------------------------------


def _run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs a short command with a bounded time; Unavailable when check and it fails."""
    try:
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
        )
    except (subprocess.TimeoutExpired, OSError) as e:
        raise Unavailable("network namespace command failed", operator_detail=str(e)) from e
    if check and result.returncode != 0:
        raise Unavailable(
            "network namespace command failed",
            operator_detail=f"{' '.join(argv)}: exit {result.returncode}: {result.stderr.strip()}",
        )
    return result


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(["ip", *args], check=check)


def _link_exists(name: str) -> bool:
    return (_SYS_NET / name).exists()


def _namespace_exists(namespace: str) -> bool:
    return (_NETNS_DIR / namespace).exists()


def _namespaces() -> list[str]:
    try:
        return sorted(p.name for p in _NETNS_DIR.iterdir() if p.name.startswith(NAMESPACE_PREFIX))
    except FileNotFoundError:
        return []


def _namespace_pids(namespace: str) -> list[int]:
    result = _ip("netns", "pids", namespace, check=False)
    return [int(p) for p in result.stdout.split() if p.isdigit()]


def ensure_bridge(bridge: str, layout: NetnsLayout) -> None:
    """The bridge exists, is up and has the host's address. Idempotent, and safe when several
    workers call it at once."""
    if not _link_exists(bridge):
        created = _ip("link", "add", bridge, "type", "bridge", check=False)
        if created.returncode != 0 and not _link_exists(bridge):
            raise Unavailable(
                "cannot create the amphora bridge",
                operator_detail=f"{bridge}: {created.stderr.strip()}",
            )
    # A bridge whose MAC was never set takes the lowest MAC of its ports, so it changes when
    # an amphora's veth comes or goes; amphorae still sending to the old one (heartbeats,
    # answers to clients) are then cut off from the host until their ARP entry expires. A
    # fixed address keeps it.
    _ip("link", "set", bridge, "address", bridge_mac(bridge))
    _ip("addr", "replace", f"{layout.host_address}/{layout.prefix_length}", "dev", bridge)
    _ip("link", "set", bridge, "up")


def amphora_mac(address: str) -> str:
    """The MAC of an amphora's eth0, from its address: a half rebuilt at the address of the
    one it replaces has that one's MAC too, so its peer's ARP entry stays right."""
    return ":".join(f"{b:02x}" for b in (0x02, 0xA8, *ipaddress.IPv4Address(address).packed))


def bridge_mac(bridge: str) -> str:
    """A stable, locally administered unicast MAC for the bridge, from its name."""
    digest = hashlib.sha256(f"lbaas-bridge {bridge}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def _remove_namespace(amphora_id: str, timeout: float) -> None:
    """Kills every process in the amphora's namespace, deletes its veth, then its name.

    When processes survive timeout, the veth is deleted all the same (the namespace is then
    cut off the bridge: fenced) and the name kept, so that a retry finds them again.
    """
    namespace = namespace_name(amphora_id)
    veth = host_veth_name(amphora_id)
    deadline = time.monotonic() + timeout
    survivors: list[int] = []
    if _namespace_exists(namespace):
        # No zombie is listed. An agent this process started is reaped by the driver's
        # _Reaper (reaping here would take exit statuses that Popen objects wait for).
        while True:
            survivors = _namespace_pids(namespace)
            if not survivors or time.monotonic() >= deadline:
                break
            for pid in survivors:
                _signal(pid, signal.SIGKILL)
            time.sleep(_POLL_INTERVAL)
    if _link_exists(veth):
        _ip("link", "del", veth, check=False)
    if survivors:
        raise Unavailable(
            "processes in the amphora's namespace survived SIGKILL",
            operator_detail=f"{namespace}: pids {survivors}; veth {veth} removed",
        )
    if _namespace_exists(namespace):
        _ip("netns", "del", namespace)


# --- the driver ----------------------------------------------------------------------------------


class NetnsComputeDriver(LocalComputeDriver):
    """ComputeDriver whose amphorae are namespaces on one bridge; the agent, its files under
    run_dir/amphorae/<id>/ and its compute id ("<pid>:<start time>") are the local driver's."""

    agent_drain_args: tuple[str, ...] = ()  # each agent drains in its own namespace (nft)

    def __init__(
        self,
        run_dir: Path,
        health_udp_addr: str | Sequence[str],
        heartbeat_key_file: Path,
        heartbeat_interval: float,
        python: str = sys.executable,
        *,
        bridge: str = DEFAULT_BRIDGE,
        layout: NetnsLayout | None = None,
        stop_timeout: float = 10.0,
        startup_timeout: float = 5.0,
        agent_log_args: Sequence[str] = (),
    ):
        """health_udp_addr: heartbeat targets as reached from inside a namespace (the host's
        address on the bridge, layout.host_address), passed to the agents as they are; so are
        the syslog targets in agent_log_args."""
        if os.geteuid() != 0:
            raise Precondition(
                "the netns compute driver needs root",
                operator_detail="network namespaces, veths and a bridge need CAP_NET_ADMIN; "
                "run the orchestrator as root or use LBAAS_COMPUTE_DRIVER=local",
            )
        if shutil.which("ip") is None:
            raise Precondition(
                "the netns compute driver needs iproute2", operator_detail="`ip` is not on PATH"
            )
        if not 0 < len(bridge) <= 15:
            raise InvalidInput("bridge names have 1 to 15 characters", field="bridge")
        super().__init__(
            run_dir,
            health_udp_addr,
            heartbeat_key_file,
            heartbeat_interval,
            python,
            stop_timeout=stop_timeout,
            startup_timeout=startup_timeout,
            agent_log_args=agent_log_args,
        )
        self._bridge = bridge
        self._layout = layout or NetnsLayout()
        self._leases = _leases(self._run_dir, self._layout)

    def _amphora_dir(self, amphora_id: str) -> Path:
        _check_amphora_id(amphora_id)
        return run_dir_amphora_path(self._run_dir, amphora_id)

    def _plumb(self, amphora_id: str, address: str) -> None:
        """A fresh namespace with eth0 at address on the bridge (any old one removed first)."""
        ensure_bridge(self._bridge, self._layout)
        _remove_namespace(amphora_id, self._stop_timeout)
        namespace, veth = namespace_name(amphora_id), host_veth_name(amphora_id)
        _ip("netns", "add", namespace)
        _ip("link", "add", veth, "type", "veth", "peer", "name", NAMESPACE_INTERFACE,
            "address", amphora_mac(address), "netns", namespace)  # fmt: skip
        _ip("link", "set", veth, "master", self._bridge, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        cidr = f"{address}/{self._layout.prefix_length}"
        _ip("-n", namespace, "addr", "add", cidr, "dev", NAMESPACE_INTERFACE)
        _ip("-n", namespace, "link", "set", NAMESPACE_INTERFACE, "up")
        # haproxy on a BACKUP binds the VIP that the MASTER holds. /proc/sys/net is the writer's
        # namespace's.
        _ip("netns", "exec", namespace, "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_nonlocal_bind")

    async def create_amphora(self, spec: AmphoraSpec) -> ComputeInstance:
        """A new namespace and agent; replaces whatever still runs for the same amphora id.

        The amphora keeps its address lease (and its directory, with the last applied config)
        across re-creations."""
        amphora_id = spec.amphora_id
        amphora_dir = self._amphora_dir(amphora_id)
        leftover = _agent_pid_from_file(amphora_dir, amphora_id)
        if leftover is not None and (stat := read_proc_stat(leftover)) is not None:
            log.info("replacing agent pid %d of amphora %s", leftover, amphora_id)
            await _stop_process(leftover, stat.start_time, self._stop_timeout, self._reaper)
        amphora_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        (amphora_dir / "agent.pid").unlink(missing_ok=True)
        _write_file(amphora_dir / "agent.crt", spec.certificate.cert_pem, 0o644)
        _write_file(amphora_dir / "agent.key", spec.certificate.key_pem, 0o600)
        _write_file(amphora_dir / "ca.crt", spec.certificate.ca_pem, 0o644)
        self._write_heartbeat_key(amphora_dir, amphora_id)

        address = self._leases.claim(amphora_id, spec.address)
        namespace = namespace_name(amphora_id)
        proc: subprocess.Popen[bytes] | None = None
        try:
            await asyncio.to_thread(self._plumb, amphora_id, address)
            command = self._agent_command(spec, amphora_dir, AGENT_PORT)
            command[command.index("--listen") + 1] = f"{address}:{AGENT_PORT}"
            log_path = amphora_dir / "agent.log"
            with open(log_path, "ab") as log_file:
                proc = subprocess.Popen(
                    ["ip", "netns", "exec", namespace, *command],
                    cwd=_REPO_ROOT,
                    env=self._agent_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    close_fds=True,
                    start_new_session=True,  # as the local driver: apart from our group
                )
            self._reaper.adopt(proc)
            stat = read_proc_stat(proc.pid)
            if stat is None:
                raise Unavailable(
                    "amphora agent exited at once", operator_detail=_log_tail(log_path)
                )
            await self._wait_started(proc, amphora_dir, log_path)
        except BaseException:
            # The agent, if it started, dies with the namespace; the directory stays.
            try:
                await asyncio.to_thread(_remove_namespace, amphora_id, self._stop_timeout)
                self._leases.release(amphora_id)
            except Unavailable as e:
                log.error("amphora %s: cleanup after a failed create: %s", amphora_id, e)
            if proc is not None:
                proc.poll()  # reaps it
            raise
        log.info("amphora %s: agent pid %d in %s at %s", amphora_id, proc.pid, namespace, address)
        return ComputeInstance(
            compute_id=format_compute_id(proc.pid, stat.start_time),
            agent_address=f"{address}:{AGENT_PORT}",
            details={
                "namespace": namespace,
                "address": address,
                "interface": NAMESPACE_INTERFACE,
                "pid": str(proc.pid),
                "amphora_dir": str(amphora_dir),
            },
        )

    async def delete_amphora(self, amphora_id: str, compute_id: str) -> None:
        """Stops the agent as the local driver does, then fences: kills whatever is left in
        the namespace, deletes it and its veth, releases the address. Idempotent."""
        self._amphora_dir(amphora_id)
        # The agent gets its SIGTERM first (it stops haproxy and says farewell to health); the
        # local driver also removes the directory. A retry after a failure finds the namespace
        # (by name) and the lease again.
        await super().delete_amphora(amphora_id, compute_id)
        await asyncio.to_thread(_remove_namespace, amphora_id, self._stop_timeout)
        self._leases.release(amphora_id)

    async def take_vip(
        self, amphora_id: str, vip_address: str, prefix_length: int, previous: Sequence[str]
    ) -> None:
        """Moves a SINGLE load balancer's VIP to eth0 of amphora_id's namespace, and the host's
        neighbour entry for it to that eth0's MAC."""
        _check_amphora_id(amphora_id)
        try:
            vip = ipaddress.IPv4Address(vip_address)
        except ValueError as e:
            raise InvalidInput("VIP is not an IPv4 address", field="vip_address") from e
        if not 0 < prefix_length <= 32:
            raise InvalidInput("prefix length out of range", field="prefix_length")
        for other in previous:
            _check_amphora_id(other)
        await asyncio.to_thread(self._take_vip, amphora_id, str(vip), prefix_length, previous)

    def _take_vip(
        self, amphora_id: str, vip: str, prefix_length: int, previous: Sequence[str]
    ) -> None:
        cidr = f"{vip}/{prefix_length}"
        for other in previous:
            if other != amphora_id and _namespace_exists(namespace_name(other)):
                _ip("-n", namespace_name(other), "addr", "del", cidr,
                    "dev", NAMESPACE_INTERFACE, check=False)  # fmt: skip
        namespace = namespace_name(amphora_id)
        _ip("-n", namespace, "addr", "replace", cidr, "dev", NAMESPACE_INTERFACE)
        if shutil.which("arping"):
            arp = _ip("netns", "exec", namespace, "arping", "-U", "-c", "1",
                      "-I", NAMESPACE_INTERFACE, vip, check=False)  # fmt: skip
            if arp.returncode != 0:
                log.info("gratuitous ARP for %s from %s: %s", vip, namespace, arp.stderr.strip())
        link = json.loads(_ip("-n", namespace, "-j", "link", "show", NAMESPACE_INTERFACE).stdout)
        mac = link[0]["address"]
        _ip("neigh", "replace", vip, "lladdr", mac, "dev", self._bridge, "nud", "stale")
        log.info("VIP %s moved to %s (%s)", vip, namespace, mac)


# --- housekeeping --------------------------------------------------------------------------------


def _owned_namespaces(run_dir: Path, leases: AddressLeases) -> dict[str, str]:
    """namespace -> amphora id, for the lbaas-amp-* namespaces of run_dir: those whose
    amphora directory exists under run_dir, or whose amphora holds a lease under run_dir."""
    leased = set(leases.holders().values())
    owned = {}
    for namespace in _namespaces():
        amphora_id = namespace[len(NAMESPACE_PREFIX) :]
        if not _AMPHORA_ID.match(amphora_id):
            continue
        if amphora_id in leased or run_dir_amphora_path(Path(run_dir), amphora_id).is_dir():
            owned[namespace] = amphora_id
    return owned


def _remove_all(amphora_ids: Iterable[str], leases: AddressLeases, timeout: float) -> None:
    for amphora_id in amphora_ids:
        try:
            _remove_namespace(amphora_id, timeout)
        except Unavailable as e:
            log.error("amphora %s: %s (%s)", amphora_id, e.user_message, e.operator_detail)
            continue
        leases.release(amphora_id)


def stop_all(run_dir: Path, bridge: str, *, timeout: float = 10.0) -> list[str]:
    """Stops every amphora of run_dir and removes its namespace, veth and lease; then the
    bridge when no port is left on it. Returns the namespaces removed.

    For the launcher's shutdown and test cleanup. Amphora directories stay: the orchestrator
    re-creates the amphorae at its next start, and their agents find their configs there.
    """
    leases = _leases(run_dir, NetnsLayout())
    owned = _owned_namespaces(run_dir, leases)
    _stop_local_agents(run_dir, timeout)  # SIGTERM, wait, SIGKILL: the local driver's stop
    _remove_all(owned.values(), leases, timeout)
    if _link_exists(bridge):
        try:
            ports = list((_SYS_NET / bridge / "brif").iterdir())
        except FileNotFoundError:
            ports = []
        if not ports:
            _ip("link", "del", bridge, check=False)
    return [ns for ns in owned if not _namespace_exists(ns)]


def _age(run_dir: Path, amphora_id: str) -> float:
    """Seconds since the amphora's directory was last changed (inf when it has none)."""
    try:
        changed = run_dir_amphora_path(Path(run_dir), amphora_id).stat().st_mtime
    except OSError:
        return float("inf")
    return time.time() - changed


def remove_orphans(
    run_dir: Path,
    known_amphora_ids: Collection[str],
    *,
    timeout: float = 10.0,
    min_age: float = 0.0,
) -> list[str]:
    """Removes run_dir's namespaces (processes, veth, lease) of amphorae not in
    known_amphora_ids, and leases of unknown amphorae that have no namespace. Returns the
    namespaces removed. Amphora directories stay.

    For housekeeping after a crash: known_amphora_ids must include every amphora being
    created while this runs, or its namespace goes too; min_age spares amphorae whose
    directory changed more recently than that (one being created now, recorded after the
    caller read its ids)."""
    leases = _leases(run_dir, NetnsLayout())  # finds leases of any range
    known = set(known_amphora_ids)
    orphans = {
        ns: a
        for ns, a in _owned_namespaces(run_dir, leases).items()
        if a not in known and _age(run_dir, a) >= min_age
    }
    for namespace in orphans:
        log.warning("removing orphan amphora namespace %s", namespace)
    _remove_all(orphans.values(), leases, timeout)
    for holder in set(leases.holders().values()) - known:
        if not _namespace_exists(namespace_name(holder)):
            leases.release(holder)
    return [ns for ns in orphans if not _namespace_exists(ns)]
