"""HealthStore: the health service's reads and writes in PostgreSQL (psycopg 3, async).

Every write of heartbeats is one statement (one round trip) for a whole batch: the rows of the
batch travel as arrays and are unnested into an upsert of amphora_health and one of
listener_statistics. A row only moves forward (a newer sequence of the same boot, or a newer
sent_at from a new boot), so replicas that receive the same heartbeats write each one once, and
statistics are only added for heartbeats that moved their amphora's row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool

from services.common.errors import Unavailable
from services.health.domain.batch import Beat
from services.health.domain.ports import (
    Counters,
    Fleet,
    HealthRow,
    ListenerTotals,
    ReplayState,
)

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"
# Advisory lock key of the health schema upgrade (the orchestrator's is 7355608).
_UPGRADE_LOCK = 7355610

# Errors that mean "the database is not there right now" (stopped, restarting, unreachable).
UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, TimeoutError)

# The batch travels as two JSON arrays of arrays (built by orjson; PostgreSQL parses them in C):
# about ten times cheaper for this process than psycopg adapting one Python list per column.
_WRITE = """
WITH beat AS (
    SELECT b->>0 AS amphora_id, (b->>1)::float8 AS sent_at, b->>2 AS boot_id,
           (b->>3)::int8 AS sequence, b->>4 AS config_hash, b->>5 AS renderer_version,
           decode(b->>6, 'hex') AS report
      FROM json_array_elements(%(beats)s::json) AS b
), moved AS (
    INSERT INTO amphora_health AS h (
        amphora_id, last_seen, sent_at, boot_id, sequence,
        applied_config_hash, applied_renderer_version, report)
    SELECT amphora_id, clock_timestamp(), to_timestamp(sent_at), boot_id, sequence,
           config_hash, renderer_version, report
      FROM beat
    ON CONFLICT (amphora_id) DO UPDATE SET
        last_seen = EXCLUDED.last_seen,
        sent_at = EXCLUDED.sent_at,
        boot_id = EXCLUDED.boot_id,
        sequence = EXCLUDED.sequence,
        applied_config_hash = EXCLUDED.applied_config_hash,
        applied_renderer_version = EXCLUDED.applied_renderer_version,
        report = EXCLUDED.report
    WHERE (h.boot_id = EXCLUDED.boot_id AND h.sequence < EXCLUDED.sequence)
       OR (h.boot_id <> EXCLUDED.boot_id AND h.sent_at < EXCLUDED.sent_at)
    RETURNING amphora_id
), listener AS (
    SELECT l->>0 AS listener_id, l->>1 AS amphora_id, l->>2 AS boot_id,
           (l->>3)::int8 AS active, (l->>4)::int8 AS bytes_in, (l->>5)::int8 AS bytes_out,
           (l->>6)::int8 AS request_errors, (l->>7)::int8 AS total, (l->>8)::int8 AS generation
      FROM json_array_elements(%(listeners)s::json) AS l
), counted AS (
    INSERT INTO listener_statistics AS s (
        listener_id, amphora_id, boot_id, generation, active_connections,
        bytes_in, bytes_out, request_errors, total_connections,
        reported_bytes_in, reported_bytes_out, reported_request_errors,
        reported_total_connections, updated_at)
    SELECT l.listener_id, l.amphora_id, l.boot_id, l.generation, l.active,
           l.bytes_in, l.bytes_out, l.request_errors, l.total,
           l.bytes_in, l.bytes_out, l.request_errors, l.total, clock_timestamp()
      FROM listener AS l
     WHERE l.amphora_id IN (SELECT amphora_id FROM moved)
    ON CONFLICT (listener_id, amphora_id) DO UPDATE SET
        bytes_in = s.bytes_in + CASE
            WHEN s.boot_id = EXCLUDED.boot_id AND s.generation = EXCLUDED.generation
             AND EXCLUDED.reported_bytes_in >= s.reported_bytes_in
            THEN EXCLUDED.reported_bytes_in - s.reported_bytes_in
            ELSE EXCLUDED.reported_bytes_in END,
        bytes_out = s.bytes_out + CASE
            WHEN s.boot_id = EXCLUDED.boot_id AND s.generation = EXCLUDED.generation
             AND EXCLUDED.reported_bytes_out >= s.reported_bytes_out
            THEN EXCLUDED.reported_bytes_out - s.reported_bytes_out
            ELSE EXCLUDED.reported_bytes_out END,
        request_errors = s.request_errors + CASE
            WHEN s.boot_id = EXCLUDED.boot_id AND s.generation = EXCLUDED.generation
             AND EXCLUDED.reported_request_errors >= s.reported_request_errors
            THEN EXCLUDED.reported_request_errors - s.reported_request_errors
            ELSE EXCLUDED.reported_request_errors END,
        total_connections = s.total_connections + CASE
            WHEN s.boot_id = EXCLUDED.boot_id AND s.generation = EXCLUDED.generation
             AND EXCLUDED.reported_total_connections >= s.reported_total_connections
            THEN EXCLUDED.reported_total_connections - s.reported_total_connections
            ELSE EXCLUDED.reported_total_connections END,
        reported_bytes_in = EXCLUDED.reported_bytes_in,
        reported_bytes_out = EXCLUDED.reported_bytes_out,
        reported_request_errors = EXCLUDED.reported_request_errors,
        reported_total_connections = EXCLUDED.reported_total_connections,
        active_connections = EXCLUDED.active_connections,
        boot_id = EXCLUDED.boot_id,
        generation = EXCLUDED.generation,
        updated_at = EXCLUDED.updated_at
    RETURNING 1
), gone AS (
    DELETE FROM amphora_health
     WHERE amphora_id IN (SELECT json_array_elements_text(%(gone)s::json))
    RETURNING 1
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM counted), (SELECT count(*) FROM gone)
"""

_ROW = """
SELECT amphora_id, extract(epoch FROM last_seen)::float8, sequence, applied_config_hash,
       last_seen < clock_timestamp() - make_interval(secs => %(stale)s), boot_id,
       applied_renderer_version
  FROM amphora_health
