"""Certificate RPCs of OrchestratorService: a mixin of the servicer, thin over
service_layer.certificates and the configured certificate driver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.common.errors import Unavailable
from services.orchestrator.adapters.certificate_bundle import BundleInput, parse
from services.orchestrator.codec import encode
from services.orchestrator.service_layer import certificates
from services.orchestrator.service_layer.common import Scope


def _scope(request: Any) -> Scope:
    return Scope(project_id=request.scope.project_id, all_projects=request.scope.all_projects)


# Uploads parsed at once. A passphrase-protected one is decrypted by a child process for up to
# key_decryption.DECRYPT_DEADLINE while a worker thread waits on it; those threads are the ones
# database transactions run on, so the others wait here, on the event loop, holding none.
PARSE_SLOTS = 2


class CertificateHandlers:
    """Mixed into OrchestratorServicer, which provides _tx and certificate_driver (the
    configured driver, also the reconcile pass's CertificateStore)."""

    _tx: Callable[..., Any]
    certificate_driver: certificates.CertificateDriver | None = None
    _parse_slots: asyncio.Semaphore | None = None

    def _driver(self) -> certificates.CertificateDriver:
        driver = self.certificate_driver
        if driver is None or not hasattr(driver, "store"):
            raise Unavailable(
                "Certificate storage is not configured.",
                operator_detail="the injected certificate store has no API side",
            )
        return driver

    async def CreateCertificate(self, request, context):
        driver = self._driver()
        scope = _scope(request)
        scope.owner_for_create("")  # refuse a missing project before parsing anything
        if self._parse_slots is None:
            self._parse_slots = asyncio.Semaphore(PARSE_SLOTS)
        async with self._parse_slots:
            bundle = await asyncio.to_thread(
                parse,
                BundleInput(
                    type=request.type,
                    certificate_pem=request.certificate_pem,
                    private_key_pem=request.private_key_pem,
                    intermediates_pem=request.intermediates_pem,
                    pkcs12=request.pkcs12,
                    passphrase=request.passphrase,
                    crl_pem=request.crl_pem,
                ),
            )
        out = await self._tx(
            lambda s: encode.certificate(
                certificates.create(s, driver, scope, request.name, bundle)
            )
        )
        return pb.CreateCertificateResponse(certificate=out)

    async def GetCertificate(self, request, context):
        out = await self._tx(
            lambda s: encode.certificate(certificates.get(s, _scope(request), request.id))
        )
        return pb.GetCertificateResponse(certificate=out)

    async def ListCertificates(self, request, context):
        out = await self._tx(
            lambda s: [encode.certificate(r) for r in certificates.list_(s, _scope(request))]
        )
        return pb.ListCertificatesResponse(certificates=out)

    async def DeleteCertificate(self, request, context):
        driver = self._driver()
        await self._tx(lambda s: certificates.delete(s, driver, _scope(request), request.id))
        return pb.DeleteCertificateResponse()
