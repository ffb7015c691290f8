"""HAProxy runtime API client (stats socket, master CLI) and `show stat` CSV parsing."""

from __future__ import annotations

import asyncio
import csv
import io
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Protocol

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# `show stat` "type" column
TYPE_FRONTEND, TYPE_BACKEND, TYPE_SERVER = "0", "1", "2"


async def runtime_command(socket_path: str, command: str, timeout: float = 3.0) -> str:
    """Send one command to a haproxy unix CLI socket and return its whole answer."""

    async def _talk() -> str:
        reader, writer = await asyncio.open_unix_connection(socket_path)
        try:
            writer.write(command.encode() + b"\n")
            await writer.drain()
            # The master CLI waits for EOF before it answers and closes.
            if writer.can_write_eof():
                writer.write_eof()
            return (await reader.read()).decode("utf-8", "replace")
        finally:
            writer.close()

    return await asyncio.wait_for(_talk(), timeout)


# haproxy's interactive mode (`prompt`) ends each answer with this.
PROMPT = b"\n> "


async def runtime_commands(
    socket_path: str, commands: list[str], timeout: float = 3.0
) -> list[str]:
    """Send commands to a haproxy stats socket on one connection and return their answers, in
    order. The connection is put in interactive mode (`prompt`), where haproxy runs one command
    per line and ends each answer with a prompt; all the lines go at once and the answers are
    read as they come (while the lines are still being written, so a long plan cannot block on
    full socket buffers). haproxy runs every line, whatever an earlier one answered. Each command
    must be one line; timeout is for the whole exchange, plus 1 ms per command."""

    async def _talk() -> list[str]:
        reader, writer = await asyncio.open_unix_connection(socket_path)
        try:
            writer.write(b"prompt\n" + b"".join(c.encode() + b"\n" for c in commands))
            sending = asyncio.ensure_future(writer.drain())
            answer = bytearray()
            try:
                # One prompt answers `prompt` itself, then one per command.
                while answer.count(PROMPT) <= len(commands):
                    chunk = await reader.read(65536)
                    if not chunk:
                        raise ConnectionError(
                            f"haproxy closed the connection after {answer.count(PROMPT) - 1} "
                            f"of {len(commands)} answers"
                        )
                    answer += chunk
                await sending
            finally:
                if not sending.done():
                    sending.cancel()
                    await asyncio.gather(sending, return_exceptions=True)
        finally:
            writer.close()
        parts = bytes(answer).split(PROMPT)
        return [p.decode("utf-8", "replace") for p in parts[1 : len(commands) + 1]]

    return await asyncio.wait_for(_talk(), timeout + len(commands) / 1000)


def is_resource_id(name: str) -> bool:
    """Frontends/backends/servers the controller named (UUIDs); others are internal."""
    return bool(_UUID.match(name))


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def normalize_status(raw: str) -> str:
    """'UP 1/3' -> 'UP', 'MAINT (via x/y)' -> 'MAINT'; 'no check' stays as it is."""
    raw = raw.strip()
    if raw.lower().startswith("no check"):
        return "no check"
    return re.split(r"[\s(]", raw, maxsplit=1)[0] if raw else ""


@dataclass(frozen=True)
class FrontendStat:
    name: str
    status: str
    active_connections: int
    total_connections: int
    bytes_in: int
    bytes_out: int
    request_errors: int


@dataclass(frozen=True)
class MemberStat:
    name: str
    status: str


@dataclass(frozen=True)
class PoolStat:
    name: str
    status: str
    members: tuple[MemberStat, ...] = field(default=())


@dataclass(frozen=True)
class StatSnapshot:
    frontends: tuple[FrontendStat, ...] = ()
    pools: tuple[PoolStat, ...] = ()
    # The engine run the counters belong to (haproxy: the answering worker's pid); 0 unknown.
    generation: int = 0


