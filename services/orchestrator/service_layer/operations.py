"""Use cases of the health service and operators: amphorae, observed operating statuses."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.errors import InvalidInput, NotFound
from services.orchestrator.adapters.db.models import (
    AmphoraRow,
    HealthMonitorRow,
    ListenerRow,
    LoadBalancerRow,
    MemberRow,
    PoolRow,
)
from services.orchestrator.domain import status

_STATUS_TABLES = (LoadBalancerRow, ListenerRow, PoolRow, MemberRow, HealthMonitorRow)


def get_amphora(session: Session, amphora_id: str) -> AmphoraRow:
    row = session.get(AmphoraRow, amphora_id) if amphora_id else None
    if row is None:
        raise NotFound(f"Amphora {amphora_id} not found.", field="id")
    return row


def list_amphorae(session: Session, lb_id: str = "") -> list[AmphoraRow]:
    query = select(AmphoraRow).order_by(AmphoraRow.created_at, AmphoraRow.id)
    if lb_id:
        query = query.where(AmphoraRow.load_balancer_id == lb_id)
    return list(session.scalars(query))


def set_operating_statuses(session: Session, statuses: dict[str, str]) -> int:
    """Writes observed statuses; only rows whose status differs change, unknown ids (objects
    deleted meanwhile) are ignored. Returns how many rows changed."""
    for object_id, value in statuses.items():
        if value not in status.OPERATING_STATUSES:
            raise InvalidInput(f"Invalid operating status for {object_id}.", field="statuses")
    if not statuses:
        return 0
    changed = 0
    for model in _STATUS_TABLES:
        rows = session.execute(
            select(model.id, model.operating_status)
            .where(model.id.in_(list(statuses)))
            .with_for_update()
        ).all()
        for object_id, current in rows:
            if current != statuses[object_id]:
                session.execute(
                    update(model)
                    .where(model.id == object_id)
                    .values(operating_status=statuses[object_id], updated_at=model.updated_at)
                )
                changed += 1
    return changed
