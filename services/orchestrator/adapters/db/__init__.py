"""PostgreSQL persistence of the orchestrator: tables, migrations, engine and sessions."""