"""

_FLEET = """
SELECT count(*),
       coalesce(array_agg(amphora_id ORDER BY last_seen)
                FILTER (WHERE last_seen < clock_timestamp() - make_interval(secs => %(stale)s)),
                '{}'),
       count(*) FILTER (WHERE last_seen < clock_timestamp() - make_interval(secs => %(suspect)s))
  FROM amphora_health
"""

_LISTENER_STATS = """
SELECT listener_id,
       coalesce(sum(active_connections) FILTER (
           WHERE updated_at >= clock_timestamp() - make_interval(secs => %(stale)s)), 0)::int8,
       sum(bytes_in)::int8, sum(bytes_out)::int8, sum(request_errors)::int8,
       sum(total_connections)::int8, count(*), min(amphora_id)
  FROM listener_statistics
 WHERE listener_id = ANY(%(ids)s::text[])
 GROUP BY listener_id
"""

_AMPHORA_STATS = """
SELECT listener_id,
       CASE WHEN updated_at >= clock_timestamp() - make_interval(secs => %(stale)s)
            THEN active_connections ELSE 0 END,
       bytes_in, bytes_out, request_errors, total_connections
  FROM listener_statistics
 WHERE amphora_id = %(amphora_id)s
 ORDER BY listener_id
"""


@dataclass(frozen=True)
class WriteResult:
    amphorae: int  # rows that moved forward
    listeners: int  # statistics rows written
    gone: int = 0  # rows of amphorae that left


def _documents(beats: Sequence[Beat], gone: Sequence[str]) -> dict[str, str]:
    rows = []
    listeners = []
    for beat in beats:
        rows.append(
            (
                beat.amphora_id,
                beat.sent_at,
                beat.boot_id,
                beat.sequence,
                beat.config_hash,
                beat.renderer_version,
                beat.report.hex(),
            )
        )
        for counters in beat.listeners:
            listeners.append(
                (counters[0], beat.amphora_id, beat.boot_id, *counters[1:], beat.generation)
            )
    return {
        "beats": orjson.dumps(rows).decode(),
        "listeners": orjson.dumps(listeners).decode(),
        "gone": orjson.dumps(list(gone)).decode(),
    }


class PostgresHealthStore:
    """domain.ports.HealthStore in PostgreSQL. Raises Unavailable when the database cannot be
    reached within `timeout`."""

    def __init__(self, database_url: str, *, timeout: float = 3.0, max_connections: int = 4):
        self._url = database_url
        self._timeout = timeout
        self._pool = AsyncConnectionPool(
            database_url,
            min_size=1,
            max_size=max_connections,
            open=False,
            timeout=timeout,
            # A stopped database must not be waited for: the writer keeps its batch and tries
            # again, the stale check holds failovers off.
            reconnect_timeout=0,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(timeout))},
            check=AsyncConnectionPool.check_connection,
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def upgrade(self) -> None:
        """Creates or upgrades the health tables (Alembic, own version table), under an advisory
        lock so replicas starting together do not race."""
        await asyncio.to_thread(upgrade_to_head, self._url)

    async def _fetch(self, query: str, params: dict) -> list[tuple]:
        try:
            async with self._pool.connection(timeout=self._timeout) as conn:
                cur = await asyncio.wait_for(conn.execute(query, params), self._timeout)
                return await cur.fetchall()
        except UNAVAILABLE as err:
            raise Unavailable(
                "The health database is unavailable.",
                operator_detail=f"{type(err).__name__}: {err}",
            ) from err

    async def write(self, beats: Sequence[Beat], gone: Sequence[str] = ()) -> WriteResult:
        if not beats and not gone:
            return WriteResult(0, 0)
        rows = await self._fetch(_WRITE, _documents(beats, gone))
        moved, counted, removed = rows[0]
        return WriteResult(int(moved), int(counted), int(removed))

    async def replay_state(self) -> list[ReplayState]:
        rows = await self._fetch(
            "SELECT amphora_id, boot_id, sequence, extract(epoch FROM sent_at)::float8 "
            "FROM amphora_health",
            {},
        )
        return [ReplayState(a, b, int(s), float(t)) for a, b, s, t in rows]

    async def fleet(self, stale_after: float, suspect_after: float = 0.0) -> Fleet:
        suspect_after = suspect_after or stale_after
        rows = await self._fetch(_FLEET, {"stale": stale_after, "suspect": suspect_after})
        total, stale, suspect = rows[0]
        return Fleet(int(total), tuple(stale or ()), int(suspect))

    async def forget(self, amphora_id: str) -> None:
        """Removes an amphora's health row (it no longer exists); its statistics stay."""
        await self._fetch(
            "DELETE FROM amphora_health WHERE amphora_id = %(id)s RETURNING 1", {"id": amphora_id}
        )

    async def get(self, amphora_id: str, stale_after: float) -> HealthRow | None:
        rows = await self._fetch(
            _ROW + " WHERE amphora_id = %(id)s", {"id": amphora_id, "stale": stale_after}
        )
        return _health_row(rows[0]) if rows else None

    async def all(self, stale_after: float) -> list[HealthRow]:
        rows = await self._fetch(_ROW + " ORDER BY amphora_id", {"stale": stale_after})
        return [_health_row(r) for r in rows]

    async def listener_totals(
        self, listener_ids: Sequence[str], stale_after: float
    ) -> dict[str, ListenerTotals]:
        rows = await self._fetch(_LISTENER_STATS, {"ids": list(listener_ids), "stale": stale_after})
        return {
            r[0]: ListenerTotals(r[0], (r[1], r[2], r[3], r[4], r[5]), int(r[6]), r[7])
            for r in rows
        }

    async def amphora_totals(
        self, amphora_id: str, stale_after: float
    ) -> list[tuple[str, Counters]]:
        rows = await self._fetch(_AMPHORA_STATS, {"amphora_id": amphora_id, "stale": stale_after})
        return [(r[0], (r[1], r[2], r[3], r[4], r[5])) for r in rows]


def _health_row(r: tuple) -> HealthRow:
    return HealthRow(
        amphora_id=r[0],
        last_seen=float(r[1]),
        last_sequence=int(r[2]),
        applied_config_hash=r[3],
        stale=bool(r[4]),
        boot_id=r[5],
        applied_renderer_version=r[6],
    )


def upgrade_to_head(database_url: str) -> None:
    """Alembic `upgrade head` of the health history, under an advisory lock."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    url = database_url
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    cfg = Config(str(_MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_UPGRADE_LOCK})")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
