"""Runtime plans: member changes reach a running haproxy over its runtime API, without a reload.

The renderer renders as always; given the files the target runs now (RenderRequest.applied_files)
it also answers the runtime-API commands that take the running haproxy from those files to the new
ones, or no plan (the agent then validates and reloads).

Design: the plan is a diff of the two rendered haproxy.cfg texts, not of two graphs. The applied
text minus the `server` lines of its backends must be byte-equal to the new text minus the same
lines, and every other file (certificates, crt-lists, keepalived, scripts) byte-equal with the
same mode; then only the server lines differ and the plan is exactly "applied text -> new text".
Diffing graphs would need the previous graph (the caller has only the files) and would have to
re-derive everything the transform decides (defaults, sorting, filtering, what a pool or monitor
setting changes on each server line); any construct it missed would silently drift the running
state from the file. Diffing text cannot drift: whatever the template renders outside server lines
makes the text differ, and a differing text is a reload.

What haproxy 2.6 accepts (checked against haproxy 2.6.12 through its stats socket):

* Dynamic servers (`add server`) need a backend whose algorithm takes dynamic weights:
  roundrobin and leastconn do; `balance source`, which Octavia's SOURCE_IP renders with the default
  map-based hash, is refused ("Backend must use a dynamic load balancing to support dynamic
  servers.") and takes only weights of 0% or 100% ("Backend is using a static LB algorithm and only
  accepts weights '0%' and '100%'."). The template keeps Octavia's map-based hash rather than render
  `hash-type consistent`: that would move existing SOURCE_IP clients to other members on the
  upgrade, spreads clients less evenly than the map at low weights (Octavia's default is 1), and
  changes the text every SOURCE_IP pool runs. So a SOURCE_IP backend gets a plan for removals,
  address and admin-state changes, which the map-based hash does at runtime, and no plan for
  additions or weight changes (a reload, as before). Session persistence (stick tables, any
  algorithm) needs nothing: without a reload the table stays where it is.
* `add server` refuses `cookie` ("'cookie' option is not accepted for dynamic server"): a member
  added to an HTTP_COOKIE pool means no plan. The keywords below were each accepted; a keyword
  this module does not know means no plan, so a template change cannot produce a plan haproxy
  refuses. Dynamic servers take nothing from `default-server`, so a re-encrypting pool's
  default-server keywords are repeated on the command; the certificate paths are the ones the
  running process loaded at start (byte-equal files), which haproxy finds in its certificate
  cache, even from a chrooted worker.
* `add server` leaves the server in maintenance with its check disabled: the plan sends
  `enable health` when the line has `check` and `set server ... state ready` unless the member is
  admin-down (rendered `disabled`, which the command repeats).
* Adding a second dynamic server with `check` to a backend with `option external-check` (PING
  monitors) kills the worker (BUG_ON "task->thread_mask != tid_bit", task.h:321): no plan adds to
  such a backend.
* A `disabled` backend (pool admin-down) answers "Proxy is disabled." to every server command: no
  plan when its servers change.
* `del server` needs the server in maintenance and without connections: the plan puts it in
  maintenance, shuts its sessions, then deletes it. Sessions end asynchronously; each command must
  be its own request (the three joined with ';' on one connection find the sessions still there).

A change of anything else on a server line (backup, monitor address or port, check settings, TLS
options) is no plan rather than a delete and add: deleting shuts the member's live connections,
where a reload lets the old worker finish them. Plans need haproxy >= 2.6 on the target (the
version all of the above was checked on; `add server` was experimental when it appeared in 2.4).

Success answers: `add server` prints "New server registered.", `del server` "Server deleted.",
`set server ... addr` "IP changed from ..." / "no need to change the addr, port changed from ...";
the other commands print nothing. In `show servers state`, maintenance is srv_admin_state & 0x23
(a config `disabled` server shows 5, and 4 once set ready).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lbaas.common.v1 import runtime_pb2

from services.renderer.backends.haproxy.features import HAPROXY_FEATURES
from services.renderer.domain.hashing import config_hash
from services.renderer.domain.ports import RenderedFile
from services.renderer.domain.versions import Version

CONFIG_PATH = "haproxy.cfg"
FEATURE = "runtime.member_changes"
# Server-line keywords the template emits (on `server` and `default-server` lines), with the number
# of arguments each takes.
KEYWORD_ARITY = {
    "weight": 1, "check": 0, "check-ssl": 0, "inter": 1, "fall": 1, "rise": 1, "addr": 1,
    "port": 1, "backup": 0, "disabled": 0, "send-proxy": 0, "send-proxy-v2": 0, "cookie": 1,
    "ssl": 0, "crt": 1, "verify": 1, "ca-file": 1, "crl-file": 1, "ssl-min-ver": 1,
    "ssl-max-ver": 1, "ciphers": 1, "ciphersuites": 1, "alpn": 1,
}  # fmt: skip
# Of those, what haproxy 2.6 refuses on `add server`.
REFUSED_ON_ADD = frozenset({"cookie"})
# Balance algorithms that take dynamic servers and any weight at runtime.
DYNAMIC_BALANCE = frozenset({"roundrobin", "leastconn"})
# Characters no server line of ours contains; one of them means the line is not ours to split.
_UNSPLITTABLE = frozenset("\"'\\#\t")


class NoPlan(Exception):
    """The change cannot be made over the runtime API (or the applied files cannot be read)."""


@dataclass(frozen=True)
class Server:
    name: str
    # As `show servers state` prints it: no brackets, IPv6 compressed.
    address: str
    port: int
    weight: int
    disabled: bool
    check: bool
    # Everything on the line after the address, verbatim (the `add server` arguments).
    args: tuple[str, ...]
    # The line without weight and disabled: what may not change for a runtime plan.
    identity: tuple[str, ...]

    @property
    def keywords(self) -> frozenset[str]:
        return frozenset(_options(self.args))


@dataclass(frozen=True)
class Backend:
    name: str
    balance: str
    disabled: bool
    external_check: bool
    default_server: tuple[str, ...]
    servers: Mapping[str, Server]

    @property
    def dynamic(self) -> bool:
        return self.balance in DYNAMIC_BALANCE


@dataclass(frozen=True)
class Parsed:
    # The config without the server lines of its backends.
    skeleton: str
    backends: Mapping[str, Backend]


def plan(
    new_files: Sequence[RenderedFile],
    applied_files: Sequence[RenderedFile],
    haproxy_version: Version,
) -> runtime_pb2.RuntimePlan | None:
    """The commands from applied_files to new_files, or None when only a reload can do it."""
    if not applied_files or not HAPROXY_FEATURES.supports(FEATURE, haproxy_version):
        return None
    try:
        return _plan(new_files, applied_files)
    except NoPlan:
        return None


def _plan(
    new_files: Sequence[RenderedFile], applied_files: Sequence[RenderedFile]
) -> runtime_pb2.RuntimePlan | None:
    new, applied = _by_path(new_files), _by_path(applied_files)
    if new.keys() != applied.keys() or CONFIG_PATH not in new:
        raise NoPlan("the set of files differs")
    for path, item in new.items():
        if path != CONFIG_PATH and (item.content, item.mode) != (
            applied[path].content,
            applied[path].mode,
        ):
            raise NoPlan(f"{path} differs")
    if new[CONFIG_PATH].mode != applied[CONFIG_PATH].mode:
        raise NoPlan("the config's mode differs")
    if new[CONFIG_PATH].content == applied[CONFIG_PATH].content:
        return None
    before, after = parse(applied[CONFIG_PATH].content), parse(new[CONFIG_PATH].content)
    if before.skeleton != after.skeleton or before.backends.keys() != after.backends.keys():
        raise NoPlan("the config differs outside server lines")
    result = runtime_pb2.RuntimePlan(from_config_hash=config_hash(_pairs(applied_files)))
    adds, changes, removals = [], [], []
    for name in sorted(after.backends):
        old, now = before.backends[name], after.backends[name]
        if old.servers == now.servers:
            continue
        if now.disabled:
            raise NoPlan(f"backend {name} is disabled")
        for server in sorted(now.servers.keys() - old.servers.keys()):
            adds.append((now, now.servers[server]))
        for server in sorted(old.servers.keys() & now.servers.keys()):
            if old.servers[server] != now.servers[server]:
                changes.append((now, old.servers[server], now.servers[server]))
        for server in sorted(old.servers.keys() - now.servers.keys()):
            removals.append((now, old.servers[server]))
    # Additions first and removals last: a pool whose member is replaced never runs empty.
    for backend, server in adds:
        result.commands.extend(_add(backend, server))
        result.expected.append(_expected(backend, server))
    for backend, old_server, server in changes:
        result.commands.extend(_change(backend, old_server, server))
        result.expected.append(_expected(backend, server))
    for backend, server in removals:
        target = f"{backend.name}/{server.name}"
        result.commands.extend(
            (f"set server {target} state maint", f"shutdown sessions server {target}",
             f"del server {target}")
        )  # fmt: skip
        result.expected.append(
            runtime_pb2.ServerState(backend=backend.name, server=server.name, present=False)
        )
    return result if result.commands else None


def _add(backend: Backend, server: Server) -> list[str]:
    if not backend.dynamic:
        raise NoPlan(f"backend {backend.name} (balance {backend.balance}) takes no new server")
    if backend.external_check and server.check:
        raise NoPlan(f"backend {backend.name} runs external checks")
    refused = (server.keywords | frozenset(_options(backend.default_server))) & REFUSED_ON_ADD
    if refused:
        raise NoPlan(f"add server refuses {sorted(refused)}")
    target = f"{backend.name}/{server.name}"
    location = _location(server.address, server.port)
    commands = [" ".join(("add server", target, location, *backend.default_server, *server.args))]
    if server.check:
        commands.append(f"enable health {target}")
    if not server.disabled:
        commands.append(f"set server {target} state ready")
    return commands


def _change(backend: Backend, old: Server, new: Server) -> list[str]:
    if old.identity != new.identity:
        raise NoPlan(f"server {backend.name}/{new.name} changes more than weight, state, address")
    target = f"{backend.name}/{new.name}"
    commands = []
    if new.disabled and not old.disabled:
        commands.append(f"set server {target} state maint")
    if (old.address, old.port) != (new.address, new.port):
        commands.append(f"set server {target} addr {new.address} port {new.port}")
    if old.weight != new.weight:
        if not backend.dynamic:
            raise NoPlan(f"backend {backend.name} (balance {backend.balance}) has static weights")
        commands.append(f"set server {target} weight {new.weight}")
    if old.disabled and not new.disabled:
        commands.append(f"set server {target} state ready")
    return commands


def _expected(backend: Backend, server: Server) -> runtime_pb2.ServerState:
    return runtime_pb2.ServerState(
        backend=backend.name,
        server=server.name,
        present=True,
        address=server.address,
        port=server.port,
        weight=server.weight,
        maintenance=server.disabled,
    )


def parse(content: bytes) -> Parsed:
    """The config's skeleton and its backends' servers; NoPlan when it is not a config this
    renderer writes."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NoPlan("the config is not UTF-8") from err
    skeleton: list[str] = []
    backends: dict[str, Backend] = {}
    current: dict | None = None
    for line in text.split("\n"):
        if line and not line[0].isspace() and not line.startswith("#"):
            _close(current, backends)
            words = line.split()
            current = None
            if words[0] == "backend":
                if len(words) != 2 or words[1] in backends:
                    raise NoPlan(f"unexpected backend line {line!r}")
                current = {"name": words[1], "balance": "", "disabled": False,
                           "external_check": False, "default_server": (), "servers": {}}  # fmt: skip
        words = line.split()
        if current is not None and words and words[0] == "server":
            server = _server(line)
            if server.name in current["servers"]:
                raise NoPlan(f"server {server.name} appears twice")
            current["servers"][server.name] = server
            continue
        if current is not None and words:
            if words[0] == "balance":
                current["balance"] = " ".join(words[1:])
            elif words == ["disabled"]:
                current["disabled"] = True
            elif words == ["option", "external-check"]:
                current["external_check"] = True
            elif words[0] == "default-server":
                current["default_server"] = _checked_args(line, words[1:])
        skeleton.append(line)
    _close(current, backends)
    return Parsed(skeleton="\n".join(skeleton), backends=backends)


