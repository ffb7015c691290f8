"""Deployment artefacts and the local stack launcher."""
