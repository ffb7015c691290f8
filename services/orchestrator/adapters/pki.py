"""The controller's internal certificate authority, kept as PEM files in one directory.

It issues each amphora a server certificate (subject CN and DNS SAN = amphora id, EKU serverAuth)
and the controller one client certificate (CN "lbaas-controller", EKU clientAuth). Because the
usages are disjoint, an amphora's certificate cannot be used to call another amphora's agent.
Leaf certificates live `validity` seconds; the controller's is renewed on disk when it expires
within `renew_before` seconds (housekeeping renews the amphorae's: jobs/cert_rotation.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.common.internal_tls import new_ca
from services.orchestrator.domain.ports import IssuedCertificate

log = logging.getLogger(__name__)

CONTROLLER_CN = "lbaas-controller"
_CA_DAYS = 3650
DEFAULT_VALIDITY = 365 * 86400.0
DEFAULT_RENEW_BEFORE = 30 * 86400.0


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


def _replace(path: Path, data: bytes, mode: int) -> None:
    """Writes a temp file beside path, then renames it over path: a reader sees the old file or
    the new one, never a partial one."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)  # O_CREAT's mode does not apply to a temp file left by a crash
    os.replace(tmp, path)


def renewal_margin(validity: float, renew_before: float) -> float:
    """renew_before, unless it is not shorter than the validity: then half the validity (such
    a margin would make every certificate due as soon as it is issued, renewed at each check)."""
    return renew_before if renew_before < validity else validity / 2


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FileCertificateAuthority:
    """A CA whose key and certificate live in ca_dir; created on first use.

    validity: lifetime of the leaf certificates it issues (seconds); renew_before: the
    controller certificate is renewed when it expires within this margin (seconds; see
    renewal_margin)."""

    def __init__(
        self,
        ca_dir: Path,
        common_name: str = "lbaas controller CA",
        *,
        validity: float = DEFAULT_VALIDITY,
        renew_before: float = DEFAULT_RENEW_BEFORE,
    ):
        if validity <= 0 or renew_before < 0:
            raise ValueError("certificate validity must be positive and renew_before not negative")
        self._dir = ca_dir
        self._validity = dt.timedelta(seconds=validity)
        self._renew_before = renewal_margin(validity, renew_before)
        if self._renew_before < renew_before:
            log.warning(
                "certificate renewal margin %.0fs is not shorter than the validity %.0fs; "
                "using %.0fs",
                renew_before,
                validity,
                self._renew_before,
            )
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The API and worker processes (and replicas sharing the directory) may start at once:
        # the first to hold the lock creates the CA, the others load it.
        with self._locked():
            self._load_or_create(ca_dir / "ca.crt", ca_dir / "ca.key", common_name)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self._dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _load_or_create(self, cert_path: Path, key_path: Path, common_name: str) -> None:
        if cert_path.exists() and key_path.exists():
            self._key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            self._cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        else:
            self._key, self._cert = new_ca(common_name, days=_CA_DAYS, now=_now())
            _write_private(key_path, _pem_key(self._key))
            cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    @property
    def directory(self) -> Path:
        return self._dir

    @property
    def renew_before(self) -> float:
        """Seconds before expiry at which certificates are renewed."""
        return self._renew_before

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
            .not_valid_after(_now() + self._validity)
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
        """The controller's client certificate from controller.crt / controller.key, renewed
        there first when it expires within renew_before (or is missing, unreadable, or does
        not match its key). Under the directory's lock, so the processes sharing it renew it
        once and the others read the renewed files."""
        cert_path, key_path = self._dir / "controller.crt", self._dir / "controller.key"
        with self._locked():
            current = _read_pair(cert_path, key_path)
            if current is not None and not self._due(current[1]):
                return IssuedCertificate(current[0], current[2], self.ca_certificate_pem())
            issued = self.issue_client_certificate(CONTROLLER_CN)
            # The key first: a crash between the two renames leaves a pair that does not
            # match, which the next call renews.
            _replace(key_path, issued.key_pem, 0o600)
            _replace(cert_path, issued.cert_pem, 0o644)
        if current is not None:
            log.info(
                "controller certificate renewed (the previous one was valid until %s)",
                current[1].not_valid_after_utc.isoformat(),
            )
        return issued

    def controller_not_after(self) -> dt.datetime:
        """When the controller certificate on disk expires (it is created if there is none)."""
        with self._locked():
            current = _read_pair(self._dir / "controller.crt", self._dir / "controller.key")
        if current is not None:
            return current[1].not_valid_after_utc
        issued = self.controller_credentials()
        return x509.load_pem_x509_certificate(issued.cert_pem).not_valid_after_utc

    def _due(self, cert: x509.Certificate) -> bool:
        return cert.not_valid_after_utc - dt.timedelta(seconds=self._renew_before) <= _now()


def _read_pair(cert_path: Path, key_path: Path) -> tuple[bytes, x509.Certificate, bytes] | None:
    """(certificate PEM, parsed certificate, key PEM) when both files exist, parse and belong
    together; else None."""
    try:
        cert_pem, key_pem = cert_path.read_bytes(), key_path.read_bytes()
        cert = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (OSError, ValueError, TypeError):
        return None
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        return None
    return cert_pem, cert, key_pem


def _public_der(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
