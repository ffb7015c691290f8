"""A count of committed changes, so that a list answered earlier can be reused while nothing has
changed (ListLoadBalancers' etag).

Every session of the unit of work that writes (a flush, or an INSERT / UPDATE / DELETE statement)
bumps the count in this process after its commit, before the caller gets its answer: a client
that made a change and then lists sees it. In the database, triggers on the load balancer,
listener and pool tables (migration 0008) send `NOTIFY lbaas_changes`, which PostgreSQL delivers
at commit; `listen()` bumps the count on every notification, so changes committed by another
orchestrator replica (or by hand) invalidate this one's answers too, a notification's latency
later. Etags are handed out only while that listener is connected (after a reconnect the count is
bumped once, for what may have been missed).

An etag names (this process's boot id, the count read *before* the list's transaction began):
data read after that point is at least as new, so the etag can only be conservative.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid

import psycopg
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

log = logging.getLogger(__name__)

CHANNEL = "lbaas_changes"
_WROTE = "lbaas_changes_wrote"


class ChangeFeed:
    def __init__(self) -> None:
        self.boot = uuid.uuid4().hex[:12]
        self.generation = 0
        # True while the notification listener is connected; no etag is handed out otherwise.
        self.listening = False
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.generation += 1

    def current_etag(self) -> str:
        """The etag of what a read starting now will see, or "" when answers may not be kept."""
        if not self.listening:
            return ""
        return f"{self.boot}.{self.generation}"

    # -- the write side ------------------------------------------------------------------------

    def install(self, sessions: sessionmaker) -> None:
        """Marks sessions that write, notifies in their transaction and bumps after commit."""

        @event.listens_for(sessions, "after_flush")
        def _flushed(session: Session, _context: object) -> None:
            session.info[_WROTE] = True

        @event.listens_for(sessions, "do_orm_execute")
        def _executed(state: ORMExecuteState) -> None:
            if state.is_insert or state.is_update or state.is_delete:
                state.session.info[_WROTE] = True

        @event.listens_for(sessions, "before_commit")
        def _pending(session: Session) -> None:
            # before_commit runs before the commit's own flush: pending changes count too.
            if session.new or session.dirty or session.deleted:
                session.info[_WROTE] = True

        @event.listens_for(sessions, "after_commit")
        def _committed(session: Session) -> None:
            if session.info.pop(_WROTE, False):
                self.bump()

        @event.listens_for(sessions, "after_transaction_end")
        def _ended(session: Session, transaction: SessionTransaction) -> None:
            # Only the outermost transaction: a savepoint rolled back (a queueing-lock conflict,
            # for one) leaves the writes around it in place.
            if transaction.parent is None:
                session.info.pop(_WROTE, None)

    # -- other replicas' changes ---------------------------------------------------------------

    async def listen(self, database_url: str, *, retry_delay: float = 1.0) -> None:
        """Runs until cancelled: LISTEN on CHANNEL and bump on every notification."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    database_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.bump()  # whatever was committed while nobody listened
                    self.listening = True
                    async for _ in conn.notifies():
                        self.bump()
            except asyncio.CancelledError:
                self.listening = False
                raise
            except Exception as err:  # connection lost: stop handing out etags, then retry
                log.warning("change notifications interrupted (%s); retrying", err)
            self.listening = False
            self.bump()
            await asyncio.sleep(retry_delay)
