"""Decrypts a tenant's passphrase-protected private key or PKCS#12 archive without letting the
upload decide how long the orchestrator works on it.

The key-derivation settings (iteration count, scrypt cost) are written in the upload, and
`cryptography` holds the interpreter lock while it derives a key: one upload asking for 2**31
iterations froze the whole orchestrator for minutes. So, in this order:
1. The settings that can be read without decrypting are read here (a small BER/DER reader) and
   refused above the caps, with a message that names the part and the setting.
2. The decryption runs in a child process under a deadline. Some settings cannot be read
   without decrypting (a PKCS#12 may hold a key bag inside its encrypted content, where
   `cryptography` derives with whatever count it finds), and even an allowed derivation then
   never holds the orchestrator's interpreter.
A key without a passphrase is loaded in-process: nothing is derived.
"""

from __future__ import annotations

import base64
import binascii
import json
import subprocess
import sys
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from services.common.errors import InvalidInput, Unavailable

# One derivation (PBKDF2, the PKCS#12 KDF, PBES1, a PKCS#12 MAC), iterations as written. What
# tools write: openssl 3 2048, Python's cryptography 20000 (PKCS#12), Java keytool 10000, and
# OWASP advises 600000 for PBKDF2-HMAC-SHA256. 1000000 takes 0.1 s (SHA-256) to 0.3 s (SHA-512).
MAX_ITERATIONS = 1_000_000
# scrypt: N*r*p is the time (2**20 takes about as long as MAX_ITERATIONS of PBKDF2) and 128*N*r
# bytes the memory (32 MiB is OpenSSL's own ceiling); `openssl pkcs8 -scrypt` writes N=2**14, r=8.
MAX_SCRYPT_COST = 2**20
MAX_SCRYPT_MEMORY = 32 * 1024 * 1024
# A whole upload: a PKCS#12's MAC, certificates and key, each at the cap. Iterations and scrypt
# N*r*p add up, as they take about as long.
MAX_TOTAL_WORK = 3 * MAX_ITERATIONS
# The child's wall clock: well above an upload at the caps (about a second), and below the API
# gateway's 10 s RPC timeout so that the tenant gets the refusal, not a timeout.
DECRYPT_DEADLINE = 5.0
# The child's address space: scrypt at the cap needs 32 MiB, the interpreter about 40 MiB.
_CHILD_MEMORY = 512 * 1024 * 1024

_PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"
_PBMAC1 = "1.2.840.113549.1.5.14"
_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_PBES1 = frozenset(f"1.2.840.113549.1.5.{n}" for n in (1, 3, 4, 6, 10, 11))
_PKCS12_PBE = frozenset(f"1.2.840.113549.1.12.1.{n}" for n in range(1, 7))
_DATA = "1.2.840.113549.1.7.1"
_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
_SAFE_CONTENTS_BAG = "1.2.840.113549.1.12.10.1.6"


# --- a BER/DER reader: only what the PKCS#8 and PKCS#12 envelopes need -----------------------

_INTEGER, _OCTET_STRING, _OID, _SEQUENCE = 2, 4, 6, 16
_UNIVERSAL, _CONTEXT = 0x00, 0x80
_MAX_DEPTH = 32
_MAX_READS = 100_000  # about 0.2 s


class _Malformed(ValueError):
    pass


class _Reads:
    """How many more elements one upload may have read. BER's indefinite lengths make the
    reader walk a whole subtree to find where an element ends, and a crafted upload could make
    it walk 512 KiB of them many times over; a real archive needs a few hundred reads."""

    def __init__(self, left: int = _MAX_READS):
        self.left = left


@dataclass(frozen=True)
class _Element:
    """One TLV; BER as well as DER (some tools write PKCS#12 with indefinite lengths)."""

    cls: int  # _UNIVERSAL, 0x40, _CONTEXT or 0xC0
    constructed: bool
    number: int
    data: bytes
    start: int  # first contents octet
    stop: int  # past the last contents octet (before an end-of-contents marker)
    depth: int
    reads: _Reads

    def children(self) -> list[_Element]:
        if not self.constructed:
            raise _Malformed("a primitive element where a constructed one belongs")
        out, pos = [], self.start
        while pos < self.stop:
            child, pos = _read(self.data, pos, self.stop, self.depth + 1, self.reads)
            out.append(child)
        return out


