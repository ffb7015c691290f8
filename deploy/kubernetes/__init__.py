"""Kubernetes manifests (kustomization.yaml) and the Secrets they need (make_secrets.py)."""
