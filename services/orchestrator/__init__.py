"""The orchestrator: owner of desired state, driver of reconcile jobs."""
