"""The API gateway: Octavia v2 REST API and a Neutron-shaped network view, over the orchestrator."""
