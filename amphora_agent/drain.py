"""Drain: stop taking new TCP connections on some addresses and wait for those under way to end.

New connections are refused at the SYN by an nftables table of the agent's own in the agent's
network namespace (the amphora's): a SYN without ACK to a drained address is dropped, so the
client retransmits it, by then to wherever the address has moved; packets of connections already
open pass. The table is replaced in one `nft -f -` transaction (create, delete, create again),
so a second Drain replaces the first and no moment is left with neither. Connections under way
are counted from /proc/net/tcp and /proc/net/tcp6, which show the sockets of the reader's network
namespace: a socket whose local address is drained counts while it is in a state that still
carries or owes data to a client.

A drain lifts by itself after its hold (a retirement the controller abandoned must not leave the
amphora dark), when a Drain with no address asks, when the agent stops, and when it starts
(a table left by an agent that crashed).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# /proc/net/tcp states (include/net/tcp_states.h) of a connection still under way. Not counted:
# LISTEN (0A), TIME_WAIT (06, nothing left to send), FIN_WAIT2 (05: this side has closed and
# the peer has acknowledged; what remains is the peer's FIN), SYN_SENT / CLOSE (outgoing or gone).
BUSY_STATES = {
    "01": "ESTABLISHED",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0B": "CLOSING",
}
POLL_INTERVAL = 0.01
# A scan of a very busy appliance's socket tables can take a while; the next one waits at least
# this many times as long as the last took, so waiting never takes much more than a third of a core.
POLL_BACKOFF = 2.0
NFT_TIMEOUT = 10.0
LIFT_RETRY = 5.0  # after a hold's lift failed
MAX_ADDRESSES = 256
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")


class DrainError(Exception):
    """nft failed; str() is the operator detail."""


class DrainUnavailable(DrainError):
    """This agent cannot drain (no nft, or nft cannot change this namespace's ruleset)."""


class AddressError(ValueError):
    """A drain address the agent refuses; str() is for the caller."""


def table_name(amphora_id: str) -> str:
    """`lbaas_drain_<the id's letters and digits>`: one table per amphora, so agents sharing a
    namespace (the local compute driver runs them on the host) never lift each other's drain."""
    return ("lbaas_drain_" + re.sub(r"[^a-z0-9]", "", amphora_id.lower()))[:64].rstrip("_")


def parse_addresses(values: Iterable[str]) -> tuple[IPAddress, ...]:
    """The addresses, checked and without duplicates; an IPv4-mapped IPv6 address is its IPv4."""
    found: list[IPAddress] = []
    for value in values:
        shown = repr(value if len(value) <= 64 else value[:64] + "...")
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise AddressError(f"not an IP address: {shown}") from None
        if isinstance(address, ipaddress.IPv6Address):
            if address.scope_id is not None:  # "fe80::1%eth0": not a VIP, and not nft syntax
                raise AddressError(f"an address with a scope is not drained: {shown}")
            if address.ipv4_mapped is not None:
                address = address.ipv4_mapped
        if address.is_unspecified or address.is_multicast:
            raise AddressError(f"not a unicast address: {shown}")
        if address not in found:
            found.append(address)
    if len(found) > MAX_ADDRESSES:
        raise AddressError(f"at most {MAX_ADDRESSES} addresses at once, got {len(found)}")
    return tuple(found)


def ruleset(table: str, addresses: Sequence[IPAddress]) -> str:
    """The `nft -f` input that replaces the table with one dropping new connections to the
    addresses; with no address, it only removes the table (and succeeds when there is none)."""
    if not _TABLE_NAME.match(table):
        raise ValueError(f"bad nftables table name {table!r}")
    lines = [
        f"table inet {table} {{}}",  # so the delete below never fails
        f"delete table inet {table}",
    ]
    if addresses:
        lines += [
            f"table inet {table} {{",
            "\tchain input {",
            "\t\ttype filter hook input priority filter; policy accept;",
        ]
        for address in addresses:
            family = "ip" if address.version == 4 else "ip6"
            lines.append(
                f"\t\t{family} daddr {address} tcp flags & (syn | ack) == syn counter drop"
            )
        lines += ["\t}", "}"]
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=4096)
def decode_address(hex_address: str) -> IPAddress:
    """A /proc/net/tcp{,6} address without its port: the kernel prints the 4 bytes of an IPv4
    address as one host-order (little-endian here) word, an IPv6 address as four such words.
    An IPv4-mapped IPv6 address (an IPv4 client of a dual-stack socket) is given as its IPv4."""
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw[::-1])
    if len(raw) == 16:
        v6 = ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
        return v6.ipv4_mapped or v6
    raise ValueError(f"not a /proc/net/tcp address: {hex_address!r}")


def sockets(text: str) -> Iterator[tuple[IPAddress, int, str]]:
    """(local address, local port, state as two hex digits) of each line of /proc/net/tcp{,6}."""
    for line in text.splitlines()[1:]:
        fields = line.split(None, 4)
        if len(fields) < 4:
            continue
        host, _, port = fields[1].rpartition(":")
        yield decode_address(host), int(port, 16), fields[3].upper()


def busy_count(text: str, addresses: Iterable[IPAddress]) -> int:
    """Connections under way (BUSY_STATES) whose local address is one of the addresses."""
    wanted = frozenset(addresses)
    return sum(1 for a, _, st in sockets(text) if st in BUSY_STATES and a in wanted)


