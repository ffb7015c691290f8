"""The `local` certificate driver: certificates in the orchestrator's database, private keys
encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256) under a key file of the controller."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from lbaas.renderer.v1 import renderer_service_pb2 as render_pb

from services.common.errors import Precondition
from services.orchestrator.adapters.certificate_bundle import Bundle
from services.orchestrator.adapters.db import certificate_lookup
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from services.orchestrator.adapters.db.engine import UnitOfWork

REF_PREFIX = "local:"


class KeyBox:
    """Encrypts private keys with the key file's keys. The file holds one Fernet key per line;
    the first encrypts, every one decrypts (so a new key can be put first and old rows still
    read). It is created, mode 0600, with one fresh key when missing."""

    def __init__(self, key_file: Path):
        self.key_file = key_file
        self._fernet: MultiFernet | None = None

    def _load(self) -> MultiFernet:
        if self._fernet is None:
            if not self.key_file.exists():
                self.key_file.parent.mkdir(parents=True, exist_ok=True)
                try:
                    fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    pass  # another process created it first; use theirs
                else:
                    with os.fdopen(fd, "wb") as f:
                        f.write(Fernet.generate_key() + b"\n")
            lines = [ln.strip() for ln in self.key_file.read_bytes().splitlines() if ln.strip()]
            if not lines:
                raise Precondition(
                    "The certificate encryption key is missing.",
                    operator_detail=f"{self.key_file} is empty",
                )
            self._fernet = MultiFernet([Fernet(line) for line in lines])
        return self._fernet

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._load().encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._load().decrypt(token)
        except InvalidToken:
            raise Precondition(
                "A stored private key cannot be decrypted.",
                operator_detail=f"no key in {self.key_file} decrypts it (was the key file "
                "replaced?)",
            ) from None


class LocalCertificateStore:
    """CertificateStore (reconcile) and CertificateDriver (API) of the `local` driver."""

    name = "local"

    def __init__(self, uow: UnitOfWork, key_file: Path):
        self._uow = uow
        self._box = KeyBox(key_file)

    def store(self, row: CertificateRow, bundle: Bundle) -> None:
        row.ref = REF_PREFIX + row.id
        row.certificate_pem = bundle.certificate_pem.decode()
        row.intermediates_pem = bundle.intermediates_pem.decode()
        row.crl_pem = bundle.crl_pem.decode()
        row.private_key_encrypted = (
            self._box.encrypt(bundle.private_key_pem) if bundle.private_key_pem else None
        )

    def discard(self, row: CertificateRow) -> None:
        pass  # the material is the row itself

    def material(self, row: CertificateRow) -> render_pb.TlsMaterial:
        return render_pb.TlsMaterial(
            ref=row.ref,
            certificate_pem=row.certificate_pem.encode(),
            private_key_pem=(
                self._box.decrypt(row.private_key_encrypted) if row.private_key_encrypted else b""
            ),
            intermediates_pem=row.intermediates_pem.encode(),
            crl_pem=row.crl_pem.encode(),
        )

    def resolve(self, loadbalancer: object) -> list[object]:
        with self._uow.transaction() as session:
            return list(certificate_lookup.resolve(session, loadbalancer, self.material))
