"""Creates the controller's shared state once, as compose's `init` service does before anything
else starts (the launcher, `make run`, does the same in its own run directory):

    python -m deploy.init [--run-dir DIR]    (default: $LBAAS_RUN_DIR)

- `internal-tls/`: the internal service CA and one certificate per service identity (mutual TLS
  between the services: services/common/internal_tls.py), and `operator`'s, for grpcurl;
- `ca/`: the amphora CA (the agents' certificates; the orchestrator issues from it);
- `heartbeat.keys`, `tokens.yaml` (an admin and a member token), `cert-encryption.key`.

What exists is kept: running it again changes nothing, so it is safe as a start-up step.
Prints the admin token on its last line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from deploy.local.stack import ensure_secrets, token_for
from services.common.internal_tls import ensure_internal_pki
from services.orchestrator.adapters.certificates_local import KeyBox
from services.orchestrator.adapters.pki import FileCertificateAuthority


def init(run_dir: Path) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    tokens = ensure_secrets(run_dir)
    ensure_internal_pki(run_dir / "internal-tls")
    FileCertificateAuthority(run_dir / "ca")
    KeyBox(run_dir / "cert-encryption.key").encrypt(b"")  # creates the key file when missing
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.init")
    parser.add_argument("--run-dir", default=os.environ.get("LBAAS_RUN_DIR", "./.run"))
    args = parser.parse_args(argv)
    run_dir = Path(args.run_dir).resolve()
    tokens = init(run_dir)
    print(f"state in {run_dir}", file=sys.stderr)
    print(token_for(tokens, "admin"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
