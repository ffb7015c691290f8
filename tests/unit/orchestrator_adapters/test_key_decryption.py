"""Passphrase-protected keys and PKCS#12 archives: key-derivation settings over the caps are
refused before anything is derived, what cannot be read without decrypting is stopped by the
child's deadline, and what common tools write still loads."""

from __future__ import annotations

import base64
import threading
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from services.common.errors import InvalidInput
from services.orchestrator.adapters import key_decryption
from services.orchestrator.adapters.certificate_bundle import BundleInput, parse
from services.orchestrator.adapters.key_decryption import (
    MAX_ITERATIONS,
    MAX_TOTAL_WORK,
    load_pkcs12,
    load_private_key,
)
from tests.support import der
from tests.support.certs import Issued, make_ca, make_leaf

HUGE = 2**31 - 1  # about four minutes of PBKDF2-HMAC-SHA256 on one core

# Written by OpenSSL 3.0 (`openssl pkcs12 -export -legacy`, passphrase "legacy"): certificates
# under pbeWithSHA1And40BitRC2-CBC, key under pbeWithSHA1And3-KeyTripleDES-CBC, SHA-1 MAC; what
# OpenSSL 1.1 wrote by default. A throwaway self-signed EC key, CN=legacy.example.
LEGACY_PKCS12 = base64.b64decode(
    """
MIIDigIBAzCCA1AGCSqGSIb3DQEHAaCCA0EEggM9MIIDOTCCAi8GCSqGSIb3DQEHBqCCAiAwggIcAgEAMIICFQYJKoZIhvcN
AQcBMBwGCiqGSIb3DQEMAQYwDgQI+h0konKg9RcCAggAgIIB6D8JjOL4PBDPzV7KaTHnavWWXlE0Wnm8uz7dX6Ho0c0x8zy8
BHv1g1h/XK+6fVmb3SlUj0OvzAvYu5yzgqo88NZ/bUJ/E+1/cY1m6AftkRo9ju3MbSDZHvz5tuOrq+f57kD3DM8DkY7PRI33
LjETwX7s9erKeeQ3a5uT8Nz61iGEsvXahwQu6OyKkfpZ++ppu7UUoNtx9v8DL8jWpHk5vCi2qRIjSFxSz1T+O4rDeHcE7rAU
6dU1m0w2wkvBXmeF2/r/nVNSL1C+uq+29QTaauVFh0XXg4yHB0kRqDOGPh2m5hfCgUd8/fMkQIihQY9LjdpN16Q2vZl2w2uR
I0KOFm13rZ8ypgtAkFbXEY7N/LSauTyKKxjI3Y07LCOGLkcwsgMUvZz3WdxDl4mUW81O6sGWWScxI3/z256EgRAlcGhqut6c
LnG5wmTegCzBGleFKfXQ23SKrLD65VWfP0760QH2GL/KAhDjAygHLF06x6PyoQDR95YHCaWr3vmf9ESkRr9a16ElhgnultmH
Kqe+UXZPic1IdEMYE4t3N5ZuRpGXBcFt+oRY573O110GT+W6DZMVZ1L1aR1d0ceAsJw/+43aoHGWwp4sv7DSU2dtjgvK+i2M
aj4Z8zPNmh2AliuGxA3qdWrCaBWeMIIBAgYJKoZIhvcNAQcBoIH0BIHxMIHuMIHrBgsqhkiG9w0BDAoBAqCBtDCBsTAcBgoq
hkiG9w0BDAEDMA4ECKO7pFqGgq9WAgIIAASBkJHH5tZWRbFHRSZX3qbQbpjftx54sN+eHoEI61MLJQYz3nQ2sZ/gbj9Jnaet
LUgH8Fo9Z2HzmhCbPx+P85FY4MRKM5wafG/bsOPDWe8v85RkBYJt37Pi8fKdjs0xT3j6nL/QhvEuI6VcejaweL+b7HdegcJ+
gSsGegY89/dx5UFc2/ldysw2KFspQTpe3ve1XzElMCMGCSqGSIb3DQEJFTEWBBST11YvDEpX/lRwixDuvx1ssP0DuDAxMCEw
CQYFKw4DAhoFAAQU173nSDb3M/aTiywXYszNZ1iQzSUECEp22ArD+kJpAgIIAA==
"""
)
# The same key from `openssl pkcs8 -topk8 -scrypt` (N=16384, r=8, p=1), passphrase "scrypt".
SCRYPT_KEY_PEM = b"""-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHkME8GCSqGSIb3DQEFDTBCMCEGCSsGAQQB2kcECzAUBAivRQh544tRUQICQAAC
AQgCAQEwHQYJYIZIAWUDBAEqBBCS6A2xSmwk1cCOVafw58/JBIGQDwypAeJNUSPV
jyAtnmtMAe86yZmLMl7/FjZjY3URjTHAn4rjn7glR1boYyWFPZZfP76rRRiNK1pW
nlDi47YM20d7Z9ktqcjuMTQomTg8Z9NSNLjoWWzI80FUvDsRsSTF7H8KQvtEDe1N
/2uIhYS2KGg3Htz0enOG5HnAK2ZS/qeoHQTAhnzZgVKY1yL9hJY/
-----END ENCRYPTED PRIVATE KEY-----
"""


@pytest.fixture(scope="module")
def leaf() -> Issued:
    return make_leaf(make_ca("KDF CA"), "www.example.com")


def _refusal(given: BundleInput) -> tuple[InvalidInput, float]:
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as info:
        parse(given)
    return info.value, time.perf_counter() - started


def _pkcs12(leaf: Issued, rounds: int) -> bytes:
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(rounds)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(b"pw")
    )
    return pkcs12.serialize_key_and_certificates(b"lb", leaf.key, leaf.cert, None, encryption)


