"""Certificate use cases: the catalogue (create, get, list, delete with an in-use check), the
reference checks listeners and pools make before anything is written (the reconcile-time lookup
is adapters/db/certificate_lookup.py).

Both drivers keep one catalogue row per certificate (project, type, ref): the `local` driver
stores the material in it, the `barbican` driver only the Barbican container href. So scoping,
type checks and in-use checks are the same database queries whichever driver is configured."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

from sqlalchemy import any_, literal, or_, select
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput, NotFound, Precondition
from services.orchestrator.adapters.certificate_bundle import Bundle
from services.orchestrator.adapters.db.certificate_models import CertificateRow
from services.orchestrator.adapters.db.models import ListenerRow, PoolRow
from services.orchestrator.domain.certificates import LISTENER_REFS, POOL_REFS
from services.orchestrator.service_layer.common import Scope


class CertificateDriver(Protocol):
    """What a driver adds to the catalogue row: where the material lives."""

    def store(self, row: CertificateRow, bundle: Bundle) -> None:
        """Sets row.ref and the material columns the driver keeps (called before the insert)."""
        ...

    def discard(self, row: CertificateRow) -> None:
        """Removes the material kept outside the database (called in the delete's transaction,
        after the in-use check; an error rolls the delete back)."""
        ...


# -- catalogue ---------------------------------------------------------------------------------


def create(
    session: Session, driver: CertificateDriver, scope: Scope, name: str, bundle: Bundle
) -> CertificateRow:
    row = CertificateRow(
        id=str(uuid.uuid4()),
        project_id=scope.owner_for_create(""),
        name=name,
        type=bundle.type,
        hostnames=json.dumps(list(bundle.hostnames)),
        subject=bundle.subject,
        expires_at=bundle.expires_at,
    )
    driver.store(row, bundle)
    session.add(row)
    session.flush()
    return row


def get(session: Session, scope: Scope, cert_id: str) -> CertificateRow:
    row = session.get(CertificateRow, cert_id) if cert_id else None
    if row is None or not scope.sees(row.project_id):
        raise NotFound(f"Certificate {cert_id} not found.", field="id")
    return row


def list_(session: Session, scope: Scope) -> list[CertificateRow]:
    query = select(CertificateRow).order_by(CertificateRow.created_at, CertificateRow.id)
    if not scope.all_projects:
        query = query.where(CertificateRow.project_id == scope.project_id)
    return list(session.scalars(query))


def users(session: Session, ref: str) -> list[str]:
    """Listeners and pools (any project, any status) that refer to ref, as "listener <id>"."""
    listener_ids = session.scalars(
        select(ListenerRow.id).where(
            or_(
                ListenerRow.default_tls_container_ref == ref,
                ListenerRow.client_ca_tls_container_ref == ref,
                ListenerRow.client_crl_container_ref == ref,
                literal(ref) == any_(ListenerRow.sni_container_refs),
            )
        )
    )
    pool_ids = session.scalars(
        select(PoolRow.id).where(
            or_(
                PoolRow.tls_container_ref == ref,
                PoolRow.ca_tls_container_ref == ref,
                PoolRow.crl_container_ref == ref,
            )
        )
    )
    return [f"listener {i}" for i in listener_ids] + [f"pool {i}" for i in pool_ids]


def delete(session: Session, driver: CertificateDriver, scope: Scope, cert_id: str) -> None:
    row = get(session, scope, cert_id)
    # Locked so that a listener or pool being created with this ref (which takes a share lock
    # on the row in check_refs) either commits before this check sees it, or finds it gone.
    session.execute(select(CertificateRow.id).where(CertificateRow.id == row.id).with_for_update())
    in_use = users(session, row.ref)
    if in_use:
        raise Precondition(
            f"Certificate {cert_id} is in use by {', '.join(in_use[:5])}"
            f"{' and others' if len(in_use) > 5 else ''}.",
            field="id",
        )
    driver.discard(row)
    session.delete(row)
    session.flush()


# -- reference checks (API time) ---------------------------------------------------------------


def _refs(values: dict[str, Any], names: dict[str, tuple[str, ...]]) -> Iterator[tuple[str, str]]:
    for name in names:
        value = values.get(name)
        if not value:
            continue
        if isinstance(value, str):
            yield name, value
        else:
            for i, ref in enumerate(value):
                yield f"{name}[{i}]", ref


def _check(
    session: Session,
    project_id: str,
    values: dict[str, Any],
    names: dict[str, tuple[str, ...]],
    at: str,
) -> None:
    for field_name, ref in _refs(values, names):
        allowed = names[field_name.split("[", 1)[0]]
        row = session.execute(
            select(CertificateRow.type)
            .where(CertificateRow.ref == ref, CertificateRow.project_id == project_id)
            .with_for_update(read=True)
        ).first()
        if row is None:
            raise InvalidInput(
                f"Certificate {ref} not found in the load balancer's project.",
                field=f"{at}{field_name}",
            )
        if row[0] not in allowed:
            raise InvalidInput(
                f"Certificate {ref} is a {row[0]} certificate; {field_name} takes "
                f"{' or '.join(allowed)}.",
                field=f"{at}{field_name}",
            )


def check_listener_refs(
    session: Session, project_id: str, values: dict[str, Any], at: str = ""
) -> None:
    """Every certificate reference among values (a listener create or update) exists in
    project_id and has a type the field accepts; InvalidInput naming the field otherwise."""
    _check(session, project_id, values, LISTENER_REFS, at)


def check_pool_refs(
    session: Session, project_id: str, values: dict[str, Any], at: str = ""
) -> None:
    _check(session, project_id, values, POOL_REFS, at)
