"""Certificate rotation, a housekeeping chore: renews the controller's client certificate and
each amphora's server certificate before they expire, with no failover and no traffic gap."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, false, or_, select

from services.common.errors import DomainError, NotFound, Unavailable
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.adapters.db.models import AmphoraRow
from services.orchestrator.adapters.pki import renewal_margin
from services.orchestrator.config import Settings
from services.orchestrator.domain.amphora_lifecycle import (
    ALLOCATED,
    READY,
)
from services.orchestrator.domain.ports import AgentLacksRpc
from services.orchestrator.jobs.reconcile import Drivers
from services.orchestrator.service_layer import amphorae
from services.orchestrator.service_layer.common import Deps

log = logging.getLogger(__name__)


_amphora = AmphoraRow.__table__
# A plain (table) UPDATE, as the reconcile pass writes amphora rows, guarded: the new
# expiration is recorded only if the amphora was not recreated meanwhile (a new compute id
# came with a certificate of its own, recorded by the pass).
_RECORD_EXPIRATION = (
    _amphora.update()
    .where(
        _amphora.c.id == bindparam("amphora_id"),
        _amphora.c.compute_id == bindparam("expected_compute_id"),
    )
    .values(cert_expiration=bindparam("not_after"))
)


@dataclass(frozen=True)
class Due:
    """An amphora whose certificate is to be renewed."""

    id: str
    compute_id: str
    agent_address: str
    load_balancer_id: str | None
    cert_expiration: dt.datetime | None


class CertificateRotator:
    """run(): renews the controller certificate when due, then gives every serving or spare
    amphora whose certificate expires within cert_renew_before (or is unknown) a new one
    through its agent's UpdateCertificate, `concurrency` at a time and at most `batch` per run
    (the rest go in the next runs).

    An agent that cannot be reached is skipped (tried again next run). An agent of a release
    without the RPC is replaced instead: a serving amphora is failed over (the replacement is
    started with a fresh certificate), a spare is marked PENDING_DELETE for housekeeping to
    replace."""

    def __init__(
        self,
        uow: UnitOfWork,
        drivers: Drivers,
        settings: Settings,
        *,
        concurrency: int = 8,
        batch: int = 256,
    ):
        self._uow = uow
        self._d = drivers
        self._margin = dt.timedelta(
            seconds=renewal_margin(settings.cert_validity, settings.cert_renew_before)
        )
        self._concurrency = concurrency
        self._batch = batch

    async def run(self) -> int:
        """Returns how many amphorae got a new certificate or were marked for replacement."""
        await asyncio.to_thread(self._d.ca.controller_credentials)  # renews it when due
        due = await asyncio.to_thread(self._due)
        if not due:
            return 0
        slots = asyncio.Semaphore(self._concurrency)

        async def one(amphora: Due) -> bool:
            async with slots:
                return await self._rotate(amphora)

        done = await asyncio.gather(*(one(a) for a in due))
        return sum(done)

    def _due(self) -> list[Due]:
        horizon = dt.datetime.now(dt.UTC) + self._margin
        expiration = AmphoraRow.cert_expiration
        query = (
            select(
                AmphoraRow.id,
                AmphoraRow.compute_id,
                AmphoraRow.agent_address,
                AmphoraRow.load_balancer_id,
                expiration,
            )
            .where(
                AmphoraRow.compute_id != "",
                AmphoraRow.agent_address != "",
                AmphoraRow.status.in_((ALLOCATED, READY)),
                # Being replaced anyway: the replacement comes with a new certificate.
                AmphoraRow.failover_requested == false(),
                or_(expiration.is_(None), expiration < horizon),
            )
            .order_by(expiration.asc().nulls_first(), AmphoraRow.id)
            .limit(self._batch)
        )
        with self._uow.transaction() as session:
            return [Due(*row) for row in session.execute(query)]

    async def _rotate(self, amphora: Due) -> bool:
        try:
            certificate = await asyncio.to_thread(self._d.ca.issue_amphora_certificate, amphora.id)
            not_after = await self._d.agent.update_certificate(
                amphora.agent_address, amphora.id, certificate
            )
        except AgentLacksRpc:
            return await asyncio.to_thread(self._replace, amphora)
        except Unavailable as err:
            log.warning(
                "amphora %s: certificate (expiring %s) not rotated, agent unreachable: %s; "
                "trying again next run",
                amphora.id,
                amphora.cert_expiration,
                err.operator_detail or err.user_message,
            )
            return False
        except DomainError as err:
            log.error(
                "amphora %s: the agent refused its new certificate: %s %s",
                amphora.id,
                err.user_message,
                err.operator_detail,
            )
            return False
        except Exception:
            log.exception("amphora %s: certificate rotation failed", amphora.id)
            return False
        await asyncio.to_thread(self._record, amphora, not_after)
        log.info("amphora %s: certificate rotated, valid until %s", amphora.id, not_after)
        return True

    def _record(self, amphora: Due, not_after: dt.datetime) -> None:
        with self._uow.transaction() as session:
            session.execute(
                _RECORD_EXPIRATION,
                {
                    "amphora_id": amphora.id,
                    "expected_compute_id": amphora.compute_id,
                    "not_after": not_after,
                },
            )

    def _replace(self, amphora: Due) -> bool:
        """An agent of a release without the RPC: the amphora is replaced as an automatic
        failover does it (a serving one gets a replacement with a fresh certificate, a spare is
        removed and the pool refilled)."""
        deps = Deps(network=self._d.network, queue=self._d.queue)
        with self._uow.transaction() as session:
            try:
                replaced = amphorae.failover_amphora(session, deps, amphora.id, automatic=True)
            except NotFound:
                return False  # deleted meanwhile
        if replaced:
            log.warning(
                "amphora %s: its agent cannot rotate certificates; replacing it", amphora.id
            )
        return replaced
