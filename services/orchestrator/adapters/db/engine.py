"""Engine, sessions and schema upgrade of the orchestrator database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

_MIGRATIONS = Path(__file__).parent / "migrations"
# A pooled connection idle for longer than this is pinged before it is handed out.
IDLE_PING_AFTER = 5.0
_IDLE_SINCE = "lbaas_idle_since"
T = TypeVar("T")


def make_engine(
    sqlalchemy_url: str, pool_size: int = 10, *, idle_ping_after: float = IDLE_PING_AFTER
) -> Engine:
    """A pooled engine that pings only connections that sat idle in the pool for longer than
    idle_ping_after seconds (pool_pre_ping pings on every checkout: one more round trip per
    transaction, three per reconcile pass). A dead idle connection is replaced before use; one
    that died within the window (a database restart right after it was last used) fails its
    transaction once, which the pool answers by replacing every connection older than it."""
    # Many rows go in with psycopg's executemany (one prepared INSERT, its executions pipelined),
    # not SQLAlchemy's "insertmanyvalues" (one INSERT of every row's parameters, whose text
    # psycopg converts anew each time: half the time of a 1,000-member batch update).
    engine = create_engine(
        sqlalchemy_url, pool_size=pool_size, max_overflow=10, use_insertmanyvalues=False
    )

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle_ping_after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:
            # The pool discards this connection and checks out another (SQLAlchemy's
            # documented contract for DisconnectionError raised by a checkout listener).
            raise exc.DisconnectionError(f"idle connection is gone: {err}") from err

    return engine


def upgrade_to_head(engine: Engine) -> None:
    """Runs Alembic `upgrade head`; an advisory lock keeps concurrent replicas from racing."""
    cfg = Config(str(_MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7355608)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class UnitOfWork:
    """Opens one transaction per `with uow.transaction() as session:` block."""

    def __init__(self, engine: Engine, session_info: dict[str, Any] | None = None):
        self.engine = engine
        # session_info: read-only settings every use case may need (Session.info), for example
        # the quota defaults that quotas.reserve() reads.
        self._sessions = sessionmaker(engine, expire_on_commit=False, info=session_info or {})

    @property
    def sessions(self) -> sessionmaker:
        return self._sessions

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session whose statements run without a transaction (no BEGIN, no COMMIT: a round
        trip each), for reads that need no more consistency than each statement's own snapshot
        (READ COMMITTED gives no more inside a transaction). Nothing written through it is
        rolled back. The driver's autocommit is switched on and off directly: SQLAlchemy's
        AUTOCOMMIT isolation level would restore the level with a statement of its own."""
        with self.engine.connect() as conn:
            driver = conn.connection.dbapi_connection
            driver.autocommit = True
            try:
                with self._sessions(bind=conn) as session:
                    yield session
            finally:
                if not conn.invalidated:
                    driver.autocommit = False

    def run(self, work: Callable[[Session], T]) -> T:
        """work(session) in one transaction. When a statement of work finds its pooled connection
        dead (a database restart; see make_engine) nothing was committed, so work runs once more
        on a fresh connection. A failure at commit is not retried: it may have committed."""
        for attempt in (1, 2):
            try:
                with self.transaction() as session:
                    try:
                        return work(session)
                    except exc.DBAPIError as err:
                        if attempt == 1 and err.connection_invalidated:
                            raise _StaleConnection from err
                        raise
            except _StaleConnection:
                continue
        raise AssertionError("unreachable")


class _StaleConnection(Exception):
    pass