def _close(current: dict | None, backends: dict[str, Backend]) -> None:
    if current is not None:
        backends[current["name"]] = Backend(**current)


def _server(line: str) -> Server:
    words = line.split()
    if len(words) < 3:
        raise NoPlan(f"unexpected server line {line!r}")
    name, location = words[1], words[2]
    args = _checked_args(line, words[3:])
    address, port = _split_location(location)
    options = _options(args)
    weight = options.get("weight", ("1",))[0]
    if not weight.isdigit():
        raise NoPlan(f"unexpected weight in {line!r}")
    identity = []
    for keyword, values in options.items():
        if keyword not in ("weight", "disabled"):
            identity.extend((keyword, *values))
    return Server(
        name=name,
        address=address,
        port=port,
        weight=int(weight),
        disabled="disabled" in options,
        check="check" in options,
        args=args,
        identity=tuple(identity),
    )


def _checked_args(line: str, args: Sequence[str]) -> tuple[str, ...]:
    if _UNSPLITTABLE & set(line):
        raise NoPlan(f"unexpected characters in {line!r}")
    _options(args)
    return tuple(args)


def _options(args: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """keyword -> its arguments, for the keywords this module knows (NoPlan on any other)."""
    options: dict[str, tuple[str, ...]] = {}
    index = 0
    while index < len(args):
        keyword = args[index]
        if keyword not in KEYWORD_ARITY:
            raise NoPlan(f"unknown server keyword {keyword!r}")
        arity = KEYWORD_ARITY[keyword]
        values = tuple(args[index + 1 : index + 1 + arity])
        if len(values) != arity or keyword in options:
            raise NoPlan(f"unexpected use of {keyword!r}")
        options[keyword] = values
        index += 1 + arity
    return options


def _split_location(location: str) -> tuple[str, int]:
    if location.startswith("["):
        host, sep, port = location[1:].partition("]:")
    else:
        host, sep, port = location.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise NoPlan(f"unexpected server address {location!r}")
    try:
        address = ipaddress.ip_address(host)
    except ValueError as err:
        raise NoPlan(f"unexpected server address {location!r}") from err
    if (address.version == 6) != location.startswith("["):
        raise NoPlan(f"unexpected server address {location!r}")
    return str(address), int(port)


def _location(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _by_path(files: Sequence[RenderedFile]) -> dict[str, RenderedFile]:
    by_path: dict[str, RenderedFile] = {}
    for item in files:
        if item.path in by_path:
            raise NoPlan(f"{item.path} appears twice")
        by_path[item.path] = item
    return by_path


def _pairs(files: Sequence[RenderedFile]) -> list[tuple[str, bytes]]:
    return [(item.path, item.content) for item in files]
