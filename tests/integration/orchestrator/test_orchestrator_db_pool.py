"""The engine's pool against real PostgreSQL: only idle connections are pinged, a dead idle one is
replaced before use, a connection killed while busy costs one failed transaction, and
UnitOfWork.run runs that transaction again on a fresh connection."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import exc, text

from services.orchestrator.adapters.db.engine import UnitOfWork, make_engine
from services.orchestrator.config import sqlalchemy_url


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _kill(database_url: str, pid: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    time.sleep(0.2)  # the backend is gone before the pool hands its connection out again


def test_a_dead_idle_connection_is_replaced_before_use(database_url):
    engine = make_engine(sqlalchemy_url(database_url), pool_size=1, idle_ping_after=0.3)
    try:
        first = _backend_pid(engine)
        _kill(database_url, first)
        time.sleep(0.3)  # idle past the window: pinged at checkout, found dead, replaced
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_a_busy_connection_is_not_pinged_and_a_dead_one_fails_once(database_url):
    """Within the window nothing is pinged (no extra round trip on a busy pool): a connection
    killed in it fails the next transaction, and the one after gets a new connection."""
    engine = make_engine(sqlalchemy_url(database_url), pool_size=1, idle_ping_after=3600)
    try:
        first = _backend_pid(engine)
        _kill(database_url, first)
        with pytest.raises(exc.OperationalError) as failed:
            _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_unit_of_work_runs_work_again_when_its_connection_was_dead(database_url):
    engine = make_engine(sqlalchemy_url(database_url), pool_size=1, idle_ping_after=3600)
    try:
        first = _backend_pid(engine)
        _kill(database_url, first)
        calls = []

        def work(session):
            calls.append(1)
            return session.execute(text("SELECT pg_backend_pid()")).scalar_one()

        assert UnitOfWork(engine).run(work) != first
        assert len(calls) == 2  # the first attempt met the dead connection; nothing committed
    finally:
        engine.dispose()
