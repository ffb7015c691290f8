"""Cross-cutting infrastructure shared by the controller services (never by the amphora agent)."""
