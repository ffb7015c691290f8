"""Per-amphora heartbeat keys: the derivation, its cache, and the orchestrator (which writes each
agent's key file) and the health service (which checks heartbeats) deriving the same keys."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.health.domain.amphora_keys import AmphoraKeys, derive_amphora_key
from services.health.domain.envelope import parse_key_file
from services.orchestrator.adapters import heartbeat_keys as issuer

MASTER = bytes.fromhex("5a" * 32)
AMP_A = "0c2f6a4e-3b7d-4f0e-8a1c-6d5e4f3a2b1c"
AMP_B = "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"


def _rfc5869(master: bytes, amphora_id: str) -> bytes:
    """HKDF-SHA256 written out (RFC 5869, no salt, 32 bytes: one block)."""
    prk = hmac.new(bytes(32), master, hashlib.sha256).digest()
    info = b"lbaas heartbeat v1" + amphora_id.encode()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def test_derivation_is_the_documented_hkdf_and_deterministic():
    key = derive_amphora_key(MASTER, AMP_A)
    assert key == _rfc5869(MASTER, AMP_A) == derive_amphora_key(MASTER, AMP_A)
    assert derive_amphora_key(MASTER, AMP_A.encode()) == key
    assert len(key) == 32 and key != MASTER


def test_derivation_differs_per_amphora_and_per_master_key():
    keys = {
        derive_amphora_key(MASTER, AMP_A),
        derive_amphora_key(MASTER, AMP_B),
        derive_amphora_key(bytes.fromhex("a5" * 32), AMP_A),  # another key id's master
        derive_amphora_key(MASTER, AMP_A + "x"),
    }
    assert len(keys) == 4


def test_the_orchestrator_derives_what_the_health_service_checks():
    assert issuer.derive_amphora_key(MASTER, AMP_A) == derive_amphora_key(MASTER, AMP_A)
    old = bytes.fromhex("a5" * 16)
    master = issuer.parse_master_keys(f"# rotating\nk2 {MASTER.hex()}\nk1 {old.hex()}  # old\n")
    assert master == [("k2", MASTER), ("k1", old)]

    ring = parse_key_file(issuer.agent_key_file(master, AMP_A).decode())
    # The agent's file: the same key ids in the same order (the first signs), its keys only.
    assert ring.signing_key_id == "k2"
    assert dict(ring.keys) == {
        "k2": derive_amphora_key(MASTER, AMP_A),
        "k1": derive_amphora_key(old, AMP_A),
    }
    assert MASTER.hex() not in issuer.agent_key_file(master, AMP_A).decode()


@pytest.mark.parametrize("text", ["", "# nothing\n", "k1", "k1 zz", "k1 00 x", "k1 00\nk1 01"])
def test_the_orchestrator_refuses_a_bad_master_file(text):
    with pytest.raises(ValueError):
        issuer.parse_master_keys(text)


def test_cache_answers_with_the_derivation_and_stays_bounded():
    keys = AmphoraKeys(max_entries=2)
    a, b, c = (x.encode() for x in (AMP_A, AMP_B, "amp-c"))
    assert keys.get(MASTER, a) == derive_amphora_key(MASTER, AMP_A)
    assert keys.get(MASTER, b) == derive_amphora_key(MASTER, AMP_B)
    keys.get(MASTER, a)  # a is now the most recently used
    keys.get(MASTER, c)
    assert len(keys) == 2
    assert set(keys._keys) == {(MASTER, a), (MASTER, c)}


def test_cache_never_answers_for_a_replaced_master_key():
    keys = AmphoraKeys()
    a = AMP_A.encode()
    keys.get(MASTER, a)
    other = bytes.fromhex("11" * 32)
    assert keys.get(other, a) == derive_amphora_key(other, AMP_A) != keys.get(MASTER, a)
