"""Envelope verification: the tag, the key id, the version, and malformed datagrams."""

from __future__ import annotations

import pytest
from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.envelope import (
    KeyRing,
    Rejected,
    RejectReason,
    open_envelope,
    parse_key_file,
    seal,
)
from tests.unit.health.builders import heartbeat

KEY = bytes(range(32))
RING = KeyRing(keys={"k1": KEY, "k2": b"other-key"}, signing_key_id="k1")


def _reason(datagram: bytes, ring: KeyRing = RING) -> RejectReason:
    with pytest.raises(Rejected) as caught:
        open_envelope(datagram, ring)
    return caught.value.reason


def test_good_envelope_opens_to_the_same_heartbeat():
    hb = heartbeat(sequence=7, listeners={"l1": "OPEN"})
    assert open_envelope(seal(hb, "k1", KEY), RING) == hb


def test_second_key_in_the_ring_is_accepted_too():
    hb = heartbeat()
    assert open_envelope(seal(hb, "k2", b"other-key"), RING).amphora_id == "amp-1"


def test_tag_matches_the_documented_definition():
    import hashlib
    import hmac

    datagram = seal(heartbeat(), "k1", KEY)
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(datagram)
    expected = hmac.new(
        KEY, b"\x00\x00\x00\x01" + b"k1" + b"\x00" + env.payload, hashlib.sha256
    ).digest()
    assert env.hmac_sha256 == expected


def test_flipped_tag_bit_is_rejected():
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(seal(heartbeat(), "k1", KEY))
    env.hmac_sha256 = bytes([env.hmac_sha256[0] ^ 1]) + env.hmac_sha256[1:]
    assert _reason(env.SerializeToString()) is RejectReason.BAD_HMAC


def test_modified_payload_is_rejected():
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(seal(heartbeat(sequence=1), "k1", KEY))
    env.payload = heartbeat(sequence=2).SerializeToString()
    assert _reason(env.SerializeToString()) is RejectReason.BAD_HMAC


def test_wrong_key_for_key_id_is_rejected():
    assert _reason(seal(heartbeat(), "k1", b"not the key")) is RejectReason.BAD_HMAC


def test_key_id_is_bound_by_the_tag():
    # Same key registered under two ids: the tag still covers the id it was made for.
    ring = KeyRing(keys={"a": KEY, "b": KEY})
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(seal(heartbeat(), "a", KEY))
    env.key_id = "b"
    assert _reason(env.SerializeToString(), ring) is RejectReason.BAD_HMAC


def test_unknown_key_id_is_rejected():
    assert _reason(seal(heartbeat(), "k9", KEY)) is RejectReason.UNKNOWN_KEY


def test_other_version_is_rejected():
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(seal(heartbeat(), "k1", KEY))
    env.version = 2
    assert _reason(env.SerializeToString()) is RejectReason.BAD_VERSION


def test_truncated_datagram_is_rejected():
    datagram = seal(heartbeat(listeners={"l1": "OPEN"}), "k1", KEY)
    assert _reason(datagram[: len(datagram) // 2]) in (
        RejectReason.UNPARSEABLE,
        RejectReason.BAD_HMAC,
        RejectReason.UNKNOWN_KEY,
        RejectReason.BAD_VERSION,
    )
    assert _reason(datagram[:-1]) is not None


@pytest.mark.parametrize("garbage", [b"", b"\xff\xff\xff", b"hello world"])
def test_garbage_is_rejected(garbage):
    assert _reason(garbage) in (RejectReason.UNPARSEABLE, RejectReason.BAD_VERSION)


def test_signed_garbage_payload_is_unparseable():
    import hashlib
    import hmac

    payload = b"\xff\xff\xff"
    tag = hmac.new(KEY, b"\x00\x00\x00\x01k1\x00" + payload, hashlib.sha256).digest()
    env = heartbeat_pb2.HeartbeatEnvelope(version=1, key_id="k1", payload=payload, hmac_sha256=tag)
    assert _reason(env.SerializeToString()) is RejectReason.UNPARSEABLE


def test_heartbeat_without_amphora_id_is_unparseable():
    assert _reason(seal(heartbeat(amphora_id=""), "k1", KEY)) is RejectReason.UNPARSEABLE


def test_key_file_first_line_signs():
    ring = parse_key_file(
        "# rotated 2024\nnew 00ff\n\nold abcd  # kept for agents not yet updated\n"
    )
    assert ring.signing_key_id == "new"
    assert ring.keys == {"new": b"\x00\xff", "old": b"\xab\xcd"}


@pytest.mark.parametrize("text", ["k1", "k1 zz", "k1 00 extra", "k1 00\nk1 01"])
def test_bad_key_file_is_refused(text):
    with pytest.raises(ValueError):
        parse_key_file(text)
