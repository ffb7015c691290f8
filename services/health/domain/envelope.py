"""The signed heartbeat envelope: sealing, opening and the reasons a datagram is rejected.

hmac_sha256 = HMAC-SHA256(key, uint32_be(version) || utf8(key_id) || 0x00 || payload), version 1,
where key is the key derived for the amphora the payload names (amphora_keys.py) from the master
key key_id names. Tags are compared in constant time; unknown versions and key ids are dropped
before anything else, and before the tag is checked only the payload's amphora_id is read (by a
bounded walk of its top-level fields, claimed_amphora_id), so an unauthenticated sender never
reaches the heartbeat decoder.
"""

from __future__ import annotations

import enum
import functools
import hmac
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from google.protobuf.message import DecodeError
from lbaas.health.v1 import heartbeat_pb2

from services.common.heartbeat_keys import parse_key_lines
from services.health.domain.amphora_keys import AmphoraKeys, derive_amphora_key

ENVELOPE_VERSION = 1
# Longest amphora_id, in UTF-8 bytes, a key is derived for (intake.MAX_TEXT characters at most
# are stored; this only bounds what an unauthenticated datagram can make us derive and cache).
MAX_AMPHORA_ID_BYTES = 256


class RejectReason(enum.Enum):
    UNPARSEABLE = "unparseable"
    BAD_VERSION = "bad_version"
    UNKNOWN_KEY = "unknown_key"
    BAD_HMAC = "bad_hmac"
    # A good tag made with the master key instead of the amphora's own: an agent from before
    # per-amphora keys (refused unless LBAAS_HEALTH_ACCEPT_MASTER_KEY is on), or the master key
    # in the wrong hands.
    MASTER_KEY = "master_key"
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
    """The master heartbeat keys (the controller's key file) by key id; signing_key_id names the
    one agents sign new heartbeats with (each with its own key derived from it)."""

    keys: Mapping[str, bytes]
    signing_key_id: str = ""

    def get(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)


def parse_key_file(text: str) -> KeyRing:
    """Parses '<key_id> <hex key>' lines; the first key is the signing key. '#' starts a comment."""
    try:
        lines = parse_key_lines(text)
    except ValueError as err:
        raise ValueError(f"heartbeat key file {err}") from None
    return KeyRing(keys=dict(lines), signing_key_id=lines[0][0] if lines else "")


@functools.lru_cache(maxsize=64)
def _prefix(version: int, key_id: str) -> bytes:
    return struct.pack(">I", version) + key_id.encode("utf-8") + b"\x00"


def _tag(key: bytes, version: int, key_id: str, payload: bytes) -> bytes:
    return hmac.digest(key, _prefix(version, key_id) + payload, "sha256")


def seal(heartbeat: heartbeat_pb2.Heartbeat, key_id: str, key: bytes) -> bytes:
    """The datagram carrying heartbeat, signed with key, which open_signed accepts only if it
    is the key derived for heartbeat.amphora_id (derive_amphora_key); for tests and tools."""
    payload = heartbeat.SerializeToString()
    envelope = heartbeat_pb2.HeartbeatEnvelope(
        version=ENVELOPE_VERSION,
        key_id=key_id,
        payload=payload,
        hmac_sha256=_tag(key, ENVELOPE_VERSION, key_id, payload),
    )
    return envelope.SerializeToString()


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def claimed_amphora_id(payload: bytes) -> bytes | None:
    """The first amphora_id (field 1) of a serialized Heartbeat, as UTF-8 bytes, read without
    the protobuf decoder; None when there is none or the fields before it are malformed.

    Agents write field 1 first, so this usually reads one field. Protobuf lets a later field 1
    win; open_signed checks that the decoded heartbeat names the same amphora."""
    end = len(payload)
    # The usual case: field 1 first, shorter than 128 bytes (one length byte).
    if end >= 2 and payload[0] == 0x0A and payload[1] < 0x80 and 2 + payload[1] <= end:
        return payload[2 : 2 + payload[1]]
    pos = 0
    try:
        while pos < end:
            tag, pos = _varint(payload, pos)
            field, wire_type = tag >> 3, tag & 7
            if wire_type == 0:
                _, pos = _varint(payload, pos)
            elif wire_type == 1:
                pos += 8
            elif wire_type == 5:
                pos += 4
            elif wire_type == 2:
                length, pos = _varint(payload, pos)
                if pos + length > end:
                    return None
                if field == 1:
                    return payload[pos : pos + length]
                pos += length
            else:  # groups and invalid wire types: no agent writes them
                return None
    except ValueError:
        return None
    return None