def parse_show_stat(text: str) -> list[dict[str, str]]:
    """Rows of `show stat` as dicts keyed by the header's column names."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError("not a `show stat` CSV answer")
    header = lines[0][2:].rstrip(",").split(",")
    rows = []
    for record in csv.reader(io.StringIO("\n".join(lines[1:]))):
        if record:
            rows.append(dict(zip(header, record, strict=False)))
    return rows


def snapshot_from_rows(rows: list[dict[str, str]]) -> StatSnapshot:
    """Keep only controller-named objects; group servers under their backend."""
    frontends: list[FrontendStat] = []
    backend_status: dict[str, str] = {}
    members: dict[str, list[MemberStat]] = {}
    for row in rows:
        proxy, kind = row.get("pxname", ""), row.get("type", "")
        if not is_resource_id(proxy):
            continue
        if kind == TYPE_FRONTEND:
            frontends.append(
                FrontendStat(
                    name=proxy,
                    status=normalize_status(row.get("status", "")),
                    active_connections=_int(row.get("scur", "")),
                    total_connections=_int(row.get("stot", "")),
                    bytes_in=_int(row.get("bin", "")),
                    bytes_out=_int(row.get("bout", "")),
                    request_errors=_int(row.get("ereq", "")),
                )
            )
        elif kind == TYPE_BACKEND:
            backend_status[proxy] = normalize_status(row.get("status", ""))
            members.setdefault(proxy, [])
        elif kind == TYPE_SERVER and is_resource_id(row.get("svname", "")):
            status = normalize_status(row.get("status", ""))
            members.setdefault(proxy, []).append(MemberStat(row["svname"], status))
    pools = tuple(
        PoolStat(name, backend_status.get(name, ""), tuple(found))
        for name, found in members.items()
    )
    return StatSnapshot(tuple(frontends), pools)


def parse_info_and_stat(text: str) -> StatSnapshot:
    """The answer to "show info;show stat": the worker's Pid, then the CSV."""
    info, sep, stat = text.partition("\n# ")
    if not sep:
        raise ValueError("no `show stat` CSV in the answer")
    pid = 0
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Pid":
            pid = _int(value.strip())
            break
    snapshot = snapshot_from_rows(parse_show_stat("# " + stat))
    return StatSnapshot(snapshot.frontends, snapshot.pools, pid)


async def read_snapshot(stats_socket: str) -> StatSnapshot:
    """Counters and statuses from one worker, with its pid (both on one connection, so they
    come from the same worker even during a reload)."""
    return parse_info_and_stat(await runtime_command(stats_socket, "show info;show stat"))


@dataclass(frozen=True)
class ProcTable:
    """`show proc` on the master CLI."""

    master_pid: int
    master_reloads: int
    master_failed: int
    workers: dict[int, int]  # pid -> reloads survived


def parse_show_proc(text: str) -> ProcTable:
    master = (0, 0, 0)
    workers: dict[int, int] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("#"):
            section = line.strip("# ").split()[0] if line.strip("# ") else ""
            continue
        cols = line.split()
        if len(cols) < 3 or not cols[0].isdigit():
            continue
        if cols[1] == "master":
            failed = re.search(r"\[failed:\s*(\d+)\]", line)
            master = (int(cols[0]), _int(cols[2]), int(failed.group(1)) if failed else 0)
        elif cols[1] == "worker" and section == "workers":
            workers[int(cols[0])] = _int(cols[2])
    return ProcTable(master[0], master[1], master[2], workers)


class SnapshotSource(Protocol):
    """Where heartbeats and GetStats get their numbers (haproxy's stats socket, nginx's config)."""

    async def snapshot(self) -> StatSnapshot: ...


class LiveStats:
    """Snapshots for heartbeats and GetStats: empty while haproxy is down; during a reload
    (stats socket briefly gone) the last good snapshot, so a reload does not look like an outage."""

    def __init__(self, stats_socket: str, is_running, max_stale: float = 10.0) -> None:
        self.stats_socket = stats_socket
        self.is_running = is_running
        self.max_stale = max_stale
        self._last: StatSnapshot = StatSnapshot()
        self._last_at = 0.0

    async def snapshot(self) -> StatSnapshot:
        loop = asyncio.get_running_loop()
        if not self.is_running():
            return StatSnapshot()
        try:
            self._last = await read_snapshot(self.stats_socket)
            self._last_at = loop.time()
        except (OSError, TimeoutError, ValueError):
            if loop.time() - self._last_at > self.max_stale:
                return StatSnapshot()
        return self._last