def test_a_key_asking_for_2_31_iterations_is_refused_at_once(leaf):
    # A real encrypted key with its iteration count edited: no tool would wait to write it.
    real = leaf.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    edited = der.pem("ENCRYPTED PRIVATE KEY", der.with_iterations(real, HUGE))
    err, elapsed = _refusal(
        BundleInput(certificate_pem=leaf.cert_pem, private_key_pem=edited, passphrase="pw")
    )
    assert elapsed < 1.0  # loose: a few ms here; 2**31 rounds take minutes
    assert err.field == "private_key_pem"
    assert f"{HUGE} key-derivation iterations" in err.user_message
    assert str(MAX_ITERATIONS) in err.user_message
    # The edit keeps the key readable: with the count it was written with, it loads.
    same = der.pem("ENCRYPTED PRIVATE KEY", der.with_iterations(real, 2048))
    assert load_private_key(same, b"pw").public_key() == leaf.key.public_key()


@pytest.mark.parametrize(
    ("algorithm", "words"),
    [
        (der.pbes2_scrypt(2**20, 8, 1), "scrypt N=1048576, r=8, p=1"),  # 1 GiB
        (der.pbes2_scrypt(2**10, 8, 2**12), "scrypt N=1024, r=8, p=4096"),  # time, little memory
        (der.pbes2_pbkdf2(0), "iteration count of 0"),
        (der.pbes2_pbkdf2(-1), "iteration count of -1"),
        (der.pbes2_pbkdf2(2**100), "asks for more than 10**15"),
        (der.seq(der.oid("1.2.3.4"), b"\x05\x00"), "unsupported encryption algorithm (1.2.3.4)"),
    ],
)
def test_settings_over_the_caps_or_invalid_are_refused(leaf, algorithm, words):
    err, elapsed = _refusal(
        BundleInput(
            certificate_pem=leaf.cert_pem,
            private_key_pem=der.encrypted_key_pem(algorithm),
            passphrase="pw",
        )
    )
    assert elapsed < 1.0  # loose: a few ms here; 2**31 rounds take minutes
    assert err.field == "private_key_pem"
    assert words in err.user_message


def test_the_work_of_one_upload_adds_up():
    block = der.encrypted_key_pem(der.pbes2_pbkdf2(MAX_ITERATIONS - 1))
    key_decryption.check_private_key(block * 3)
    with pytest.raises(InvalidInput) as info:
        key_decryption.check_private_key(block * 4)
    assert f"at most {MAX_TOTAL_WORK} iterations in all" in info.value.user_message


def test_keys_that_tools_write_still_load(leaf):
    scrypt = load_private_key(SCRYPT_KEY_PEM, b"scrypt")
    key, cert, extra = load_pkcs12(LEGACY_PKCS12, b"legacy")
    assert cert is not None and cert.subject.rfc4514_string() == "CN=legacy.example"
    assert key is not None and key.public_key() == scrypt.public_key() == cert.public_key()
    assert extra == []
    # BER with indefinite lengths (some tools write it) is read as well.
    body = der.children(LEGACY_PKCS12)
    ber = b"\x30\x80" + b"".join(body) + b"\x00\x00"
    assert load_pkcs12(ber, b"legacy")[1] == cert
    # OWASP's 600000 iterations, as some tools now write, pass the caps.
    bundle = parse(BundleInput(pkcs12=_pkcs12(leaf, 600_000), passphrase="pw"))
    assert bundle.certificate_pem == leaf.cert_pem


def test_pkcs12_over_the_caps_is_refused_at_once(leaf):
    err, elapsed = _refusal(
        BundleInput(pkcs12=der.with_mac_iterations(_pkcs12(leaf, 2048), HUGE), passphrase="pw")
    )
    assert elapsed < 1.0  # loose: a few ms here; 2**31 rounds take minutes
    assert err.field == "pkcs12"
    assert err.user_message.startswith(f"pkcs12: its MAC asks for {HUGE} key-derivation")
    err, elapsed = _refusal(BundleInput(pkcs12=_pkcs12(leaf, MAX_ITERATIONS + 1), passphrase="pw"))
    assert elapsed < 1.0  # loose: a few ms here; 2**31 rounds take minutes
    assert err.field == "pkcs12"
    assert f"{MAX_ITERATIONS + 1} key-derivation iterations" in err.user_message
    err, _ = _refusal(BundleInput(pkcs12=der.seq(der.integer(3)), passphrase="pw"))
    assert err.field == "pkcs12" and "not a valid PKCS#12" in err.user_message


def test_a_key_bag_inside_encrypted_content_is_stopped_by_the_deadline(monkeypatch):
    """Its count is read only by decrypting; the child stops at the deadline, and the
    orchestrator's interpreter stays free meanwhile."""
    monkeypatch.setattr(key_decryption, "DECRYPT_DEADLINE", 1.0)
    archive = der.pkcs12_with_hidden_key_bag(HUGE)
    key_decryption.check_pkcs12(archive, has_passphrase=False)  # nothing visible to refuse
    ticks = 0
    stop = threading.Event()

    def tick():
        nonlocal ticks
        while not stop.wait(0.01):
            ticks += 1

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        err, elapsed = _refusal(BundleInput(pkcs12=archive))
    finally:
        stop.set()
        ticker.join()
    assert err.field == "pkcs12"
    assert "takes longer than 1 s to decrypt" in err.user_message
    assert 1.0 <= elapsed < 30  # killed at the deadline, however slow the machine
    # About 100 ticks in that second; in-process, the derivation would have held the lock.
    assert ticks >= 10
