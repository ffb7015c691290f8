"""The controller's Secrets for Kubernetes: the internal CA, the heartbeat keys, the API tokens and
the key that encrypts stored certificate keys. Fresh material, in the formats the services read.

    python -m deploy.kubernetes.make_secrets [--namespace lbaas] | kubectl create -f -
        prints the Secrets as YAML (`kubectl create` refuses to replace existing ones: never
        `apply` this over Secrets in use, a new CA or encryption key breaks what exists)
    python -m deploy.kubernetes.make_secrets --apply [--namespace lbaas]
        what the Job in secrets-job.yaml runs: creates, through the API server, each Secret that
        does not exist yet, and keeps those that do (whoever created them)

The database URL is not made here: the operator provides it (the Secret lbaas-database).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import ssl
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

# Secret name -> its keys (file names in the pods). tests/unit/deploy checks that the manifests
# reference exactly these and the operator's lbaas-database.
SECRETS: dict[str, tuple[str, ...]] = {
    "lbaas-ca": ("ca.crt", "ca.key"),
    "lbaas-heartbeat": ("heartbeat.keys",),
    "lbaas-tokens": ("tokens.yaml",),
    "lbaas-cert-encryption": ("cert-encryption.key",),
}
# Provided by the operator: Secret name -> keys.
OPERATOR_SECRETS: dict[str, tuple[str, ...]] = {"lbaas-database": ("DATABASE_URL",)}
LABELS = {"app.kubernetes.io/part-of": "lbaas"}

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def ca_files() -> dict[str, bytes]:
    """A new internal CA, made by the orchestrator's own code (as it would make one on first use)."""
    from services.orchestrator.adapters.pki import FileCertificateAuthority

    with tempfile.TemporaryDirectory() as tmp:
        ca_dir = Path(tmp) / "ca"
        FileCertificateAuthority(ca_dir)
        return {name: (ca_dir / name).read_bytes() for name in SECRETS["lbaas-ca"]}


def heartbeat_keys() -> bytes:
    """One key, `<key_id> <hex key>` (the launcher's format; the first line signs)."""
    return f"k1 {secrets.token_hex(32)}\n".encode()


def tokens_file() -> bytes:
    """One admin token of the project `admin` (as the launcher names it). Add tokens by editing
    the Secret, or use LBAAS_AUTH_STRATEGY=keystone."""
    from deploy.local.stack import project_id

    tokens = {
        "tokens": {
            secrets.token_hex(32): {
                "project_id": project_id("admin"),
                "project_name": "admin",
                "roles": ["admin"],
            }
        }
    }
    return yaml.safe_dump(tokens).encode()


def cert_encryption_key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key() + b"\n"


def build(namespace: str) -> list[dict]:
    """The Secret objects, with fresh material."""
    contents = {
        "lbaas-ca": ca_files(),
        "lbaas-heartbeat": {"heartbeat.keys": heartbeat_keys()},
        "lbaas-tokens": {"tokens.yaml": tokens_file()},
        "lbaas-cert-encryption": {"cert-encryption.key": cert_encryption_key()},
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(LABELS)},
            "type": "Opaque",
            "data": {k: base64.b64encode(v).decode() for k, v in contents[name].items()},
        }
        for name in SECRETS
    ]


def in_cluster() -> tuple[str, str, ssl.SSLContext]:
    """The API server's URL, this pod's service account token and a context trusting the
    cluster's CA."""
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    token = (SERVICE_ACCOUNT / "token").read_text().strip()
    context = ssl.create_default_context(cafile=str(SERVICE_ACCOUNT / "ca.crt"))
    return f"https://{host}:{port}", token, context


def apply(
    objects: list[dict],
    api_url: str,
    token: str,
    context: ssl.SSLContext | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, str]:
    """Creates each Secret that does not exist (POST; 409 means it exists and is kept, never
    replaced). Returns name -> "created" or "kept"; any other answer raises."""
    outcome = {}
    for obj in objects:
        name, namespace = obj["metadata"]["name"], obj["metadata"]["namespace"]
        request = urllib.request.Request(
            f"{api_url}/api/v1/namespaces/{namespace}/secrets",
            data=json.dumps(obj).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as resp:
                resp.read()
            outcome[name] = "created"
        except urllib.error.HTTPError as err:
            if err.code != 409:
                raise RuntimeError(
                    f"creating Secret {namespace}/{name}: HTTP {err.code}: "
                    f"{err.read()[:500].decode(errors='replace')}"
                ) from None
            outcome[name] = "kept"
        log(f"Secret {namespace}/{name}: {outcome[name]}")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.kubernetes.make_secrets")
    parser.add_argument(
        "--namespace", default=os.environ.get("POD_NAMESPACE") or "lbaas", help="default: lbaas"
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="create the missing Secrets through the API server (in a pod, as the Job does)",
    )
    args = parser.parse_args(argv)
    objects = build(args.namespace)
    if not args.apply:
        yaml.safe_dump_all(objects, sys.stdout, sort_keys=False)
        return 0
    api_url, token, context = in_cluster()
    try:
        apply(objects, api_url, token, context)
    except (RuntimeError, OSError) as err:
        print(f"make_secrets: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
