"""/lbaas/certificates: store, show, list and delete certificate bundles (an extension; see
docs/certificates.md). A certificate's `ref` is what listeners and pools take as
*_container_ref. Private keys are accepted, never returned."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import ERRORS, call, list_response, respond, show_response
from services.api_gateway.schemas import certificate as schema
from services.api_gateway.schemas.body import parse_body, request_body

router = APIRouter(prefix="/lbaas/certificates", tags=["certificates"])


@router.post(
    "",
    status_code=201,
    response_model=schema.CertificateRoot,
    responses=ERRORS,
    openapi_extra=request_body(schema.CertificateCreateRoot),
)
async def create(request: Request, who: Caller) -> JSONResponse:
    body = await parse_body(request, schema.CertificateCreate, "certificate")
    resp = await call(request, "CreateCertificate", schema.create_request(body, who))
    return respond({"certificate": schema.view(resp.certificate)}, 201)


@router.get("", response_model=schema.CertificateList, responses=ERRORS)
async def list_(request: Request, who: Caller) -> Response:
    resp = await call(request, "ListCertificates", pb.ListCertificatesRequest(scope=who.scope()))
    items = [schema.view(c) for c in resp.certificates]
    return list_response(request, "certificates", items, schema.CertificateView)


@router.get("/{certificate_id}", response_model=schema.CertificateRoot, responses=ERRORS)
async def show(certificate_id: str, request: Request, who: Caller) -> JSONResponse:
    req = pb.GetCertificateRequest(scope=who.scope(), id=certificate_id)
    resp = await call(request, "GetCertificate", req)
    return show_response(request, "certificate", schema.view(resp.certificate))


@router.delete("/{certificate_id}", status_code=204, response_class=Response, responses=ERRORS)
async def delete(certificate_id: str, request: Request, who: Caller) -> Response:
    req = pb.DeleteCertificateRequest(scope=who.scope(), id=certificate_id)
    await call(request, "DeleteCertificate", req)
    return Response(status_code=204)
