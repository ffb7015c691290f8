"""Heartbeat keys, as the orchestrator (which hands each agent its own) and the health service
(which checks each heartbeat) both read them: the key file's lines, and the per-amphora key.

A key file holds '<key_id> <hex key>' lines, the first signing; '#' starts a comment. An
amphora's key under a key id is HKDF-SHA256(master key, salt none, info "lbaas heartbeat v1" ||
utf8(amphora id)), 32 bytes, so an amphora that is taken over can sign only its own heartbeats.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# info = HKDF_INFO || utf8(amphora id); no salt (RFC 5869: a string of zeros).
HKDF_INFO = b"lbaas heartbeat v1"
AMPHORA_KEY_LENGTH = 32


def parse_key_lines(text: str) -> list[tuple[str, bytes]]:
    """(key id, key) of every line, in order; ValueError("line N: ...") for a bad one."""
    keys: list[tuple[str, bytes]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"line {number}: expected '<key_id> <hex key>'")
        key_id, hex_key = parts
        try:
            key = bytes.fromhex(hex_key)
        except ValueError:
            raise ValueError(f"line {number}: key is not hex") from None
        if not key:
            raise ValueError(f"line {number}: empty key")
        if any(key_id == seen for seen, _ in keys):
            raise ValueError(f"line {number}: duplicate key id {key_id!r}")
        keys.append((key_id, key))
    return keys


def derive_amphora_key(master: bytes, amphora_id: str | bytes) -> bytes:
    """HKDF-SHA256(master, salt none, info "lbaas heartbeat v1" || utf8(amphora id)), 32 bytes."""
    raw_id = amphora_id.encode("utf-8") if isinstance(amphora_id, str) else amphora_id
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=AMPHORA_KEY_LENGTH,
        salt=None,
        info=HKDF_INFO + raw_id,
    )
    return hkdf.derive(master)
