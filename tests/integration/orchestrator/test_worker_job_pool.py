"""The worker's job pool (jobs/worker.job_pool) against real PostgreSQL: autocommit, so a job query
is one round trip with no COMMIT after it; a connection is pinged only after sitting idle past
the window, and a dead idle one is replaced before use."""

from __future__ import annotations

import asyncio

import psycopg
import psycopg_pool

from services.orchestrator.jobs import worker


async def _pid(pool: psycopg_pool.AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        pid = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0]
        # autocommit: the statement is its own transaction, nothing is left open to commit
        assert conn.autocommit
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        return pid


def _counting_checks(monkeypatch) -> list[int]:
    checks: list[int] = []
    real = psycopg_pool.AsyncConnectionPool.check_connection

    async def counted(conn):
        checks.append(1)
        await real(conn)

    monkeypatch.setattr(psycopg_pool.AsyncConnectionPool, "check_connection", counted)
    return checks


def test_no_ping_within_the_window_and_one_after_it(database_url, monkeypatch):
    checks = _counting_checks(monkeypatch)

    async def main() -> None:
        pool = worker.job_pool(
            conninfo=database_url, min_size=1, max_size=1, open=False, idle_ping_after=0.3
        )
        await pool.open(wait=True)
        try:
            first = await _pid(pool)  # a new connection: pinged once (never returned before)
            assert len(checks) == 1
            for _ in range(5):
                assert await _pid(pool) == first
            assert len(checks) == 1  # busy: no ping, no extra round trip
            await asyncio.sleep(0.4)
            assert await _pid(pool) == first
            assert len(checks) == 2  # idle past the window: pinged once
        finally:
            await pool.close()

    asyncio.run(main())


def test_a_dead_idle_connection_is_replaced_before_use(database_url):
    async def main() -> None:
        pool = worker.job_pool(
            conninfo=database_url, min_size=1, max_size=1, open=False, idle_ping_after=0.3
        )
        await pool.open(wait=True)
        try:
            first = await _pid(pool)
            with psycopg.connect(database_url, autocommit=True) as admin:
                assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone()[0]
            await asyncio.sleep(0.4)  # idle past the window: pinged, found dead, replaced
            assert await _pid(pool) != first
        finally:
            await pool.close()

    asyncio.run(main())
