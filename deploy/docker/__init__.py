"""Container images and compose (deploy/README.md)."""
