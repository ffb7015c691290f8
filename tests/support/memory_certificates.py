"""The certificate RPCs of the in-memory orchestrator (gateway unit tests): a catalogue with
the orchestrator's scoping and type inference, and no parsing (the orchestrator's parsing is
tested in its own unit tests)."""

from __future__ import annotations

import uuid

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.common.errors import InvalidInput, NotFound, Precondition

RPCS = frozenset(("CreateCertificate", "GetCertificate", "ListCertificates", "DeleteCertificate"))


class MemoryCertificates:
    def __init__(self) -> None:
        self.certificates: dict[str, pb.Certificate] = {}
        # Refs a test marks as used by a listener or pool (DeleteCertificate then refuses).
        self.in_use: set[str] = set()

    def call(self, rpc: str, request: Message) -> Message:
        return getattr(self, f"_{rpc}")(request)

    def _find(self, scope: pb.Scope, cert_id: str) -> pb.Certificate:
        cert = self.certificates.get(cert_id)
        if cert is None or not (scope.all_projects or cert.project_id == scope.project_id):
            raise NotFound(f"Certificate {cert_id} not found.", field="id")
        return cert

    def _CreateCertificate(self, req: pb.CreateCertificateRequest) -> Message:
        if not req.scope.project_id:
            raise InvalidInput("A project_id is required.", field="project_id")
        kind = req.type or (
            "TLS"
            if req.private_key_pem or req.pkcs12
            else "CA"
            if req.certificate_pem
            else "CRL"
            if req.crl_pem
            else ""
        )
        if not kind:
            raise InvalidInput("A certificate, a PKCS#12 archive or a CRL is required.")
        cert_id = str(uuid.uuid4())
        now = Timestamp()
        now.GetCurrentTime()
        cert = pb.Certificate(
            id=cert_id,
            project_id=req.scope.project_id,
            name=req.name,
            ref=f"local:{cert_id}",
            type=kind,
            created_at=now,
        )
        self.certificates[cert_id] = cert
        return pb.CreateCertificateResponse(certificate=cert)

    def _GetCertificate(self, req: pb.GetCertificateRequest) -> Message:
        return pb.GetCertificateResponse(certificate=self._find(req.scope, req.id))

    def _ListCertificates(self, req: pb.ListCertificatesRequest) -> Message:
        found = [
            c
            for c in self.certificates.values()
            if req.scope.all_projects or c.project_id == req.scope.project_id
        ]
        return pb.ListCertificatesResponse(certificates=found)

    def _DeleteCertificate(self, req: pb.DeleteCertificateRequest) -> Message:
        cert = self._find(req.scope, req.id)
        if cert.ref in self.in_use:
            raise Precondition(f"Certificate {req.id} is in use.", field="id")
        del self.certificates[req.id]
        return pb.DeleteCertificateResponse()
