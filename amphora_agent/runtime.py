"""Runtime plans: the renderer's haproxy runtime-API commands that take the running haproxy from
the applied config to a new one without a reload (member changes in milliseconds).

The agent stays dumb: it sends the commands as they are, then `show servers state <backend>`
for each backend the plan expects servers in, all on one connection to the admin stats socket
(haproxy's interactive mode, stats.runtime_commands: one round trip for the whole plan, so a
1,000-member batch costs what a single member does, nearly). haproxy runs every line; the agent
checks that each command's answer is one haproxy gives on success and compares each expected
server field by field. Anything else fails the plan, and the applier falls back to the full
validate, swap and reload path, which undoes whatever the commands did.

haproxy 2.6's answers on success (measured against /usr/sbin/haproxy 2.6.12):
  - nothing (an empty line): set server ... weight | state | check-port, enable / disable
    server | health | agent, shutdown sessions server, set weight;
  - "New server registered.": add server;
  - "Server deleted.": del server;
  - set server ... addr A [port P]: "IP changed from 'X' to 'A'" or "no need to change the
    addr", then ", port changed from 'Y' to 'P'" or ", no need to change the port" when a port
    was given, then " by 'stats socket command'".
Everything else is an error, for example "No such backend.", "No such server.", "Require
'backend/server'.", "Already exists a server with the same name in backend.", "Only servers in
maintenance mode can be deleted.", "Absolute weight can only be between 0 and 256 inclusive.",
"Invalid addr 'x' by 'stats socket command'", "Health check was not configured on this server,
cannot enable.", "Unknown command, but maybe one of the following ones is a better match: ...".
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

# Answers (one stripped line each) haproxy gives when a command succeeded, besides nothing.
SUCCESS_ANSWERS = frozenset({"New server registered.", "Server deleted."})
_ADDR_CHANGED = re.compile(
    r"(?:IP changed from '[^']*' to '[^']*'|no need to change the addr)"
    r"(?:, (?:port changed from '[^']*' to '[^']*'|no need to change the port))?"
    r" by '[^']*'"
)
# srv_admin_state bits that keep a server in maintenance: haproxy's own SRV_ADMF_MAINT mask
# (forced 0x01, inherited from a tracked server 0x02, address resolution failed 0x20). 0x04
# (CMAINT, `disabled` in the config) is not in it: it stays set once `enable server` or `set server
# ... state ready` took the server out of maintenance, and comes with 0x01 while it is in it.
MAINT_MASK = 0x23
# Columns of `show servers state` format 1 the comparison reads.
_COLUMNS = ("be_name", "srv_name", "srv_addr", "srv_admin_state", "srv_uweight", "srv_port")


@dataclass(frozen=True)
class ServerState:
    """A server as `show servers state` must show it after the plan (present False: gone)."""

    backend: str
    server: str
    present: bool
    address: str = ""
    port: int = 0
    weight: int = 0
    maintenance: bool = False


@dataclass(frozen=True)
class RuntimePlan:
    from_config_hash: str
    commands: tuple[str, ...]
    expected: tuple[ServerState, ...] = ()


@dataclass(frozen=True)
class ShownServer:
    """What `show servers state` shows of one server."""

    address: str
    port: int
    weight: int
    admin_state: int

    @property
    def maintenance(self) -> bool:
        return bool(self.admin_state & MAINT_MASK)


class PlanFailed(Exception):
    """The plan cannot be used or did not take; str() says why, for the operator."""


def _shown(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def check_commands(commands: Iterable[str]) -> None:
    """Each command must be one non-empty line (a line end would make haproxy drop the rest)."""
    for index, command in enumerate(commands):
        if not command.strip() or "\n" in command or "\r" in command:
            raise PlanFailed(f"command {index + 1} {_shown(repr(command))} is not one line")


def answer_error(answer: str) -> str | None:
    """None when haproxy's answer to a command says it succeeded, else the answer (its text)."""
    for line in answer.splitlines():
        line = line.strip()
        if line and line not in SUCCESS_ANSWERS and not _ADDR_CHANGED.fullmatch(line):
            return answer.strip()
    return None


