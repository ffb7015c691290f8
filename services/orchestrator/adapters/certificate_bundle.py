"""Parses and checks a certificate bundle (PEM parts or PKCS#12; CA bundles; CRLs) with
`cryptography`, into the normalized form both certificate drivers store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from services.common.errors import DomainError, InvalidInput
from services.orchestrator.adapters.key_decryption import load_pkcs12, load_private_key
from services.orchestrator.domain.certificates import CA, CRL, TLS, TYPES

# Per part; a large CA bundle (a system trust store) is about 200 KiB.
MAX_PART_BYTES = 512 * 1024
# All parts together: one large part (a CA bundle, a CRL) and small ones; a TLS certificate, its
# key and its chain come to a few KiB.
MAX_BUNDLE_BYTES = 1024 * 1024
_PARTS = ("certificate_pem", "private_key_pem", "intermediates_pem", "pkcs12", "crl_pem")


@dataclass(frozen=True)
class Bundle:
    """What a driver stores. private_key_pem is PKCS#8 PEM, unencrypted: it must go straight
    to encryption (local) or to the key manager (barbican)."""

    type: str
    certificate_pem: bytes = b""
    intermediates_pem: bytes = b""
    private_key_pem: bytes = field(default=b"", repr=False)
    crl_pem: bytes = b""
    hostnames: tuple[str, ...] = ()
    subject: str = ""
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class BundleInput:
    """The parts of a CreateCertificate request (bytes as given)."""

    type: str = ""
    certificate_pem: bytes = b""
    private_key_pem: bytes = field(default=b"", repr=False)
    intermediates_pem: bytes = b""
    pkcs12: bytes = field(default=b"", repr=False)
    passphrase: str = field(default="", repr=False)
    crl_pem: bytes = b""


def _pem(certs: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _certs(data: bytes, field_name: str) -> list[x509.Certificate]:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise InvalidInput(f"{field_name} holds no PEM certificate.", field=field_name)
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as err:
        raise InvalidInput(
            f"{field_name} is not a valid PEM certificate.",
            field=field_name,
            operator_detail=str(err),
        ) from None


def hostnames(cert: x509.Certificate) -> tuple[str, ...]:
    """Subject CN, then DNS subjectAltNames, lower-cased, without duplicates (what SNI matches)."""
    names: list[str] = []
    for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        value = attr.value if isinstance(attr.value, str) else attr.value.decode()
        names.append(value)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names.extend(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    out: list[str] = []
    for name in (n.strip().lower() for n in names):
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _not_after(cert: x509.Certificate) -> dt.datetime:
    return cert.not_valid_after_utc


def _public(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pkcs8(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _check_size(given: BundleInput) -> None:
    sizes = {name: len(getattr(given, name)) for name in _PARTS}
    for name, size in sizes.items():
        if size > MAX_PART_BYTES:
            raise InvalidInput(f"{name} is larger than {MAX_PART_BYTES} bytes.", field=name)
    if sum(sizes.values()) > MAX_BUNDLE_BYTES:
        largest = max(sizes, key=lambda name: sizes[name])
        raise InvalidInput(
            f"The certificate material is larger than {MAX_BUNDLE_BYTES} bytes in all "
            f"({largest} is the largest part).",
            field=largest,
        )


def infer_type(given: BundleInput) -> str:
    if given.type:
        kind = given.type.upper()
        if kind not in TYPES:
            raise InvalidInput(f"type must be one of {', '.join(TYPES)}.", field="type")
        return kind
    if given.private_key_pem or given.pkcs12:
        return TLS
    if given.certificate_pem:
        return CA
    if given.crl_pem:
        return CRL
    raise InvalidInput("A certificate, a PKCS#12 archive or a CRL is required.", field="type")


def parse(given: BundleInput) -> Bundle:
    """Raises InvalidInput naming the offending part."""
    try:
        return _parse(given)
    except DomainError:  # InvalidInput, or Unavailable when the decryption child fails
        raise
    except Exception as err:  # noqa: BLE001 - any parser failure is the input's fault
        raise InvalidInput(
            "The certificate material cannot be parsed.",
            operator_detail=f"{type(err).__name__}: {err}",
        ) from None


def _parse(given: BundleInput) -> Bundle:
    _check_size(given)
    kind = infer_type(given)
    if kind == TLS:
        return _tls(given)
    for name in ("private_key_pem", "pkcs12", "intermediates_pem"):
        if getattr(given, name):
            raise InvalidInput(f"A {kind} certificate takes no {name}.", field=name)
    if kind == CA:
        if given.crl_pem:
            raise InvalidInput("A CA certificate takes no crl_pem.", field="crl_pem")
        certs = _certs(given.certificate_pem, "certificate_pem")
        return Bundle(
            type=CA,
            certificate_pem=_pem(certs),
            subject=certs[0].subject.rfc4514_string(),
            expires_at=min(_not_after(c) for c in certs),
        )
    if given.certificate_pem:
        raise InvalidInput("A CRL takes no certificate_pem.", field="certificate_pem")
    return _crl(given.crl_pem)


def _crl(data: bytes) -> Bundle:
    if not data:
        raise InvalidInput("crl_pem is required.", field="crl_pem")
    try:
        crl = x509.load_pem_x509_crl(data)
    except ValueError as err:
        raise InvalidInput(
            "crl_pem is not a valid PEM CRL.", field="crl_pem", operator_detail=str(err)
        ) from None
    return Bundle(
        type=CRL,
        crl_pem=crl.public_bytes(serialization.Encoding.PEM),
        subject=crl.issuer.rfc4514_string(),
        expires_at=crl.next_update_utc,
    )


def _tls(given: BundleInput) -> Bundle:
    if given.crl_pem:
        raise InvalidInput("A TLS certificate takes no crl_pem.", field="crl_pem")
    password = given.passphrase.encode() if given.passphrase else None
    if given.pkcs12:
        if given.certificate_pem or given.private_key_pem:
            raise InvalidInput(
                "Give either a PKCS#12 archive or PEM certificate and key, not both.",
                field="pkcs12",
            )
        try:
            key, leaf, extra = load_pkcs12(given.pkcs12, password)
        except (ValueError, TypeError) as err:
            raise InvalidInput(
                "pkcs12 cannot be read (not PKCS#12, or a wrong passphrase).",
                field="pkcs12",
                operator_detail=str(err),
            ) from None
        if key is None or leaf is None:
            raise InvalidInput("pkcs12 must hold a certificate and its key.", field="pkcs12")
        chain = list(extra)
    else:
        if not given.certificate_pem:
            raise InvalidInput("certificate_pem is required.", field="certificate_pem")
        if not given.private_key_pem:
            raise InvalidInput("private_key_pem is required.", field="private_key_pem")
        # A certificate part may carry its chain after the leaf (a "fullchain" file).
        leaf, *chain = _certs(given.certificate_pem, "certificate_pem")
        try:
            key = load_private_key(given.private_key_pem, password)
        except (ValueError, TypeError) as err:
            raise InvalidInput(
                "private_key_pem is not a valid PEM private key (or it is encrypted and the "
                "passphrase is missing or wrong).",
                field="private_key_pem",
                operator_detail=str(err),
            ) from None
    if given.intermediates_pem:
        chain.extend(_certs(given.intermediates_pem, "intermediates_pem"))
    if _public(key.public_key()) != _public(leaf.public_key()):
        raise InvalidInput(
            "The private key does not match the certificate.", field="private_key_pem"
        )
    return Bundle(
        type=TLS,
        certificate_pem=_pem([leaf]),
        intermediates_pem=_pem(chain),
        private_key_pem=_pkcs8(key),
        hostnames=hostnames(leaf),
        subject=leaf.subject.rfc4514_string(),
        expires_at=_not_after(leaf),
    )
