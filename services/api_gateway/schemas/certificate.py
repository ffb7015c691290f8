"""Certificate request and response models (an extension of Octavia's API: Octavia reads
certificates from Barbican) and their translation to the contract. Key material goes in only;
no response model has a field that could carry it."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from pydantic import PlainValidator, WithJsonSchema

from services.api_gateway.auth import Principal
from services.api_gateway.schemas.common import owner_project
from services.api_gateway.schemas.fields import Option, Strict, text
from services.api_gateway.views import timestamp

# Per part, as the orchestrator enforces (a system CA bundle is about 200 KiB).
MAX_PEM_LENGTH = 512 * 1024
MAX_PKCS12_LENGTH = 4 * ((MAX_PEM_LENGTH + 2) // 3)  # its base64 text
MAX_PASSPHRASE_LENGTH = 1024
_PEM_CHARS = re.compile(r"[\x20-\x7e\r\n\t]*")


def _pem_text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("Wrong type. Expected a string.")
    if len(v) > MAX_PEM_LENGTH:
        raise ValueError(f"Value should have a maximum character requirement of {MAX_PEM_LENGTH}.")
    if not _PEM_CHARS.fullmatch(v):
        raise ValueError("Value must be PEM text (printable ASCII and line breaks).")
    return v


def _base64(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("Wrong type. Expected a string.")
    if len(v) > MAX_PKCS12_LENGTH:
        raise ValueError(
            f"Value should have a maximum character requirement of {MAX_PKCS12_LENGTH}."
        )
    try:
        base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Value is not valid base64.") from None
    return v


Pem = Annotated[
    str,
    PlainValidator(_pem_text),
    WithJsonSchema({"type": "string", "maxLength": MAX_PEM_LENGTH, "description": "PEM text."}),
]
Base64 = Annotated[
    str,
    PlainValidator(_base64),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_PKCS12_LENGTH,
            "contentEncoding": "base64",
            "description": "A PKCS#12 archive, base64-encoded.",
        }
    ),
]
NameText = Annotated[text(255), WithJsonSchema({"type": "string", "maxLength": 255})]
ProjectText = Annotated[text(255), WithJsonSchema({"type": "string", "maxLength": 255})]
Passphrase = Annotated[
    text(MAX_PASSPHRASE_LENGTH),
    WithJsonSchema({"type": "string", "maxLength": MAX_PASSPHRASE_LENGTH}),
]


class CertificateCreate(Strict):
    """A TLS bundle (certificate + private_key [+ intermediates], or pkcs12 [+ passphrase]),
    CA certificates (certificate, one or more), or a CRL (crl). Without type: TLS when a key
    or an archive is given, else CA, else CRL."""

    name: NameText | None = None
    project_id: ProjectText | None = None
    type: Option | None = None  # TLS, CA or CRL: the orchestrator's list
    certificate: Pem | None = None
    private_key: Pem | None = None
    intermediates: Pem | None = None
    pkcs12: Base64 | None = None
    passphrase: Passphrase | None = None
    crl: Pem | None = None


class CertificateCreateRoot(Strict):
    certificate: CertificateCreate


def create_request(body: CertificateCreate, principal: Principal) -> pb.CreateCertificateRequest:
    # The owner travels as the scope's project: an admin may name another project.
    owner = owner_project(principal, body)
    return pb.CreateCertificateRequest(
        scope=pb.Scope(project_id=owner),
        name=body.name or "",
        type=body.type or "",
        certificate_pem=(body.certificate or "").encode(),
        private_key_pem=(body.private_key or "").encode(),
        intermediates_pem=(body.intermediates or "").encode(),
        pkcs12=base64.b64decode(body.pkcs12) if body.pkcs12 else b"",
        passphrase=body.passphrase or "",
        crl_pem=(body.crl or "").encode(),
    )


# -- responses ----------------------------------------------------------------------------
class CertificateView(Strict):
    id: str | None = None
    name: str | None = None
    project_id: str | None = None
    ref: str | None = None
    type: str | None = None
    hostnames: list[str] | None = None
    subject: str | None = None
    expires_at: str | None = None
    created_at: str | None = None


class Link(Strict):
    rel: str
    href: str


class CertificateRoot(Strict):
    certificate: CertificateView


class CertificateList(Strict):
    certificates: list[CertificateView]
    certificates_links: list[Link]


def view(c: pb.Certificate) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "project_id": c.project_id,
        "ref": c.ref,
        "type": c.type,
        "hostnames": list(c.hostnames),
        "subject": c.subject,
        "expires_at": timestamp(c.expires_at),
        "created_at": timestamp(c.created_at),
    }