def _read(data: bytes, pos: int, limit: int, depth: int, reads: _Reads) -> tuple[_Element, int]:
    """The element at pos and the position after it."""
    reads.left -= 1
    if reads.left < 0:
        raise _Malformed("too many elements")
    if depth > _MAX_DEPTH:
        raise _Malformed("nested too deeply")
    if pos + 2 > limit:
        raise _Malformed("truncated")
    ident = data[pos]
    pos += 1
    number = ident & 0x1F
    if number == 0x1F:  # high tag number form
        number = 0
        while True:
            if pos >= limit or number >> 24:
                raise _Malformed("bad tag")
            byte = data[pos]
            pos += 1
            number = number << 7 | byte & 0x7F
            if not byte & 0x80:
                break
    if pos >= limit:
        raise _Malformed("truncated")
    first = data[pos]
    pos += 1
    cls, constructed = ident & 0xC0, bool(ident & 0x20)
    if first == 0x80:  # indefinite length: children up to an end-of-contents marker
        if not constructed:
            raise _Malformed("indefinite length on a primitive element")
        scan = pos
        while True:
            if scan + 2 > limit:
                raise _Malformed("no end-of-contents")
            if data[scan] == 0 and data[scan + 1] == 0:
                return _Element(cls, True, number, data, pos, scan, depth, reads), scan + 2
            _, scan = _read(data, scan, limit, depth + 1, reads)
    if first < 0x80:
        length = first
    else:
        size = first & 0x7F
        if size > 4 or pos + size > limit:
            raise _Malformed("bad length")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    if pos + length > limit:
        raise _Malformed("truncated")
    stop = pos + length
    return _Element(cls, constructed, number, data, pos, stop, depth, reads), stop


def _parse(data: bytes, reads: _Reads) -> _Element:
    return _read(data, 0, len(data), 0, reads)[0]  # anything after the element is left alone


def _is(el: _Element, number: int, cls: int = _UNIVERSAL) -> bool:
    return el.cls == cls and el.number == number


def _seq(el: _Element, least: int = 0) -> list[_Element]:
    if not _is(el, _SEQUENCE):
        raise _Malformed("a SEQUENCE expected")
    items = el.children()
    if len(items) < least:
        raise _Malformed("a SEQUENCE too short")
    return items


def _int(el: _Element) -> int:
    if not _is(el, _INTEGER) or el.constructed or el.stop == el.start:
        raise _Malformed("an INTEGER expected")
    return int.from_bytes(el.data[el.start : el.stop], "big", signed=True)


def _oid(el: _Element) -> str:
    if not _is(el, _OID) or el.constructed or el.stop == el.start:
        raise _Malformed("an OBJECT IDENTIFIER expected")
    arcs, value = [], 0
    for byte in el.data[el.start : el.stop]:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if el.data[el.stop - 1] & 0x80:
        raise _Malformed("an OBJECT IDENTIFIER cut short")
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))


def _octets(el: _Element) -> bytes:
    if not _is(el, _OCTET_STRING):
        raise _Malformed("an OCTET STRING expected")
    if not el.constructed:
        return el.data[el.start : el.stop]
    return b"".join(_octets(part) for part in el.children())  # BER: in segments


def _explicit(el: _Element, number: int) -> _Element:
    if not _is(el, number, _CONTEXT) or len(items := el.children()) != 1:
        raise _Malformed(f"[{number}] EXPLICIT expected")
    return items[0]


def _algorithm(el: _Element) -> tuple[str, _Element | None]:
    items = _seq(el, 1)
    return _oid(items[0]), items[1] if len(items) > 1 else None


def _params(params: _Element | None, least: int) -> list[_Element]:
    if params is None:
        raise _Malformed("algorithm parameters missing")
    return _seq(params, least)


# --- the caps ----------------------------------------------------------------------------------


def _shown(n: int) -> str:
    return str(n) if n < 10**15 else "more than 10**15"


