"""Plain-Python domain of the orchestrator: models, rules, ports."""
