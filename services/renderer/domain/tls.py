"""Certificate material for renderers: find the material behind a graph reference, read the SNI
hostnames a certificate answers for, and name the files it is written to.

Every backend uses these, so a certificate means the same thing to haproxy, nginx and AS3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from lbaas.renderer.v1 import renderer_service_pb2

from services.common.errors import InvalidInput
from services.renderer.domain import filters

# Mode of every rendered file that holds a private key.
KEY_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


@dataclass(frozen=True)
class Material:
    """One reference's content, checked: PEM blocks parse, hostnames are valid DNS names."""

    ref: str
    # Stable, path-safe name derived from the reference (never the reference itself).
    name: str
    certificate_pem: bytes
    private_key_pem: bytes
    intermediates_pem: bytes
    crl_pem: bytes
    # The leaf's subject CN and DNS subjectAltNames, lower case, in that order, no duplicates.
    hostnames: tuple[str, ...]

    @property
    def bundle_pem(self) -> bytes:
        """Leaf, intermediates, key: the single-file form haproxy's `crt` and nginx accept."""
        parts = [self.certificate_pem, self.intermediates_pem, self.private_key_pem]
        return b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts if p)

    @property
    def chain_pem(self) -> bytes:
        parts = [self.certificate_pem, self.intermediates_pem]
        return b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts if p)


def ref_name(ref: str) -> str:
    """A file-name-safe, stable name for a reference: refs are URLs and may hold anything."""
    return hashlib.sha256(ref.encode("utf-8")).hexdigest()[:24]


def hostnames(certificate_pem: bytes) -> tuple[str, ...]:
    """Subject CN and DNS SANs of the first certificate in certificate_pem. Names that are not
    valid (wildcard) DNS names are left out: they could never match an SNI value and must not
    reach a config."""
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem)
    except ValueError as err:
        raise InvalidInput(f"certificate does not parse: {err}", field="tls_materials") from err
    names: list[str] = []
    for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        names.append(str(attr.value))
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        names.extend(san.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    out: list[str] = []
    for name in names:
        name = name.strip().lower()
        if name in out or not _dns_name(name):
            continue
        out.append(name)
    return tuple(out)


def _dns_name(name: str) -> bool:
    candidate = name[2:] if name.startswith("*.") else name
    try:
        filters.hostname(candidate, "certificate hostname")
    except InvalidInput:
        return False
    return True


class Materials:
    """The request's materials by reference; a lookup of a missing reference is INVALID_ARGUMENT
    naming the field that holds it."""

    def __init__(self, materials: Iterable[renderer_service_pb2.TlsMaterial]):
        self._by_ref: dict[str, Material] = {}
        for m in materials:
            self._by_ref[m.ref] = Material(
                ref=m.ref,
                name=ref_name(m.ref),
                certificate_pem=bytes(m.certificate_pem),
                private_key_pem=bytes(m.private_key_pem),
                intermediates_pem=bytes(m.intermediates_pem),
                crl_pem=bytes(m.crl_pem),
                hostnames=hostnames(bytes(m.certificate_pem)) if m.certificate_pem else (),
            )

    def get(self, ref: str, field: str, *, key: bool = False, crl: bool = False) -> Material:
        material = self._by_ref.get(ref)
        if material is None:
            raise InvalidInput(f"no certificate material for {field}", field=field)
        if key and not (material.certificate_pem and material.private_key_pem):
            raise InvalidInput(f"{field} needs a certificate with its private key", field=field)
        if crl and not material.crl_pem:
            raise InvalidInput(f"{field} needs a certificate revocation list", field=field)
        if not key and not crl and not material.certificate_pem:
            raise InvalidInput(f"{field} needs CA certificates", field=field)
        return material

    def __len__(self) -> int:
        return len(self._by_ref)


def materials(request_materials: Sequence[renderer_service_pb2.TlsMaterial]) -> Materials:
    return Materials(request_materials)
