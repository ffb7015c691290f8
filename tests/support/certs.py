"""Test certificates made with `cryptography`: CAs, leaf certificates, CRLs and PKCS#12 bundles.

Every object carries both the `cryptography` object and its PEM bytes, so a test can hand PEM to
an API or a haproxy config and still inspect the certificate. Keys are EC P-256 by default
(fast to generate); pass key_type="rsa" where RSA matters.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and its key; `chain` holds the issuing intermediates, leaf-side first."""

    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """PKCS#8, unencrypted."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def encrypted_key_pem(self, passphrase: bytes) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )

    @property
    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    @property
    def fullchain_pem(self) -> bytes:
        return self.cert_pem + self.chain_pem

    @property
    def bundle_pem(self) -> bytes:
        """Certificate, chain and key in one file (haproxy's `crt` format)."""
        return self.fullchain_pem + self.key_pem


def make_key(key_type: str = "ec") -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_ca(
    cn: str = "Test Root CA",
    *,
    issuer: Issued | None = None,
    key_type: str = "ec",
    days: int = 365,
) -> Issued:
    """A self-signed root CA, or (with issuer) an intermediate CA signed by issuer."""
    key = make_key(key_type)
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    signer = issuer.key if issuer else key
    cert = builder.sign(signer, hashes.SHA256())
    # The chain stops below the root: a root is a trust anchor, never sent.
    chain = () if issuer is None or _self_signed(issuer.cert) else (issuer.cert, *issuer.chain)
    return Issued(cert, key, chain)


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def make_leaf(
    ca: Issued,
    cn: str = "www.example.com",
    sans: Sequence[str] = (),
    *,
    key_type: str = "ec",
    client: bool = False,
    days: int = 30,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """A leaf signed by ca. sans: DNS names, or IP addresses (parsed as such). client=True
    makes a client certificate (EKU clientAuth) instead of a server one. When ca is an
    intermediate, the leaf's chain is that intermediate (and its own chain)."""
    key = make_key(key_type)
    now = _now()
    names: list[x509.GeneralName] = []
    for san in sans:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(minutes=5))
        .not_valid_after(not_after or now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    chain = () if _self_signed(ca.cert) else (ca.cert, *ca.chain)
    return Issued(cert, key, chain)


def make_crl(ca: Issued, revoked: Iterable[Issued | x509.Certificate | int] = (), days: int = 7):
    """A PEM CRL signed by ca listing the given certificates (or serial numbers)."""
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=days))
    )
    for item in revoked:
        if isinstance(item, Issued):
            serial = item.cert.serial_number
        elif isinstance(item, x509.Certificate):
            serial = item.serial_number
        else:
            serial = int(item)
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - dt.timedelta(minutes=1))
            .build()
        )
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def make_pkcs12(issued: Issued, passphrase: bytes | None = b"secret", name: bytes = b"lb") -> bytes:
    """A PKCS#12 archive of the certificate, key and chain (no encryption when passphrase is
    None)."""
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        name, issued.key, issued.cert, list(issued.chain) or None, encryption
    )


def pem_of(*certs: Issued | x509.Certificate) -> bytes:
    """Concatenated PEM of certificates (e.g. a CA bundle)."""
    out = []
    for c in certs:
        cert = c.cert if isinstance(c, Issued) else c
        out.append(cert.public_bytes(serialization.Encoding.PEM))
    return b"".join(out)
