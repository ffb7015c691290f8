"""Envelope verification: the tag under each amphora's own key, the key id, the version, and
malformed datagrams."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from lbaas.health.v1 import heartbeat_pb2

from services.health.domain.amphora_keys import AmphoraKeys, derive_amphora_key
from services.health.domain.envelope import (
    KeyRing,
    Rejected,
    RejectReason,
    claimed_amphora_id,
    open_envelope,
    open_signed,
    parse_key_file,
    seal,
)
from tests.unit.health.builders import heartbeat

KEY = bytes(range(32))
OTHER = b"other-key"
RING = KeyRing(keys={"k1": KEY, "k2": OTHER}, signing_key_id="k1")


def _own(hb: heartbeat_pb2.Heartbeat, key_id: str = "k1", master: bytes = KEY) -> bytes:
    """hb sealed as its agent seals it: with the key derived for hb.amphora_id."""
    return seal(hb, key_id, derive_amphora_key(master, hb.amphora_id))


def _reason(datagram: bytes, ring: KeyRing = RING, **kw) -> RejectReason:
    with pytest.raises(Rejected) as caught:
        open_signed(datagram, ring, **kw)
    return caught.value.reason


def test_good_envelope_opens_to_the_same_heartbeat():
    hb = heartbeat(sequence=7, listeners={"l1": "OPEN"})
    assert open_envelope(_own(hb), RING) == hb
    assert open_envelope(_own(hb), RING, AmphoraKeys()) == hb


def test_second_key_in_the_ring_is_accepted_with_its_own_derivation():
    hb = heartbeat()
    assert open_envelope(_own(hb, "k2", OTHER), RING).amphora_id == "amp-1"
    # amp-1's k1 key under the id k2 is not amp-1's k2 key.
    assert _reason(seal(hb, "k2", derive_amphora_key(KEY, "amp-1"))) is RejectReason.BAD_HMAC


def test_another_amphoras_key_is_refused():
    # amp-2's agent (its own key only) claims to be amp-1.
    forged = seal(heartbeat(amphora_id="amp-1"), "k1", derive_amphora_key(KEY, "amp-2"))
    assert _reason(forged) is RejectReason.BAD_HMAC
    assert _reason(forged, amphora_keys=AmphoraKeys()) is RejectReason.BAD_HMAC
    assert _reason(forged, accept_master=True) is RejectReason.BAD_HMAC


def test_master_key_is_refused_unless_the_transitional_setting_is_on():
    hb = heartbeat()
    old_agent = seal(hb, "k1", KEY)  # an agent from before per-amphora keys
    assert _reason(old_agent) is RejectReason.MASTER_KEY
    opened = open_signed(old_agent, RING, accept_master=True)
    assert (opened.heartbeat, opened.master_signed) == (hb, True)
    assert open_signed(_own(hb), RING, accept_master=True).master_signed is False


def test_tag_matches_the_documented_definition():
    datagram = _own(heartbeat(amphora_id="amp-9"))
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(datagram)
    # RFC 5869 by hand: no salt (32 zero bytes), one block of output.
    prk = hmac.new(bytes(32), KEY, hashlib.sha256).digest()
    amphora_key = hmac.new(prk, b"lbaas heartbeat v1amp-9\x01", hashlib.sha256).digest()
    expected = hmac.new(
        amphora_key, b"\x00\x00\x00\x01" + b"k1" + b"\x00" + env.payload, hashlib.sha256
    ).digest()
    assert env.hmac_sha256 == expected


def test_flipped_tag_bit_is_rejected():
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(_own(heartbeat()))
    env.hmac_sha256 = bytes([env.hmac_sha256[0] ^ 1]) + env.hmac_sha256[1:]
    assert _reason(env.SerializeToString()) is RejectReason.BAD_HMAC


def test_modified_payload_is_rejected():
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(_own(heartbeat(sequence=1)))
    env.payload = heartbeat(sequence=2).SerializeToString()
    assert _reason(env.SerializeToString()) is RejectReason.BAD_HMAC


def test_wrong_key_for_key_id_is_rejected():
    assert _reason(_own(heartbeat(), "k1", b"not the key")) is RejectReason.BAD_HMAC


def test_key_id_is_bound_by_the_tag():
    # Same key registered under two ids: the tag still covers the id it was made for.
    ring = KeyRing(keys={"a": KEY, "b": KEY})
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(_own(heartbeat(), "a"))
    env.key_id = "b"
    assert _reason(env.SerializeToString(), ring) is RejectReason.BAD_HMAC


def test_unknown_key_id_is_rejected():
    assert _reason(_own(heartbeat(), "k9")) is RejectReason.UNKNOWN_KEY


def test_other_version_is_rejected():
    env = heartbeat_pb2.HeartbeatEnvelope.FromString(_own(heartbeat()))
    env.version = 2
    assert _reason(env.SerializeToString()) is RejectReason.BAD_VERSION


def test_truncated_datagram_is_rejected():
    datagram = _own(heartbeat(listeners={"l1": "OPEN"}))
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


def _envelope(payload: bytes, key: bytes, key_id: str = "k1") -> bytes:
    tag = hmac.new(key, b"\x00\x00\x00\x01" + key_id.encode() + b"\x00" + payload, "sha256")
    return heartbeat_pb2.HeartbeatEnvelope(
        version=1, key_id=key_id, payload=payload, hmac_sha256=tag.digest()
    ).SerializeToString()


def test_signed_garbage_payload_is_unparseable():
    assert _reason(_envelope(b"\xff\xff\xff", KEY)) is RejectReason.UNPARSEABLE
    # amphora_id readable, the rest not: refused after the tag, by the decoder.
    payload = b"\x0a\x05amp-1" + b"\x12\xff"
    assert claimed_amphora_id(payload) == b"amp-1"
    assert _reason(_envelope(payload, derive_amphora_key(KEY, "amp-1"))) is RejectReason.UNPARSEABLE


def test_heartbeat_without_amphora_id_is_unparseable():
    assert _reason(seal(heartbeat(amphora_id=""), "k1", KEY)) is RejectReason.UNPARSEABLE


def test_overlong_amphora_id_is_refused_before_any_key_is_derived():
    keys = AmphoraKeys()
    hb = heartbeat(amphora_id="a" * 257)
    assert _reason(_own(hb), amphora_keys=keys) is RejectReason.UNPARSEABLE
    assert len(keys) == 0


def test_amphora_id_given_twice_is_refused_even_with_the_first_ids_key():
    # Protobuf lets the second amphora_id win; the key was chosen by the first.
    payload = heartbeat(amphora_id="amp-1").SerializeToString() + b"\x0a\x05amp-2"
    assert heartbeat_pb2.Heartbeat.FromString(payload).amphora_id == "amp-2"
    datagram = _envelope(payload, derive_amphora_key(KEY, "amp-1"))
    assert _reason(datagram) is RejectReason.UNPARSEABLE
    assert _reason(_envelope(payload, derive_amphora_key(KEY, "amp-2"))) is RejectReason.BAD_HMAC


@pytest.mark.parametrize(
    "hb",
    [
        heartbeat(),
        heartbeat(amphora_id="0c2f6a4e-3b7d-4f0e-8a1c-6d5e4f3a2b1c", listeners={"l": "OPEN"}),
        heartbeat(amphora_id="ämphora-ü", pools={"p": ("UP", {"m": "UP"})}),
        heartbeat_pb2.Heartbeat(sequence=300, boot_id="b", amphora_id="late"),
    ],
)
def test_claimed_amphora_id_is_what_the_decoder_reads(hb):
    payload = hb.SerializeToString()
    assert claimed_amphora_id(payload) == hb.amphora_id.encode()
    # Field order does not matter: amphora_id after other fields of every wire type.
    tail = b"\x10\xac\x02" + b"\x59" + bytes(8) + b"\x65" + bytes(4) + b"\x3a\x01x" + payload
    assert claimed_amphora_id(tail) == hb.amphora_id.encode()


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x10\x01", b"\x0a\x05amp", b"\x0b\x0a\x01x", b"\x10" + b"\xff" * 11, b"\x59\x00"],
)
def test_claimed_amphora_id_of_payloads_without_a_readable_one(payload):
    assert claimed_amphora_id(payload) is None


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
