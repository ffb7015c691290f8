"""Alembic migrations of the orchestrator database."""
