"""Creates the controller's shared state once, as compose's `init` service does before anything
else starts (the launcher, `make run`, does the same in its own run directory):

    python -m deploy.init [--run-dir DIR]    (default: $LBAAS_RUN_DIR)

- `internal-tls/`: the internal service CA and one certificate per service identity (mutual TLS
  between the services: services/common/internal_tls.py), and `operator`'s, for grpcurl;
- `ca/`: the amphora CA (the agents' certificates; the orchestrator issues from it);
- `heartbeat.keys`, `tokens.yaml` (an admin and a member token), `cert-encryption.key`.

What exists is kept: running it again changes nothing, so it is safe as a start-up step.
Prints the admin token on its last line.

`--internal-ca-key-dir DIR` keeps the internal service CA's key out of the run directory, which
every controller service mounts (compose: a volume only the init step mounts): the key is
brought in from DIR to issue what is missing and moved back there after, so no service can mint
another service's identity.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from deploy.local.stack import ensure_secrets, token_for
from services.common.internal_tls import ensure_internal_pki
from services.orchestrator.adapters.certificates_local import KeyBox
from services.orchestrator.adapters.pki import FileCertificateAuthority


def init(run_dir: Path, internal_ca_key_dir: Path | None = None) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    tokens = ensure_secrets(run_dir)
    internal = run_dir / "internal-tls"
    kept = internal_ca_key_dir / "ca.key" if internal_ca_key_dir else None
    if kept is not None and kept.exists():
        internal.mkdir(mode=0o700, exist_ok=True)
        shutil.copy2(kept, internal / "ca.key")
    ensure_internal_pki(internal)
    if kept is not None:
        # A copy then a rename: a crash between them leaves the key in both places, never in
        # neither (the next run moves it again).
        shutil.copy2(internal / "ca.key", kept.with_name(".ca.key.tmp"))
        os.replace(kept.with_name(".ca.key.tmp"), kept)
        (internal / "ca.key").unlink()
    FileCertificateAuthority(run_dir / "ca")
    KeyBox(run_dir / "cert-encryption.key").encrypt(b"")  # creates the key file when missing
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.init")
    parser.add_argument("--run-dir", default=os.environ.get("LBAAS_RUN_DIR", "./.run"))
    parser.add_argument(
        "--internal-ca-key-dir",
        type=Path,
        default=None,
        help="keep the internal service CA's key here, not in the run directory",
    )
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir).resolve()
    tokens = init(run_dir, args.internal_ca_key_dir)
    print(f"state in {run_dir}", file=sys.stderr)
    print(token_for(tokens, "admin"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