class _Budget:
    """The work one upload asks for, checked at each derivation against the caps."""

    def __init__(self, field: str):
        self.field = field
        self.total = 0

    def refuse(self, message: str) -> InvalidInput:
        return InvalidInput(f"{self.field}: {message}", field=self.field)

    def spend(self, work: int, what: str) -> None:
        self.total += work
        if self.total > MAX_TOTAL_WORK:
            raise self.refuse(
                f"{what} brings the key-derivation work of the upload to {_shown(self.total)}; "
                f"at most {MAX_TOTAL_WORK} iterations in all are accepted. Export it again "
                "with fewer iterations."
            )

    def iterations(self, el: _Element, what: str, times: int = 1) -> None:
        n = _int(el)
        if n < 1:
            raise self.refuse(f"{what} has an iteration count of {_shown(n)}.")
        if n > MAX_ITERATIONS:
            raise self.refuse(
                f"{what} asks for {_shown(n)} key-derivation iterations; at most "
                f"{MAX_ITERATIONS} are accepted. Export it again with fewer iterations."
            )
        self.spend(n * times, what)

    def kdf(self, el: _Element, what: str, times: int = 1) -> None:
        """A PBES2 or PBMAC1 keyDerivationFunc."""
        oid, params = _algorithm(el)
        if oid == _PBKDF2:
            self.iterations(_params(params, 2)[1], what, times)
            return
        if oid != _SCRYPT:
            raise self.refuse(f"{what} uses an unsupported key derivation ({oid}).")
        n, r, p = (_int(x) for x in _params(params, 4)[1:4])
        if min(n, r, p) < 1:
            raise self.refuse(f"{what} has invalid scrypt parameters.")
        if n * r * p > MAX_SCRYPT_COST or 128 * n * r > MAX_SCRYPT_MEMORY:
            raise self.refuse(
                f"{what} asks for scrypt N={_shown(n)}, r={_shown(r)}, p={_shown(p)}; at most "
                f"N*r*p = {MAX_SCRYPT_COST} and 128*N*r = {MAX_SCRYPT_MEMORY} bytes are "
                "accepted. Export it again with a lower cost."
            )
        self.spend(n * r * p * times, what)

    def encryption(self, el: _Element, what: str) -> None:
        """The AlgorithmIdentifier of a passphrase-based encryption."""
        oid, params = _algorithm(el)
        if oid == _PBES2:
            self.kdf(_params(params, 2)[0], what)
        elif oid in _PBES1 or oid in _PKCS12_PBE:
            self.iterations(_params(params, 2)[1], what)
        else:
            raise self.refuse(f"{what} uses an unsupported encryption algorithm ({oid}).")


_BEGIN = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_END = b"-----END ENCRYPTED PRIVATE KEY-----"


def check_private_key(pem: bytes, field: str = "private_key_pem") -> None:
    """Refuses an encrypted PKCS#8 key whose derivation costs too much. A traditional PEM key
    ("Proc-Type: 4,ENCRYPTED") derives with one MD5 pass: nothing to check."""
    budget, reads = _Budget(field), _Reads()
    pos = 0
    # One pass with find (a lazy regular expression would rescan the rest of the text for every
    # BEGIN line without an END: quadratic in a crafted 512 KiB).
    while (begin := pem.find(_BEGIN, pos)) >= 0 and (end := pem.find(_END, begin)) >= 0:
        body, pos = pem[begin + len(_BEGIN) : end], end + len(_END)
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
            budget.encryption(_seq(_parse(der, reads), 2)[0], "the key")
        except (_Malformed, binascii.Error) as err:
            raise InvalidInput(
                f"{field} holds an ENCRYPTED PRIVATE KEY that cannot be read.",
                field=field,
                operator_detail=str(err),
            ) from None


def check_pkcs12(data: bytes, has_passphrase: bool, field: str = "pkcs12") -> None:
    """Refuses a PKCS#12 whose MAC, encrypted content or key bags cost too much to derive.
    What its encrypted content holds is bounded by the child's deadline instead."""
    budget, reads = _Budget(field), _Reads()
    try:
        pfx = _seq(_parse(data, reads), 2)
        if len(pfx) > 2:
            mac_data = _seq(pfx[2], 2)
            # Without a passphrase the MAC is tried twice (no password, then an empty one).
            times = 1 if has_passphrase else 2
            oid, params = _algorithm(_seq(mac_data[0], 2)[0])
            if oid == _PBMAC1:  # RFC 9579: PBKDF2 settings in the algorithm's parameters
                budget.kdf(_params(params, 2)[0], "its MAC", times)
            elif len(mac_data) > 2:
                budget.iterations(mac_data[2], "its MAC", times)
        content_type, content = _content_info(pfx[1])
        if content_type != _DATA or content is None:
            raise budget.refuse("only password-protected PKCS#12 archives are accepted.")
        for info in _seq(_parse(_octets(content), reads)):
            content_type, content = _content_info(info)
            if content is None:
                continue
            if content_type == _DATA:
                _bags(_parse(_octets(content), reads), budget)
            elif content_type == _ENCRYPTED_DATA:
                encrypted_content_info = _seq(_seq(content, 2)[1], 2)
                budget.encryption(encrypted_content_info[1], "its encrypted content")
            # Anything else (public-key privacy) is skipped by the loader: no passphrase work.
    except _Malformed as err:
        raise InvalidInput(
            f"{field} is not a valid PKCS#12 archive.", field=field, operator_detail=str(err)
        ) from None


