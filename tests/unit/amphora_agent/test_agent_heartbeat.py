"""Heartbeat building and signing."""

import hashlib
import hmac
import struct

import pytest
from lbaas.health.v1 import heartbeat_pb2

from amphora_agent.heartbeat import build_heartbeat, parse_keys, seal, tag
from amphora_agent.stats import FrontendStat, MemberStat, PoolStat, StatSnapshot

KEY = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)
# HMAC-SHA256(KEY, 00000001 || "k1" || 00 || "payload-bytes"), computed with `openssl dgst`.
KNOWN_TAG = "d539814279b6e3717085463b449faac233fa6e417cb5bccee2f347e6ba86fddb"


def test_tag_matches_known_vector():
    assert tag(KEY, "k1", b"payload-bytes").hex() == KNOWN_TAG


def test_keys_file_first_line_signs():
    keys = parse_keys(f"# rotated 2024\n\nk2 {'ab' * 32}\nk1 {KEY.hex()}\n")
    assert keys == [("k2", bytes.fromhex("ab" * 32)), ("k1", KEY)]
    with pytest.raises(ValueError):
        parse_keys("\n# nothing\n")


def test_heartbeat_carries_the_snapshot_and_verifies():
    snapshot = StatSnapshot(
        frontends=(FrontendStat("L1", "OPEN", 2, 10, 100, 200, 1),),
        pools=(PoolStat("P1", "UP", (MemberStat("M1", "UP"), MemberStat("M2", "no check"))),),
    )
    beat = build_heartbeat("amp-1", 7, "boot-x", 1_700_000_000_250_000_000, "hash-1", snapshot)
    envelope = heartbeat_pb2.HeartbeatEnvelope.FromString(seal(beat, "k1", KEY))
    assert envelope.version == 1 and envelope.key_id == "k1"
    signed = struct.pack(">I", 1) + b"k1\x00" + envelope.payload
    assert hmac.compare_digest(envelope.hmac_sha256, hmac.new(KEY, signed, hashlib.sha256).digest())
    decoded = heartbeat_pb2.Heartbeat.FromString(envelope.payload)
    assert (decoded.amphora_id, decoded.sequence, decoded.boot_id) == ("amp-1", 7, "boot-x")
    assert decoded.applied_config_hash == "hash-1"
    assert (decoded.sent_at.seconds, decoded.sent_at.nanos) == (1700000000, 250000000)
    (listener,) = decoded.listeners
    assert (listener.listener_id, listener.status, listener.active_connections) == ("L1", "OPEN", 2)
    assert (listener.total_connections, listener.bytes_in, listener.bytes_out) == (10, 100, 200)
    assert listener.request_errors == 1
    (pool,) = decoded.pools
    assert [(m.member_id, m.status) for m in pool.members] == [("M1", "UP"), ("M2", "no check")]


def test_heartbeat_without_haproxy_is_empty_but_valid():
    beat = build_heartbeat("amp-1", 1, "boot", 1_000_000_000, "", StatSnapshot())
    assert beat.listeners == [] and beat.pools == [] and beat.sequence == 1