class Opened(NamedTuple):
    heartbeat: heartbeat_pb2.Heartbeat
    # The payload as it was sent (what the database keeps).
    payload: bytes
    # Accepted with the master key (accept_master only): an agent from before per-amphora keys.
    master_signed: bool = False


def open_envelope(
    datagram: bytes, keyring: KeyRing, amphora_keys: AmphoraKeys | None = None
) -> heartbeat_pb2.Heartbeat:
    """Verifies datagram and returns its heartbeat, or raises Rejected.

    Replays are not checked here (that needs state; see replay.ReplayGuard).
    """
    return open_signed(datagram, keyring, amphora_keys).heartbeat


def open_signed(
    datagram: bytes,
    keyring: KeyRing,
    amphora_keys: AmphoraKeys | None = None,
    *,
    accept_master: bool = False,
) -> Opened:
    """open_envelope, also returning the verified payload.

    The tag must be made with the key derived from keyring's key_id key for the amphora the
    payload names, so a datagram signed with amphora A's key that claims amphora B is refused
    (BAD_HMAC), and so is one signed with the master key itself (MASTER_KEY) unless
    accept_master (a transitional setting for agents from before per-amphora keys) is set.
    amphora_keys caches the derivations (None: derive every time)."""
    envelope = heartbeat_pb2.HeartbeatEnvelope()
    try:
        envelope.ParseFromString(datagram)
    except (DecodeError, ValueError) as err:
        raise Rejected(RejectReason.UNPARSEABLE, f"envelope: {err}") from None
    if envelope.version != ENVELOPE_VERSION:
        raise Rejected(RejectReason.BAD_VERSION, f"version {envelope.version}")
    master = keyring.get(envelope.key_id)
    if master is None:
        raise Rejected(RejectReason.UNKNOWN_KEY, f"key id {envelope.key_id[:64]!r}")
    claimed = claimed_amphora_id(envelope.payload)
    if not claimed:
        raise Rejected(RejectReason.UNPARSEABLE, "heartbeat without amphora_id")
    if len(claimed) > MAX_AMPHORA_ID_BYTES:
        raise Rejected(RejectReason.UNPARSEABLE, "amphora_id is longer than it may be")
    if amphora_keys is None:
        key = derive_amphora_key(master, claimed)
    else:
        key = amphora_keys.get(master, claimed)
    received = envelope.hmac_sha256
    master_signed = False
    if not hmac.compare_digest(
        _tag(key, envelope.version, envelope.key_id, envelope.payload), received
    ):
        detail = f"key id {envelope.key_id!r}, amphora {claimed[:64]!r}"
        # Told apart only for the operator: an agent from before per-amphora keys.
        if not hmac.compare_digest(
            _tag(master, envelope.version, envelope.key_id, envelope.payload), received
        ):
            raise Rejected(RejectReason.BAD_HMAC, detail)
        if not accept_master:
            raise Rejected(RejectReason.MASTER_KEY, f"{detail}: signed with the master key")
        master_signed = True
    heartbeat = heartbeat_pb2.Heartbeat()
    try:
        heartbeat.ParseFromString(envelope.payload)
    except (DecodeError, ValueError) as err:
        raise Rejected(RejectReason.UNPARSEABLE, f"heartbeat: {err}") from None
    if heartbeat.amphora_id.encode("utf-8") != claimed:
        # Only a payload with field 1 twice gets here: its key was chosen by another id.
        raise Rejected(RejectReason.UNPARSEABLE, "heartbeat names more than one amphora_id")
    return Opened(heartbeat, envelope.payload, master_signed)
