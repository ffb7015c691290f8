"""Heartbeats: build from a stats snapshot, sign into a versioned envelope, send over UDP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import socket
import struct
import time
import uuid
from collections.abc import Awaitable, Callable

from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.health.v1 import heartbeat_pb2

from amphora_agent.stats import StatSnapshot

log = logging.getLogger(__name__)

ENVELOPE_VERSION = 1


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """'<key_id> <hex key>' per line, first line signs; blank and '#' lines are skipped."""
    keys = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, _, hex_key = line.partition(" ")
        keys.append((key_id, bytes.fromhex(hex_key.strip())))
    if not keys:
        raise ValueError("heartbeat key file holds no key")
    return keys


def tag(key: bytes, key_id: str, payload: bytes, version: int = ENVELOPE_VERSION) -> bytes:
    message = struct.pack(">I", version) + key_id.encode("utf-8") + b"\x00" + payload
    return hmac.new(key, message, hashlib.sha256).digest()


def build_heartbeat(
    amphora_id: str,
    sequence: int,
    boot_id: str,
    sent_at_ns: int,
    config_hash: str,
    snapshot: StatSnapshot,
    renderer_version: str = "",
) -> heartbeat_pb2.Heartbeat:
    stamp = Timestamp()
    stamp.FromNanoseconds(sent_at_ns)
    beat = heartbeat_pb2.Heartbeat(
        amphora_id=amphora_id,
        sequence=sequence,
        boot_id=boot_id,
        applied_config_hash=config_hash,
        applied_renderer_version=renderer_version,
        counters_generation=snapshot.generation,
    )
    beat.sent_at.CopyFrom(stamp)
    for fe in snapshot.frontends:
        beat.listeners.add(
            listener_id=fe.name,
            status=fe.status,
            active_connections=fe.active_connections,
            total_connections=fe.total_connections,
            bytes_in=fe.bytes_in,
            bytes_out=fe.bytes_out,
            request_errors=fe.request_errors,
        )
    for pool in snapshot.pools:
        report = beat.pools.add(pool_id=pool.name, status=pool.status)
        for member in pool.members:
            report.members.add(member_id=member.name, status=member.status)
    return beat


def seal(beat: heartbeat_pb2.Heartbeat, key_id: str, key: bytes) -> bytes:
    payload = beat.SerializeToString()
    envelope = heartbeat_pb2.HeartbeatEnvelope(
        version=ENVELOPE_VERSION,
        key_id=key_id,
        payload=payload,
        hmac_sha256=tag(key, key_id, payload),
    )
    return envelope.SerializeToString()


class KeyFile:
    """The signing key, re-read when the file changes (key rotation without a restart)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._mtime: float | None = None
        self._key: tuple[str, bytes] | None = None

    def signing_key(self) -> tuple[str, bytes]:
        mtime = os.stat(self.path).st_mtime
        if self._key is None or mtime != self._mtime:
            with open(self.path) as fh:
                self._key = parse_keys(fh.read())[0]
            self._mtime = mtime
        return self._key


class HeartbeatSender:
    """Sends a heartbeat to every target each interval. The counters and statuses come from the
    newest snapshot, which a task of its own refreshes: a slow stats socket (haproxy busy
    reloading) makes a heartbeat's numbers older, never the heartbeat late, so a live amphora is
    not taken for a dead one."""

    def __init__(
        self,
        amphora_id: str,
        targets: list[tuple[str, int]],
        keys: KeyFile,
        interval: float,
        snapshot: Callable[[], Awaitable[StatSnapshot]],
        config_hash: Callable[[], str],
        renderer_version: Callable[[], str] = lambda: "",
    ) -> None:
        self.amphora_id = amphora_id
        self.targets = list(targets)
        self.keys = keys
        self.interval = interval
        self.snapshot = snapshot
        self.config_hash = config_hash
        self.renderer_version = renderer_version
        self.boot_id = uuid.uuid4().hex
        self.sequence = 0
        self.latest = StatSnapshot()

    @staticmethod
    def _socket(target: tuple[str, int]) -> tuple[socket.socket, tuple]:
        family, kind, proto, _, addr = socket.getaddrinfo(
            target[0], target[1], type=socket.SOCK_DGRAM
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        return sock, addr

    def datagram(self, *, leaving: bool = False) -> bytes:
        key_id, key = self.keys.signing_key()
        self.sequence += 1
        beat = build_heartbeat(
            self.amphora_id,
            self.sequence,
            self.boot_id,
            time.time_ns(),
            self.config_hash(),
            self.latest,
            self.renderer_version(),
        )
        beat.leaving = leaving
        return seal(beat, key_id, key)

    def farewell(self) -> None:
        """The last heartbeat of an agent that stops on purpose (leaving set), to every target,
        so the health service forgets the amphora instead of taking its silence for a death."""
        try:
            data = self.datagram(leaving=True)
        except Exception:
            log.exception("farewell heartbeat not built")
            return
        for target in self.targets:
            try:
                sock, addr = self._socket(target)
                with sock:
                    sock.sendto(data, addr)
            except OSError as err:
                log.warning("farewell heartbeat to %s:%d failed: %s", *target, err)

    async def refresh(self) -> None:
        """Keeps `latest` current; a snapshot that takes longer than an interval is given up."""
        while True:
            started = time.monotonic()
            try:
                self.latest = await asyncio.wait_for(self.snapshot(), max(self.interval, 0.5))
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the last snapshot stands
                log.debug("stats snapshot failed: %r", err)
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def run(self) -> None:
        socks: dict[tuple[str, int], tuple[socket.socket, tuple]] = {}
        refresher = asyncio.create_task(self.refresh(), name="heartbeat-stats")
        try:
            while True:
                started = time.monotonic()
                try:
                    data = self.datagram()
                except Exception:  # a heartbeat problem must never take the agent down
                    log.exception("heartbeat failed")
                    data = b""
                for target in self.targets if data else ():
                    try:
                        if target not in socks:
                            socks[target] = self._socket(target)
                        sock, addr = socks[target]
                        sock.sendto(data, addr)
                    except OSError as err:
                        log.warning("heartbeat to %s:%d failed: %s", *target, err)
                        sock_addr = socks.pop(target, None)
                        if sock_addr is not None:
                            sock_addr[0].close()
                await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            refresher.cancel()
            await asyncio.gather(refresher, return_exceptions=True)
            for sock, _ in socks.values():
                sock.close()