def parse_servers_state(text: str) -> dict[tuple[str, str], ShownServer]:
    """`show servers state [<backend>]` (format 1) by (backend, server); ValueError when the
    answer is not such a dump (an error text such as "Can't find backend.")."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "1":
        raise ValueError(f"not a `show servers state` dump: {_shown(text)!r}")
    header: list[str] = []
    found: dict[tuple[str, str], ShownServer] = {}
    for line in lines[1:]:
        if line.startswith("#"):
            if not header:
                header = line[1:].split()
            continue
        words = line.split()
        if not words:
            continue
        if not header:
            raise ValueError("`show servers state` dump without a header")
        row = dict(zip(header, words, strict=False))
        missing = [c for c in _COLUMNS if c not in row]
        if missing:
            raise ValueError(f"`show servers state` row without {', '.join(missing)}: {line!r}")
        try:
            found[(row["be_name"], row["srv_name"])] = ShownServer(
                address=row["srv_addr"],
                port=int(row["srv_port"]),
                weight=int(row["srv_uweight"]),
                admin_state=int(row["srv_admin_state"]),
            )
        except ValueError:
            raise ValueError(f"unreadable `show servers state` row: {line!r}") from None
    return found


def _same_address(wanted: str, shown: str) -> bool:
    try:
        return ipaddress.ip_address(wanted) == ipaddress.ip_address(shown)
    except ValueError:
        return wanted == shown


def mismatches(
    expected: Iterable[ServerState], shown: dict[tuple[str, str], ShownServer]
) -> list[str]:
    """How the servers shown differ from those expected, field by field ([] when they match)."""
    found: list[str] = []
    for want in expected:
        name = f"{want.backend}/{want.server}"
        have = shown.get((want.backend, want.server))
        if not want.present:
            if have is not None:
                found.append(f"{name} is still there")
            continue
        if have is None:
            found.append(f"{name} is missing")
            continue
        for field, wanted, got in (
            ("address", want.address, have.address),
            ("port", want.port, have.port),
            ("weight", want.weight, have.weight),
            ("maintenance", want.maintenance, have.maintenance),
        ):
            same = _same_address(wanted, got) if field == "address" else wanted == got
            if not same:
                found.append(f"{name} {field} is {got!r}, not {wanted!r}")
    return found


Send = Callable[[list[str]], Awaitable[list[str]]]


async def run_plan(plan: RuntimePlan, send: Send) -> float:
    """Send every command of the plan, then `show servers state` of each backend it expects
    servers in, in one exchange, and check it took; the seconds it took. Raises PlanFailed
    naming the first command haproxy refused and its answer, or the servers that differ from
    those expected."""
    started = time.monotonic()
    check_commands(plan.commands)
    backends = list(dict.fromkeys(s.backend for s in plan.expected))
    shows = [f"show servers state {backend}" for backend in backends]
    try:
        answers = await send([*plan.commands, *shows])
    except (OSError, TimeoutError) as exc:
        raise PlanFailed(
            f"the runtime API did not answer the plan's {len(plan.commands)} commands: "
            f"{exc or type(exc).__name__}"
        ) from None
    if len(answers) != len(plan.commands) + len(shows):
        raise PlanFailed(
            f"the runtime API gave {len(answers)} answers to "
            f"{len(plan.commands) + len(shows)} commands"
        )
    for index, (command, answer) in enumerate(zip(plan.commands, answers, strict=False)):
        error = answer_error(answer)
        if error is not None:
            raise PlanFailed(f"command {index + 1} {command!r} failed: {_shown(error)!r}")
    problems: list[str] = []
    for backend, command, answer in zip(
        backends, shows, answers[len(plan.commands) :], strict=True
    ):
        try:
            shown = parse_servers_state(answer)
        except ValueError as exc:
            raise PlanFailed(f"{command!r}: {exc}") from None
        problems += mismatches((s for s in plan.expected if s.backend == backend), shown)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise PlanFailed("after the plan, " + "; ".join(problems[:5]) + more)
    return time.monotonic() - started
