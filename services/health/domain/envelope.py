"""The signed heartbeat envelope: sealing, opening and the reasons a datagram is rejected.

hmac_sha256 = HMAC-SHA256(key, uint32_be(version) || utf8(key_id) || 0x00 || payload), version 1.
Tags are compared in constant time; unknown versions and key ids are dropped before any parsing
of the payload, so an unauthenticated sender never reaches the heartbeat decoder.
"""

from __future__ import annotations

import enum
import functools
import hmac
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from lbaas.health.v1 import heartbeat_pb2

ENVELOPE_VERSION = 1


class RejectReason(enum.Enum):
    UNPARSEABLE = "unparseable"
    BAD_VERSION = "bad_version"
    UNKNOWN_KEY = "unknown_key"
    BAD_HMAC = "bad_hmac"
    REPLAY = "replay"
    OUT_OF_WINDOW = "out_of_window"


class Rejected(Exception):
    """A datagram that is dropped; reason says why (counted), detail is for the log only."""

    def __init__(self, reason: RejectReason, detail: str = ""):
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class KeyRing:
    """Heartbeat keys by key id; signing_key_id names the key new heartbeats are sealed with."""

    keys: Mapping[str, bytes]
    signing_key_id: str = ""

    def get(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)


def parse_key_file(text: str) -> KeyRing:
    """Parses '<key_id> <hex key>' lines; the first key is the signing key. '#' starts a comment."""
    keys: dict[str, bytes] = {}
    signing = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"heartbeat key file line {number}: expected '<key_id> <hex key>'")
        key_id, hex_key = parts
        try:
            key = bytes.fromhex(hex_key)
        except ValueError:
            raise ValueError(f"heartbeat key file line {number}: key is not hex") from None
        if not key:
            raise ValueError(f"heartbeat key file line {number}: empty key")
        if key_id in keys:
            raise ValueError(f"heartbeat key file line {number}: duplicate key id {key_id!r}")
        keys[key_id] = key
        signing = signing or key_id
    return KeyRing(keys=keys, signing_key_id=signing)


@functools.lru_cache(maxsize=64)
def _prefix(version: int, key_id: str) -> bytes:
    return struct.pack(">I", version) + key_id.encode("utf-8") + b"\x00"


def _tag(key: bytes, version: int, key_id: str, payload: bytes) -> bytes:
    return hmac.digest(key, _prefix(version, key_id) + payload, "sha256")


def seal(heartbeat: heartbeat_pb2.Heartbeat, key_id: str, key: bytes) -> bytes:
    """The datagram carrying heartbeat, signed with key (used by tests and tools)."""
    payload = heartbeat.SerializeToString()
    envelope = heartbeat_pb2.HeartbeatEnvelope(
        version=ENVELOPE_VERSION,
        key_id=key_id,
        payload=payload,
        hmac_sha256=_tag(key, ENVELOPE_VERSION, key_id, payload),
    )
    return envelope.SerializeToString()


def open_envelope(datagram: bytes, keyring: KeyRing) -> heartbeat_pb2.Heartbeat:
    """Verifies datagram and returns its heartbeat, or raises Rejected.

    Replays are not checked here (that needs state; see replay.ReplayGuard).
    """
    return open_signed(datagram, keyring)[0]


def open_signed(datagram: bytes, keyring: KeyRing) -> tuple[heartbeat_pb2.Heartbeat, bytes]:
    """open_envelope, also returning the verified payload (the heartbeat as it was sent)."""
    envelope = heartbeat_pb2.HeartbeatEnvelope()
    try:
        envelope.ParseFromString(datagram)
    except (DecodeError, ValueError) as err:
        raise Rejected(RejectReason.UNPARSEABLE, f"envelope: {err}") from None
    if envelope.version != ENVELOPE_VERSION:
        raise Rejected(RejectReason.BAD_VERSION, f"version {envelope.version}")
    key = keyring.get(envelope.key_id)
    if key is None:
        raise Rejected(RejectReason.UNKNOWN_KEY, f"key id {envelope.key_id[:64]!r}")
    expected = _tag(key, envelope.version, envelope.key_id, envelope.payload)
    if not hmac.compare_digest(expected, envelope.hmac_sha256):
        raise Rejected(RejectReason.BAD_HMAC, f"key id {envelope.key_id!r}")
    heartbeat = heartbeat_pb2.Heartbeat()
    try:
        heartbeat.ParseFromString(envelope.payload)
    except (DecodeError, ValueError) as err:
        raise Rejected(RejectReason.UNPARSEABLE, f"heartbeat: {err}") from None
    if not heartbeat.amphora_id:
        raise Rejected(RejectReason.UNPARSEABLE, "heartbeat without amphora_id")
    return heartbeat, envelope.payload
