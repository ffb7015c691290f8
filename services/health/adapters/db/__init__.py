"""The health service's tables in PostgreSQL (its own Alembic history) and the queries on them."""
