"""DER for tests that build or edit PKCS#8 and PKCS#12 envelopes byte by byte: the settings
`cryptography` will not write (2**31 iterations, a key bag inside encrypted content)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
SCRYPT = "1.3.6.1.4.1.11591.4.11"
HMAC_SHA256 = "1.2.840.113549.2.9"
AES256_CBC = "2.16.840.1.101.3.4.1.42"
DATA = "1.2.840.113549.1.7.1"
ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"


def tlv(tag: int, *parts: bytes) -> bytes:
    body = b"".join(parts)
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, *parts)


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def octets(data: bytes) -> bytes:
    return tlv(0x04, data)


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | arc & 0x7F)
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def explicit(number: int, inner: bytes) -> bytes:
    return tlv(0xA0 | number, inner)


def children(der: bytes) -> list[bytes]:
    """The encodings of the elements inside a definite-length constructed element."""
    pos, out = 2, []
    if der[1] & 0x80:
        pos += der[1] & 0x7F
    while pos < len(der):
        start = pos
        first = der[pos + 1]
        pos += 2
        if first & 0x80:
            size = first & 0x7F
            length = int.from_bytes(der[pos : pos + size], "big")
            pos += size
        else:
            length = first
        pos += length
        out.append(der[start:pos])
    return out


def pem(label: str, der: bytes) -> bytes:
    text = base64.encodebytes(der).decode()
    return f"-----BEGIN {label}-----\n{text}-----END {label}-----\n".encode()


def pbes2_pbkdf2(iterations: int, salt: bytes = b"12345678", iv: bytes = b"0" * 16) -> bytes:
    kdf_params = seq(octets(salt), integer(iterations), seq(oid(HMAC_SHA256), b"\x05\x00"))
    return seq(oid(PBES2), seq(seq(oid(PBKDF2), kdf_params), seq(oid(AES256_CBC), octets(iv))))


def pbes2_scrypt(n: int, r: int, p: int) -> bytes:
    kdf_params = seq(octets(b"12345678"), integer(n), integer(r), integer(p))
    return seq(
        oid(PBES2), seq(seq(oid(SCRYPT), kdf_params), seq(oid(AES256_CBC), octets(b"0" * 16)))
    )


def encrypted_key_pem(algorithm: bytes) -> bytes:
    """An ENCRYPTED PRIVATE KEY with these settings (its ciphertext is noise: the settings are
    what is under test)."""
    return pem("ENCRYPTED PRIVATE KEY", seq(algorithm, octets(os.urandom(48))))


def with_iterations(epki: bytes, iterations: int) -> bytes:
    """A PBES2/PBKDF2 EncryptedPrivateKeyInfo with its iteration count replaced."""
    algorithm, data = children(epki)
    pbes2_oid, pbes2_params = children(algorithm)
    kdf, scheme = children(pbes2_params)
    kdf_oid, kdf_params = children(kdf)
    salt, _, *rest = children(kdf_params)
    kdf = seq(kdf_oid, seq(salt, integer(iterations), *rest))
    return seq(seq(pbes2_oid, seq(kdf, scheme)), data)


def with_mac_iterations(pfx: bytes, iterations: int) -> bytes:
    """A PKCS#12 with the iteration count of its MAC replaced (the MAC no longer matches,
    which nothing finds out before deriving the key)."""
    version, auth_safe, mac_data = children(pfx)
    digest_info, salt, *_ = children(mac_data)
    return seq(version, auth_safe, seq(digest_info, salt, integer(iterations)))


def pkcs12_with_hidden_key_bag(iterations: int) -> bytes:
    """A PKCS#12 without a MAC or a password whose encrypted content (PBKDF2, 1 iteration,
    readable) holds a shrouded key bag asking for `iterations`: that count can be read only by
    decrypting, and `cryptography` then derives with it."""
    key_bag = seq(
        oid(SHROUDED_KEY_BAG), explicit(0, seq(pbes2_pbkdf2(iterations), octets(b"x" * 48)))
    )
    salt, iv = os.urandom(8), os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, 1).derive(b"")
    padder = padding.PKCS7(128).padder()
    plain = padder.update(seq(key_bag)) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plain) + encryptor.finalize()
    content_info = seq(oid(DATA), pbes2_pbkdf2(1, salt, iv), tlv(0x80, ciphertext))
    auth_safe = seq(seq(oid(ENCRYPTED_DATA), explicit(0, seq(integer(0), content_info))))
    return seq(integer(3), seq(oid(DATA), explicit(0, octets(auth_safe))))