def _content_info(el: _Element) -> tuple[str, _Element | None]:
    items = _seq(el, 1)
    return _oid(items[0]), _explicit(items[1], 0) if len(items) > 1 else None


def _bags(safe_contents: _Element, budget: _Budget) -> None:
    for bag in _seq(safe_contents):
        items = _seq(bag, 2)
        bag_id = _oid(items[0])
        if bag_id == _SHROUDED_KEY_BAG:
            budget.encryption(_seq(_explicit(items[1], 0), 2)[0], "its key")
        elif bag_id == _SAFE_CONTENTS_BAG:
            _bags(_explicit(items[1], 0), budget)


# --- decryption in a child process ----------------------------------------------------------

# Needs nothing but `cryptography`; -I keeps PYTHONPATH and the working directory out of it.
_CHILD = """
import base64, json, resource, sys
request = json.load(sys.stdin)
resource.setrlimit(resource.RLIMIT_AS, (request["memory"],) * 2)
# Should the orchestrator die while waiting, the child still stops.
resource.setrlimit(resource.RLIMIT_CPU, (request["cpu_seconds"],) * 2)
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.serialization import pkcs12

def key_pem(key):
    if key is None:
        return None
    return key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode()

def cert_pem(cert):
    return None if cert is None else cert.public_bytes(s.Encoding.PEM).decode()

data = base64.b64decode(request["data"])
password = None if request["password"] is None else base64.b64decode(request["password"])
try:
    if request["kind"] == "pkcs12":
        key, leaf, extra = pkcs12.load_key_and_certificates(data, password)
        answer = {"key": key_pem(key), "leaf": cert_pem(leaf), "extra": [cert_pem(c) for c in extra]}
    else:
        answer = {"key": key_pem(s.load_pem_private_key(data, password))}
except Exception as err:  # the input's fault, reported as such
    answer = {"error": f"{type(err).__name__}: {err}"}
json.dump(answer, sys.stdout)
"""


def _in_child(kind: str, data: bytes, password: bytes | None, field: str) -> dict:
    request = {
        "kind": kind,
        "data": base64.b64encode(data).decode(),
        "password": base64.b64encode(password).decode() if password is not None else None,
        "memory": _CHILD_MEMORY,
        "cpu_seconds": int(DECRYPT_DEADLINE) + 2,
    }
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=DECRYPT_DEADLINE,
            env={},  # nothing of the orchestrator's environment (the database URL) goes along
            check=False,
        )
    except subprocess.TimeoutExpired:  # the child is killed by now
        raise InvalidInput(
            f"{field} takes longer than {DECRYPT_DEADLINE:g} s to decrypt; export it again "
            "with fewer key-derivation iterations.",
            field=field,
        ) from None
    try:
        answer = json.loads(done.stdout) if done.returncode == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Unavailable(
            "The certificate material could not be decrypted; retry the request.",
            operator_detail=f"decryption child exited with {done.returncode}: "
            + done.stderr.decode(errors="replace")[-2000:],
        )
    if "error" in answer:
        raise ValueError(answer["error"])
    return answer


def _key(pem: str | None) -> PrivateKeyTypes | None:
    # Unencrypted PKCS#8 from the child: nothing to derive.
    return None if pem is None else serialization.load_pem_private_key(pem.encode(), None)


def load_private_key(
    pem: bytes, password: bytes | None, field: str = "private_key_pem"
) -> PrivateKeyTypes:
    """Raises InvalidInput over the caps or the deadline, ValueError when the key cannot be
    read (as `serialization.load_pem_private_key` does)."""
    check_private_key(pem, field)
    if password is None:
        # Without a password `cryptography` refuses an encrypted key before deriving anything.
        return serialization.load_pem_private_key(pem, None)
    key = _key(_in_child("pem", pem, password, field)["key"])
    if key is None:
        raise ValueError("no private key")
    return key


def load_pkcs12(
    data: bytes, password: bytes | None, field: str = "pkcs12"
) -> tuple[PrivateKeyTypes | None, x509.Certificate | None, list[x509.Certificate]]:
    """As `pkcs12.load_key_and_certificates`, under the caps and the deadline."""
    check_pkcs12(data, has_passphrase=bool(password), field=field)
    answer = _in_child("pkcs12", data, password, field)
    leaf = answer["leaf"]
    return (
        _key(answer["key"]),
        x509.load_pem_x509_certificate(leaf.encode()) if leaf else None,
        [x509.load_pem_x509_certificate(c.encode()) for c in answer["extra"]],
    )
