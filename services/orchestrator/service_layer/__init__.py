"""Use cases of the orchestrator API: each runs inside one database transaction."""
