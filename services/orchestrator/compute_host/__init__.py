"""The compute host: runs amphorae (the `local` compute driver) for every orchestrator worker."""
