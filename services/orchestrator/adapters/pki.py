"""The controller's internal certificate authority, kept as PEM files in one directory.

It issues each amphora a server certificate (subject CN and DNS SAN = amphora id, EKU serverAuth)
and the controller one client certificate (CN "lbaas-controller", EKU clientAuth). Because the
usages are disjoint, an amphora's certificate cannot be used to call another amphora's agent.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.orchestrator.domain.ports import IssuedCertificate

CONTROLLER_CN = "lbaas-controller"
_CA_DAYS = 3650
_LEAF_DAYS = 365


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FileCertificateAuthority:
    """A CA whose key and certificate live in ca_dir; created on first use."""

    def __init__(self, ca_dir: Path, common_name: str = "lbaas controller CA"):
        self._dir = ca_dir
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The API and worker processes (and replicas sharing the directory) may start at once:
        # the first to hold the lock creates the CA, the others load it.
        with open(ca_dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._load_or_create(ca_dir / "ca.crt", ca_dir / "ca.key", common_name)

    def _load_or_create(self, cert_path: Path, key_path: Path, common_name: str) -> None:
        if cert_path.exists() and key_path.exists():
            self._key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            self._cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        else:
            self._key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
            self._cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(self._key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(_now() - dt.timedelta(minutes=5))
                .not_valid_after(_now() + dt.timedelta(days=_CA_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=False,
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
                .sign(self._key, hashes.SHA256())
            )
            _write_private(key_path, _pem_key(self._key))
            cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    @property
    def directory(self) -> Path:
        return self._dir

    def ca_certificate_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def _issue(
        self, common_name: str, usage: x509.ObjectIdentifier, dns: list[str]
    ) -> IssuedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=_LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if dns:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
            )
        cert = builder.sign(self._key, hashes.SHA256())
        return IssuedCertificate(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=_pem_key(key),
            ca_pem=self.ca_certificate_pem(),
        )

    def issue_amphora_certificate(self, amphora_id: str) -> IssuedCertificate:
        return self._issue(amphora_id, ExtendedKeyUsageOID.SERVER_AUTH, [amphora_id])

    def issue_client_certificate(self, common_name: str) -> IssuedCertificate:
        return self._issue(common_name, ExtendedKeyUsageOID.CLIENT_AUTH, [])

    def controller_credentials(self) -> IssuedCertificate:
        cert_path, key_path = self._dir / "controller.crt", self._dir / "controller.key"
        if cert_path.exists() and key_path.exists():
            return IssuedCertificate(
                cert_path.read_bytes(), key_path.read_bytes(), self.ca_certificate_pem()
            )
        issued = self.issue_client_certificate(CONTROLLER_CN)
        _write_private(key_path, issued.key_pem)
        cert_path.write_bytes(issued.cert_pem)
        return issued
