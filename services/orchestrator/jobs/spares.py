"""The spare pool: ready amphorae (agent up, no config, status READY, no load balancer) kept per
backend, so that a create or a failover takes one instead of starting an agent.

A housekeeping chore: removes spares marked for removal (PENDING_DELETE: failed over, deleted by
an operator) or broken ones (ERROR), checks spares left BOOTING by a worker that died, and
starts what is missing. A reconcile pass takes a spare in its own transaction (`take`), with
SKIP LOCKED, so two passes never take the same one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from services.common.errors import DomainError, Unavailable
from services.orchestrator.adapters.db.engine import UnitOfWork
from services.orchestrator.adapters.db.models import AmphoraRow
from services.orchestrator.config import Settings
from services.orchestrator.domain.amphora_lifecycle import (
    BOOTING,
    ERROR,
    PENDING_DELETE,
    READY,
    can_move,
    move,
)
from services.orchestrator.domain.ports import AmphoraSpec, IssuedCertificate

log = logging.getLogger(__name__)

# After a spare failed to start, the next attempt for its backend waits this long (doubling up
# to the cap), so a broken image does not start agents in a loop.
_RETRY_FIRST, _RETRY_CAP = 2.0, 120.0

_SPARES = select(AmphoraRow).where(AmphoraRow.load_balancer_id.is_(None))


def take(
    session: Session, backend: str, lb_id: str, vip_address: str, compute_flavor: str = ""
) -> AmphoraRow | None:
    """A ready spare of `backend`, now the load balancer's (status BOOTING until its config is
    applied); None when the pool is empty. Locked with SKIP LOCKED in the caller's transaction.
    It becomes an amphora of `compute_flavor`: the sizes the local and netns drivers build are
    limits in the rendered config, so any spare can take any size (a driver whose sizes are
    machine flavors would keep a pool per size)."""
    spare = session.execute(
        _SPARES.where(AmphoraRow.status == READY, AmphoraRow.backend_type == backend)
        .order_by(AmphoraRow.created_at, AmphoraRow.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if spare is None:
        return None
    spare.load_balancer_id = lb_id
    spare.status = move(spare.status, BOOTING)
    spare.role = "STANDALONE"
    spare.vip_address = vip_address
    spare.compute_flavor = compute_flavor
    session.flush()
    log.info(
        "amphora %s taken from the %s spare pool for load balancer %s", spare.id, backend, lb_id
    )
    return spare


def _cert_expiration(cert_pem: bytes) -> dt.datetime | None:
    try:
        from cryptography import x509

        return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
    except Exception:  # a fake CA in tests may not issue a parseable certificate
        return None


class SparePool:
    def __init__(self, uow: UnitOfWork, drivers: Any, settings: Settings):
        self._uow = uow
        self._d = drivers
        self._settings = settings
        self._retry_at: dict[str, float] = {}
        self._retry_delay: dict[str, float] = {}
        self._mine: set[str] = set()  # spares this process is starting now

    async def run(self) -> dict[str, int]:
        """One round: remove, check, fill. Returns how many spares were started per backend."""
        await self._remove_doomed()
        await self._check_booting()
        started: dict[str, int] = {}
        for backend, wanted in self._settings.spare_pool.items():
            count = await self._fill(backend, wanted)
            if count:
                started[backend] = count
        return started

    # -- removal ------------------------------------------------------------------------------

    async def _remove_doomed(self) -> None:
        def doomed(session: Session) -> list[tuple[str, str]]:
            rows = session.execute(
                _SPARES.where(AmphoraRow.status.in_((PENDING_DELETE, ERROR)))
            ).scalars()
            return [(r.id, r.compute_id) for r in rows if r.id not in self._mine]

        for amphora_id, compute_id in await asyncio.to_thread(self._uow.run, doomed):
            try:
                await self._d.compute.delete_amphora(amphora_id, compute_id)
            except DomainError as err:
                log.warning("spare %s not deleted yet: %s", amphora_id, err.user_message)
                continue
            await asyncio.to_thread(self._delete_row, amphora_id)
            log.info("spare amphora %s removed", amphora_id)

    def _delete_row(self, amphora_id: str) -> None:
        with self._uow.transaction() as session:
            session.execute(
                delete(AmphoraRow).where(
                    AmphoraRow.id == amphora_id, AmphoraRow.load_balancer_id.is_(None)
                )
            )

    async def _check_booting(self) -> None:
        """Spares left BOOTING by a worker that died while starting them: ready if their agent
        answers, else removed (the next round starts new ones)."""

        def stuck(session: Session) -> list[AmphoraRow]:
            cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(
                seconds=self._settings.agent_wait_timeout
            )
            rows = session.execute(
                _SPARES.where(AmphoraRow.status == BOOTING, AmphoraRow.created_at < cutoff)
            ).scalars()
            return [r for r in rows if r.id not in self._mine]

        for row in await asyncio.to_thread(self._uow.run, stuck):
            ok = bool(row.compute_id) and await self._d.compute.is_alive(row.compute_id)
            if ok:
                try:
                    await self._d.agent.get_info(row.agent_address, row.id)
                except DomainError:
                    ok = False
            await asyncio.to_thread(self._set_status, row.id, READY if ok else ERROR, "")

    def _set_status(self, amphora_id: str, new: str, reason: str, **values: Any) -> None:
        with self._uow.transaction() as session:
            row = session.get(AmphoraRow, amphora_id, with_for_update=True)
            # A pass may have taken it meanwhile (it is no spare any more): leave it alone.
            if row is None or row.load_balancer_id is not None:
                return
            if can_move(row.status, new):
                row.status = new
            row.status_reason = reason
            for key, value in values.items():
                setattr(row, key, value)

    # -- filling ------------------------------------------------------------------------------

    async def _fill(self, backend: str, wanted: int) -> int:
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at.get(backend, 0.0):
            return 0

        def count(session: Session) -> int:
            return session.scalar(
                select(func.count())
                .select_from(AmphoraRow)
                .where(
                    AmphoraRow.load_balancer_id.is_(None),
                    AmphoraRow.backend_type == backend,
                    AmphoraRow.status.in_((READY, BOOTING)),
                )
            )

        missing = wanted - await asyncio.to_thread(self._uow.run, count)
        if missing <= 0:
            return 0
        results = await asyncio.gather(*(self._start(backend) for _ in range(missing)))
        if all(results):
            self._retry_delay.pop(backend, None)
        else:
            delay = min(_RETRY_CAP, self._retry_delay.get(backend, _RETRY_FIRST / 2) * 2)
            self._retry_delay[backend] = delay
            self._retry_at[backend] = loop.time() + delay
        return sum(results)

    def _record(self, backend: str) -> str:
        amphora_id = str(uuid.uuid4())
        with self._uow.transaction() as session:
            session.add(
                AmphoraRow(
                    id=amphora_id,
                    load_balancer_id=None,
                    status=BOOTING,
                    role="",
                    backend_type=backend,
                    compute_id="",
                    agent_address="",
                    vip_address="",
                    applied_config_hash="",
                )
            )
        return amphora_id

    async def _start(self, backend: str) -> bool:
        """Starts one spare; True when its agent answered and it is READY."""
        # The row first: a worker that dies after starting the agent leaves a findable record.
        amphora_id = await asyncio.to_thread(self._record, backend)
        self._mine.add(amphora_id)
        try:
            certificate: IssuedCertificate = await asyncio.to_thread(
                self._d.ca.issue_amphora_certificate, amphora_id
            )
            instance = await self._d.compute.create_amphora(
                AmphoraSpec(
                    amphora_id=amphora_id,
                    loadbalancer_id="",
                    backend_type=backend,
                    vip_address="",
                    certificate=certificate,
                )
            )
            host, _, port = instance.agent_address.rpartition(":")
            await asyncio.to_thread(
                self._set_status,
                amphora_id,
                BOOTING,
                "",
                compute_id=instance.compute_id,
                agent_address=instance.agent_address,
                agent_port=int(port),
                lb_network_ip=host,
                cert_expiration=_cert_expiration(certificate.cert_pem),
            )
            await self._wait_for_agent(instance.agent_address, amphora_id)
        except DomainError as err:
            log.warning("spare amphora %s (%s) did not start: %s", amphora_id, backend, err)
            await asyncio.to_thread(self._set_status, amphora_id, ERROR, err.user_message)
            return False
        except Exception as err:
            log.exception("spare amphora %s (%s) did not start", amphora_id, backend)
            await asyncio.to_thread(self._set_status, amphora_id, ERROR, repr(err))
            return False
        finally:
            self._mine.discard(amphora_id)
        await asyncio.to_thread(self._set_status, amphora_id, READY, "")
        log.info("spare amphora %s (%s) is ready", amphora_id, backend)
        return True

    async def _wait_for_agent(self, agent_address: str, amphora_id: str) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(Unavailable),
            stop=stop_after_delay(self._settings.agent_wait_timeout),
            wait=wait_exponential(multiplier=0.05, max=1.0),
            reraise=True,
        ):
            with attempt:
                await self._d.agent.get_info(agent_address, amphora_id)
