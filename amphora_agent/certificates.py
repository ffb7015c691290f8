"""The agent's own server certificate: checked, written over its files and swapped into new TLS
handshakes without restarting the gRPC server (certificate rotation)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class CertificateError(ValueError):
    """A certificate the agent refuses; the message says why (it reaches the caller)."""


@dataclass(frozen=True)
class CheckedCertificate:
    cert_pem: bytes
    key_pem: bytes
    not_after: dt.datetime


def check(
    cert_pem: bytes,
    key_pem: bytes,
    amphora_id: str,
    ca_pem: bytes,
    now: dt.datetime | None = None,
) -> CheckedCertificate:
    """The certificate if it can serve this amphora: it names the amphora (CN or DNS SAN), is
    issued by a certificate in ca_pem, is valid now, may serve TLS (EKU), and key_pem is its
    key. Raises CertificateError otherwise."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise CertificateError("certificate_pem is not a PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise CertificateError("private_key_pem is not an unencrypted PEM private key") from None
    names = _names(cert)
    if amphora_id not in names:
        raise CertificateError(
            f"the certificate names {sorted(names) or 'nothing'}, not amphora {amphora_id}"
        )
    if not any(_issued_by(cert, issuer) for issuer in _ca_certificates(ca_pem)):
        raise CertificateError("the certificate is not issued by this agent's CA")
    now = now or dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc:
        raise CertificateError(
            f"the certificate is not valid now (valid from {cert.not_valid_before_utc} "
            f"until {cert.not_valid_after_utc})"
        )
    if not _serves_tls(cert):
        raise CertificateError("the certificate's extended key usage excludes serverAuth")
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        raise CertificateError("the private key does not match the certificate")
    return CheckedCertificate(cert_pem, key_pem, cert.not_valid_after_utc)


def _names(cert: x509.Certificate) -> set[str]:
    names = {
        str(attribute.value)
        for attribute in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    }
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return names
    return names | set(san.value.get_values_for_type(x509.DNSName))


def _ca_certificates(ca_pem: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(ca_pem)
    except ValueError:
        return []


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _serves_tls(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return True  # no EKU: any usage
    return ExtendedKeyUsageOID.SERVER_AUTH in usage.value


def _public_der(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_atomic(path: str, data: bytes, mode: int) -> None:
    tmp = os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)  # O_CREAT's mode does not apply to a temp file left by a crash
    os.replace(tmp, path)


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


class ServerCertificate:
    """The certificate and key the gRPC server presents, from the --tls-cert / --tls-key files.

    credentials() are dynamic: gRPC asks fetch() at every new handshake; it answers None
    (unchanged) except once after update(), with the new configuration. Connections already
    open keep the certificate they were made with."""

    def __init__(self, amphora_id: str, cert_path: str, key_path: str, client_ca_path: str):
        self._amphora_id = amphora_id
        self._cert_path, self._key_path = cert_path, key_path
        self._client_ca = _read(client_ca_path)
        self._initial = (_read(key_path), _read(cert_path))
        self._pending: grpc.ServerCertificateConfiguration | None = None
        self._lock = threading.Lock()  # fetch() runs on gRPC's threads

    def credentials(self) -> grpc.ServerCredentials:
        initial = grpc.ssl_server_certificate_configuration(
            [self._initial], root_certificates=self._client_ca
        )
        return grpc.dynamic_ssl_server_credentials(
            initial, self.fetch, require_client_authentication=True
        )

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    def update(self, cert_pem: bytes, key_pem: bytes) -> dt.datetime:
        """Checks the certificate (CertificateError: nothing is written), writes it over the
        files (the key first, each through a temp file and a rename; the key 0600) and makes
        new handshakes present it. Returns its not-after."""
        checked = check(cert_pem, key_pem, self._amphora_id, self._client_ca)
        _write_atomic(self._key_path, checked.key_pem, 0o600)
        _write_atomic(self._cert_path, checked.cert_pem, 0o644)
        configuration = grpc.ssl_server_certificate_configuration(
            [(checked.key_pem, checked.cert_pem)], root_certificates=self._client_ca
        )
        with self._lock:
            self._pending = configuration
        return checked.not_after
