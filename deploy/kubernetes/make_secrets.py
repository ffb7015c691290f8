"""The controller's Secrets for Kubernetes: the amphora CA, the services' mutual-TLS certificates,
the heartbeat keys, the API tokens and the key that encrypts stored certificate keys. Fresh
material, in the formats the services read.

    python -m deploy.kubernetes.make_secrets [--namespace lbaas] | kubectl create -f -
        prints the Secrets as YAML (`kubectl create` refuses to replace existing ones: never
        `apply` this over Secrets in use, a new CA or encryption key breaks what exists)
    python -m deploy.kubernetes.make_secrets --apply [--namespace lbaas]
        what the Job in secrets-job.yaml runs: creates, through the API server, each Secret that
        does not exist yet, and keeps those that do (whoever created them)
    --only NAME (repeatable): only these Secrets
    --internal-tls-dir DIR: the service CA and certificates of lbaas-internal-tls are made in (or
        taken from) DIR, which keeps the CA key; by default they are made in a temporary
        directory and the CA key is thrown away

The Secret lbaas-internal-tls never holds the service CA's key: the pods need only ca.crt and
their own identity's certificate and key, and a key in a Secret is a key in etcd. So, to issue a
certificate later (one expired, or a key leaked), either
- keep the CA key offline: make the Secret with `--internal-tls-dir DIR --only lbaas-internal-tls`
  and keep DIR (ca.key) off the cluster; to re-issue an identity, delete its .crt/.key in DIR, run
  the same command piped into `kubectl replace -f -`, and restart the Deployments using it; or
- generate again: delete the Secret, run the Job again (or this), and restart every Deployment
  (a new CA: pods of the old and the new one cannot call each other until the rollout ends).

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
from collections.abc import Callable, Collection
from pathlib import Path

import yaml

from services.common.internal_tls import IDENTITIES, ensure_internal_pki

# Secret name -> its keys (file names in the pods). tests/unit/deploy checks that the manifests
# reference exactly these and the operator's lbaas-database.
SECRETS: dict[str, tuple[str, ...]] = {
    "lbaas-ca": ("ca.crt", "ca.key"),
    "lbaas-heartbeat": ("heartbeat.keys",),
    "lbaas-tokens": ("tokens.yaml",),
    "lbaas-cert-encryption": ("cert-encryption.key",),
    # The service CA's certificate and each identity's pair: no ca.key (see the docstring). Each
    # pod mounts ca.crt and its own identity's two files only.
    "lbaas-internal-tls": (
        "ca.crt",
        *(f"{identity}.{ext}" for identity in IDENTITIES for ext in ("crt", "key")),
    ),
}
# Provided by the operator: Secret name -> keys.
OPERATOR_SECRETS: dict[str, tuple[str, ...]] = {"lbaas-database": ("DATABASE_URL",)}
LABELS = {"app.kubernetes.io/part-of": "lbaas"}

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def ca_files() -> dict[str, bytes]:
    """A new amphora CA (the agents' certificates: not the service CA of lbaas-internal-tls),
    made by the orchestrator's own code (as it would make one on first use)."""
    from services.orchestrator.adapters.pki import FileCertificateAuthority

    with tempfile.TemporaryDirectory() as tmp:
        ca_dir = Path(tmp) / "ca"
        FileCertificateAuthority(ca_dir)
        return {name: (ca_dir / name).read_bytes() for name in SECRETS["lbaas-ca"]}


def internal_tls_files(directory: Path | None = None) -> dict[str, bytes]:
    """The service CA's certificate and every identity's certificate and key, made by the services'
    own code (ensure_internal_pki) in directory (keeping what is there) or in a temporary one.
    The CA key stays in directory, or is thrown away with the temporary one."""
    if directory is not None:
        ensure_internal_pki(directory)
        return {name: (directory / name).read_bytes() for name in SECRETS["lbaas-internal-tls"]}
    with tempfile.TemporaryDirectory() as tmp:
        return internal_tls_files(Path(tmp) / "internal-tls")


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


def build(
    namespace: str,
    only: Collection[str] | None = None,
    internal_tls_dir: Path | None = None,
) -> list[dict]:
    """The Secret objects (all of SECRETS, or those named in only), with fresh material (the
    internal TLS files from internal_tls_dir when given)."""
    unknown = set(only or ()) - set(SECRETS)
    if unknown:
        raise ValueError(f"no such Secret: {sorted(unknown)} (they are {sorted(SECRETS)})")
    make: dict[str, Callable[[], dict[str, bytes]]] = {
        "lbaas-ca": ca_files,
        "lbaas-heartbeat": lambda: {"heartbeat.keys": heartbeat_keys()},
        "lbaas-tokens": lambda: {"tokens.yaml": tokens_file()},
        "lbaas-cert-encryption": lambda: {"cert-encryption.key": cert_encryption_key()},
        "lbaas-internal-tls": lambda: internal_tls_files(internal_tls_dir),
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(LABELS)},
            "type": "Opaque",
            "data": {k: base64.b64encode(v).decode() for k, v in make[name]().items()},
        }
        for name in SECRETS
        if only is None or name in only
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
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SECRETS),
        metavar="SECRET",
        help=f"only this Secret (repeatable): {', '.join(SECRETS)}",
    )
    parser.add_argument(
        "--internal-tls-dir",
        type=Path,
        metavar="DIR",
        help="make lbaas-internal-tls in (or from) this directory, which keeps the service CA key "
        "(default: a temporary directory; the CA key is thrown away)",
    )
    args = parser.parse_args(argv)
    objects = build(args.namespace, args.only, args.internal_tls_dir)
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
