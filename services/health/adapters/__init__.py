"""Adapters of the health service: UDP receiver, orchestrator client, key file."""