# "show servers state" (format 1): the columns this agent reads or rewrites, and srv_admin_state's
# flags: forced maintenance (`set server ... state maint`, and with CMAINT the `disabled` keyword),
# maintenance set by the configuration (`disabled`; it stays set after the server was enabled at
# run time), forced drain.
_STATE_BACKEND = 1
_STATE_NAME = 3
_STATE_ADDR = 4
_STATE_OP = 5
_STATE_ADMIN = 6
_STATE_UWEIGHT = 7
_STATE_IWEIGHT = 8
_STATE_PORT = 18
_SRV_ST_STOPPED = 0
_SRV_ADMF_FMAINT = 0x01
_SRV_ADMF_CMAINT = 0x04
_SRV_ADMF_FDRAIN = 0x08
# Sections whose `server` lines are a backend's servers (not a ring's or a peers section's).
_PROXY_SECTIONS = ("backend", "listen")


@dataclass(frozen=True)
class ConfiguredServer:
    """A `server` line of a haproxy config: its address, port and whether it is checked."""

    address: str
    port: int
    checked: bool


def configured_servers(cfg_text: str) -> dict[tuple[str, str], ConfiguredServer]:
    """The servers of a haproxy config's backends by (backend, server)."""
    found: dict[tuple[str, str], ConfiguredServer] = {}
    section: tuple[str, str] = ("", "")
    for line in cfg_text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if not line[0].isspace():
            section = (words[0], words[1] if len(words) > 1 else "")
            continue
        if section[0] not in _PROXY_SECTIONS or len(words) < 3 or words[0] != "server":
            continue
        endpoint = words[2].rpartition("@")[2]  # ipv4@, ipv6@
        address, colon, port = endpoint.rpartition(":")
        if not colon:  # no port: the connection's own
            address, port = endpoint, "0"
        address = address.strip("[]")
        found[(section[1], words[1])] = ConfiguredServer(
            address, int(port) if port.isdigit() else 0, "check" in words[3:]
        )
    return found


def checked_servers(cfg_text: str) -> set[str]:
    """Names of the servers a haproxy config health-checks (a `server` line with `check`)."""
    names: set[str] = set()
    for line in cfg_text.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "server" and "check" in words[2:]:
            names.add(words[1])
    return names


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def restorable_server_state(
    state: str,
    checked: set[str],
    configured: dict[tuple[str, str], ConfiguredServer] | None = None,
) -> str:
    """The part of a "show servers state" dump the next worker should start from: the health
    its servers were found in, never what the new config decides (maintenance, weight, port).

    A stopped server is left out when the new config does not health-check it, or when it was
    stopped because the config disabled it: haproxy would restore it stopped, and with no check
    nothing would ever bring it back up (a member disabled, then enabled, in a pool without a
    health monitor, or whose monitor was removed while it was down, stayed DOWN for good). It
    then starts as a new server does. So does a server the new config (`configured`, when given)
    gives another address or port: its health was another endpoint's, and haproxy would take the
    dump's port over the config's.

    What haproxy restores from a line whose config did not change it as it reads it, the line
    says as a load of the config that set it would have: the user weight is the configured one,
    and maintenance is set by `disabled` (CMAINT with FMAINT) or not at all. A runtime plan
    (runtime.py) changes a server's weight or maintenance over the runtime API and then swaps in
    the config that says so: taken as they were, its weight and forced maintenance would outlive
    a later config that changes them back (haproxy keeps a runtime weight while the configured
    one is unchanged, and forced maintenance while `disabled` is unchanged)."""
    out: list[str] = []
    for line in state.splitlines(keepends=True):
        words = line.split()
        if (
            line.startswith("#")
            or len(words) <= _STATE_PORT
            or not words[_STATE_OP].isdigit()
            or not words[_STATE_ADMIN].isdigit()
        ):
            out.append(line)
            continue
        stopped = int(words[_STATE_OP]) == _SRV_ST_STOPPED
        admin = int(words[_STATE_ADMIN])
        if admin & _SRV_ADMF_FMAINT:
            admin = _SRV_ADMF_FMAINT | _SRV_ADMF_CMAINT
        else:
            admin &= _SRV_ADMF_FDRAIN
        if stopped and (admin & _SRV_ADMF_CMAINT or words[_STATE_NAME] not in checked):
            continue
        if configured is not None:
            server = configured.get((words[_STATE_BACKEND], words[_STATE_NAME]))
            if server is not None and (
                str(server.port) != words[_STATE_PORT]
                or not _same_address(server.address, words[_STATE_ADDR])
            ):
                continue
        words[_STATE_ADMIN] = str(admin)
        words[_STATE_UWEIGHT] = words[_STATE_IWEIGHT]
        out.append(" ".join(words) + "\n")
    return "".join(out)
