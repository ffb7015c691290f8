"""Engine, sessions and schema upgrade of the orchestrator database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

_MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(sqlalchemy_url: str, pool_size: int = 10) -> Engine:
    return create_engine(sqlalchemy_url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


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
