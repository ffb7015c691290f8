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
) -> heartbeat_pb2.Heartbeat:
    stamp = Timestamp()
    stamp.FromNanoseconds(sent_at_ns)
    beat = heartbeat_pb2.Heartbeat(
        amphora_id=amphora_id, sequence=sequence, boot_id=boot_id, applied_config_hash=config_hash
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
    def __init__(
        self,
        amphora_id: str,
        target: tuple[str, int],
        keys: KeyFile,
        interval: float,
        snapshot: Callable[[], Awaitable[StatSnapshot]],
        config_hash: Callable[[], str],
    ) -> None:
        self.amphora_id = amphora_id
        self.target = target
        self.keys = keys
        self.interval = interval
        self.snapshot = snapshot
        self.config_hash = config_hash
        self.boot_id = uuid.uuid4().hex
        self.sequence = 0

    def _socket(self) -> tuple[socket.socket, tuple]:
        family, kind, proto, _, addr = socket.getaddrinfo(
            self.target[0], self.target[1], type=socket.SOCK_DGRAM
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        return sock, addr

    async def send_one(self, sock: socket.socket, addr: tuple) -> None:
        snapshot = await self.snapshot()
        key_id, key = self.keys.signing_key()
        self.sequence += 1
        beat = build_heartbeat(
            self.amphora_id,
            self.sequence,
            self.boot_id,
            time.time_ns(),
            self.config_hash(),
            snapshot,
        )
        sock.sendto(seal(beat, key_id, key), addr)

    async def run(self) -> None:
        sock = None
        try:
            while True:
                started = time.monotonic()
                try:
                    if sock is None:
                        sock, addr = self._socket()
                    await self.send_one(sock, addr)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a heartbeat problem must never take the agent down
                    log.exception("heartbeat failed")
                    if sock is not None:
                        sock.close()
                        sock = None
                await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            if sock is not None:
                sock.close()
