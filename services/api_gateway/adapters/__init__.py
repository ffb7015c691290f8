"""Adapters the gateway talks through: the orchestrator client (gRPC) and an in-memory stand-in."""
