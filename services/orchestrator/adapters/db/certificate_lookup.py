"""The reconcile-time lookup both certificate drivers share: the catalogue rows a graph's
references name, in the load balancer's project; each driver fetches the material of a row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lbaas.renderer.v1 import renderer_service_pb2 as render_pb
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from services.orchestrator.domain.certificates import graph_refs


def resolve(
    session: Session,
    loadbalancer: Any,
    material: Callable[[CertificateRow], render_pb.TlsMaterial],
) -> list[render_pb.TlsMaterial]:
    """TlsMaterial for each reference of the graph, from rows of the load balancer's project;
    material(row) fetches the content (the driver's part)."""
    refs = graph_refs(loadbalancer)
    if not refs:
        return []
    project_id = loadbalancer.meta.project_id
    rows = {
        row.ref: row
        for row in session.scalars(
            select(CertificateRow).where(
                CertificateRow.ref.in_([ref for _, ref in refs]),
                CertificateRow.project_id == project_id,
            )
        )
    }
    out = []
    for field_name, ref in refs:
        row = rows.get(ref)
        if row is None:
            raise InvalidInput(
                f"Certificate {ref} does not exist (deleted, or not project {project_id}'s).",
                field=field_name,
            )
        out.append(material(row))
    return out