def find_nft(binary: str) -> str:
    """The nft binary to run ("" when there is none): a path as given when it is executable,
    a bare name looked up on PATH and then in /usr/sbin (not on every user's PATH)."""
    if not binary:
        return ""
    found = shutil.which(binary)
    if found:
        return found
    fallback = os.path.join("/usr/sbin", binary)
    if os.sep not in binary and os.access(fallback, os.X_OK):
        return fallback
    return ""


class Drainer:
    """The drain of one agent: its nftables table, the hold timer, and the wait."""

    def __init__(
        self,
        nft_bin: str,
        table: str,
        default_hold: float,
        *,
        proc_net: str = "/proc/net",
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        ruleset(table, ())  # refuse a bad name now, not at the first drain
        self.binary = find_nft(nft_bin)
        self.table = table
        self.default_hold = default_hold
        self.proc_net = proc_net
        self.poll_interval = poll_interval
        # Until start() has run nft once: then only when it could change the ruleset.
        self.available = bool(self.binary)
        self.addresses: tuple[IPAddress, ...] = ()  # drained now
        self._timer: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Agent start: remove a table an earlier agent run left (it crashed while draining).
        This is also the check that nft works here (root, nf_tables); if not, no drain."""
        if not self.binary:
            log.info("nft is not installed: Drain is not served")
            return
        try:
            await self._nft(ruleset(self.table, ()))
        except DrainError as exc:
            self.available = False
            log.warning("nft cannot change this namespace's ruleset, Drain is not served: %s", exc)

    async def drain(self, values: Sequence[str], timeout: float, hold: float = 0.0) -> int:
        """Drain the addresses (none: lift), then wait up to timeout seconds for connections on
        them to end; the connections still open. The drain lifts by itself after hold seconds
        (0: the default) unless another Drain replaces it first."""
        addresses = parse_addresses(values)
        if not addresses:
            await self.lift()
            return 0
        if not self.available:
            raise DrainUnavailable("this agent cannot drain (nft missing or not permitted)")
        # Shielded: a caller that gives up (its deadline) must not leave a table without its
        # timer, nor a timer for a table that did not go in.
        await asyncio.shield(asyncio.ensure_future(self._install(addresses, hold)))
        return await self.wait(addresses, timeout)

    async def lift(self) -> None:
        async with self._lock:
            self._cancel_timer()
            if not self.available:  # nothing can have been installed
                return
            await self._nft(ruleset(self.table, ()))
            if self.addresses:
                log.info("drain of %s lifted", _shown(self.addresses))
            self.addresses = ()

    async def stop(self) -> None:
        """Agent stop: lift the drain, so an agent restarted by hand does not stay dark."""
        if not self.available:
            return
        try:
            await self.lift()
        except DrainError as exc:
            log.error("could not lift the drain: %s", exc)

    async def wait(self, addresses: Sequence[IPAddress], timeout: float) -> int:
        """Connections under way on the addresses once there are none or timeout seconds passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            began = time.monotonic()
            remaining = await asyncio.to_thread(self.count, addresses)
            took = time.monotonic() - began
            left = deadline - loop.time()
            if remaining == 0 or left <= 0:
                return remaining
            await asyncio.sleep(min(max(self.poll_interval, took * POLL_BACKOFF), left))

    def count(self, addresses: Sequence[IPAddress]) -> int:
        total = 0
        for name in ("tcp", "tcp6"):
            try:
                with open(os.path.join(self.proc_net, name)) as fh:
                    text = fh.read()
            except FileNotFoundError:  # tcp6 without IPv6
                continue
            total += busy_count(text, addresses)
        return total

    # -- internals ---------------------------------------------------------------------------

    async def _install(self, addresses: tuple[IPAddress, ...], hold: float) -> None:
        hold = hold if hold > 0 else self.default_hold
        async with self._lock:
            await self._nft(ruleset(self.table, addresses))  # raises: the old drain stays as is
            self._cancel_timer()
            self._timer = asyncio.create_task(self._expire(hold))
            self.addresses = addresses
        log.info("draining %s (lifts by itself in %.1fs)", _shown(addresses), hold)

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def _expire(self, hold: float) -> None:
        await asyncio.sleep(hold)
        async with self._lock:
            if self._timer is not asyncio.current_task():
                return  # replaced or lifted while this waited for the lock
            self._timer = None
            log.warning("drain of %s held %.1fs: lifting it", _shown(self.addresses), hold)
            try:
                await self._nft(ruleset(self.table, ()))
            except DrainError as exc:
                log.error("could not lift the drain, trying again in %.0fs: %s", LIFT_RETRY, exc)
                self._timer = asyncio.create_task(self._expire(LIFT_RETRY))
                return
            self.addresses = ()

    async def _nft(self, text: str) -> None:
        try:
            proc = await asyncio.create_subprocess_exec(
                self.binary,
                "-f",
                "-",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise DrainError(f"cannot run {self.binary}: {exc}") from None
        try:
            out, _ = await asyncio.wait_for(proc.communicate(text.encode()), NFT_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DrainError(f"{self.binary} -f - timed out") from None
        if proc.returncode != 0:
            detail = out.decode("utf-8", "replace").strip()
            raise DrainError(f"{self.binary} -f - exited {proc.returncode}: {detail}")


def _shown(addresses: Iterable[IPAddress]) -> str:
    return ", ".join(str(a) for a in addresses) or "nothing"
