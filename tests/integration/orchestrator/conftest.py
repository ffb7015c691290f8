"""Fixtures of the orchestrator integration tests (PostgreSQL: tests/integration/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers beside this file (orch_fakes, orch_harness) are imported by plain name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"
