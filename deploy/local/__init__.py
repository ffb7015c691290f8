"""Local development and test deployment: one process supervisor for the whole stack."""
