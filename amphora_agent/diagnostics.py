"""What GetDiagnostics and GetLogs read from the appliance: processes and their uptime from
/proc, the engine's listening sockets, and the tail of a log file with a line and a byte cap.

Listening sockets come from /proc/net/tcp{,6} (the agent's network namespace, which is the
engine's) and are kept only when one of the engine's processes holds them (the inode of a
`socket:[N]` link in /proc/<pid>/fd): agents of the local compute driver share their host's
namespace with every other amphora and service.
"""

from __future__ import annotations

import ipaddress
import os
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass

# GetLogs: at most this many lines of each log, taken from at most its last MAX_LOG_BYTES.
DEFAULT_LOG_LINES = 100
MAX_LOG_LINES = 1000
MAX_LOG_BYTES = 256 * 1024
_TCP_LISTEN = "0A"


@dataclass(frozen=True)
class Process:
    pid: int
    role: str  # "agent", "master", "worker", "helper", "keepalived"
    name: str
    started_at: float  # seconds since the epoch
    uptime: float  # seconds


@dataclass(frozen=True)
class Listening:
    protocol: str  # "tcp" or "tcp6"
    address: str
    port: int
    inode: int


@dataclass(frozen=True)
class Tail:
    lines: list[str]
    truncated: bool
    found: bool


# -- processes --------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (after the command name, which may hold spaces)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _boot_time() -> float:
    with open("/proc/stat") as fh:
        for line in fh:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def process(pid: int, role: str, now: float | None = None) -> Process | None:
    """The process pid (None when it is gone or a zombie), with its start time and uptime."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X", "x"):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    started = _boot_time() + int(fields[19]) / ticks
    now = time.time() if now is None else now
    return Process(pid, role, _name(pid), started, max(0.0, now - started))


def children(pid: int) -> list[int]:
    """Live child pids of pid, sorted."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None and int(fields[1]) == pid and fields[0] not in ("Z", "X", "x"):
            found.append(int(entry))
    return sorted(found)


def pid_from_file(path: str) -> int | None:
    """The pid a pid file names, when that process is alive."""
    try:
        with open(path) as fh:
            pid = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    fields = _stat_fields(pid)
    return pid if fields is not None and fields[0] not in ("Z", "X", "x") else None


def engine_processes(master: int | None) -> list[Process]:
    """The master and its children: workers (the same program) and helpers (check scripts)."""
    if master is None:
        return []
    now = time.time()
    head = process(master, "master", now)
    if head is None:
        return []
    found = [head]
    for child in children(master):
        role = "worker" if _name(child) == head.name else "helper"
        item = process(child, role, now)
        if item is not None:
            found.append(item)
    return found


# -- sockets ----------------------------------------------------------------------------------


def _address(hex_address: str) -> str:
    """/proc/net/tcp's address: the address's 32-bit words printed as host-order integers."""
    words = [int(hex_address[i : i + 8], 16) for i in range(0, len(hex_address), 8)]
    packed = struct.pack(f"={len(words)}I", *words)
    if len(packed) == 16:
        address = ipaddress.IPv6Address(packed)
        return str(address.ipv4_mapped or address)
    return str(ipaddress.IPv4Address(packed))


def parse_proc_net_tcp(text: str, protocol: str) -> list[Listening]:
    """The LISTEN sockets of a /proc/net/tcp or tcp6 table."""
    found = []
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) < 10 or cols[3] != _TCP_LISTEN:
            continue
        host, _, port = cols[1].partition(":")
        try:
            found.append(Listening(protocol, _address(host), int(port, 16), int(cols[9])))
        except ValueError:
            continue
    return found


def listening(proc_net: str = "/proc/net") -> list[Listening]:
    found: list[Listening] = []
    for protocol in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc_net, protocol)) as fh:
                found += parse_proc_net_tcp(fh.read(), protocol)
        except OSError:
            continue  # no IPv6 in this namespace
    return found


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets pid holds (its fd links read `socket:[N]`)."""
    found = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith("socket:[") and target.endswith("]"):
            found.add(int(target[8:-1]))
    return found


def held_by(sockets: Iterable[Listening], pids: Iterable[int]) -> list[tuple[Listening, list[int]]]:
    """The sockets some of pids hold, each with those pids, sorted by address and port."""
    holders: dict[int, list[int]] = {}
    for pid in pids:
        for inode in socket_inodes(pid):
            holders.setdefault(inode, []).append(pid)
    kept = [(s, sorted(holders[s.inode])) for s in sockets if s.inode in holders]
    return sorted(kept, key=lambda item: (item[0].protocol, item[0].address, item[0].port))


# -- logs -------------------------------------------------------------------------------------


def tail(path: str, lines: int, max_bytes: int = MAX_LOG_BYTES) -> Tail:
    """The last `lines` whole lines of the file within its last max_bytes; truncated when that
    window held fewer than asked for and the file is longer than it."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            start = max(0, size - max_bytes)
            fh.seek(start)
            data = fh.read(max_bytes)
    except FileNotFoundError:
        return Tail([], False, False)
    if start > 0:
        cut = data.find(b"\n")
        data = data[cut + 1 :] if cut >= 0 else b""  # the first line may have begun earlier
    found = data.splitlines()
    kept = found[-lines:] if lines else []
    return Tail(
        [line.decode("utf-8", "replace") for line in kept],
        truncated=start > 0 and len(found) < lines,
        found=True,
    )
