"""python -m deploy.init: the shared state made once, and the internal CA key kept apart."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deploy.init import init
from services.common.internal_tls import IDENTITIES


def test_init_makes_everything_once_and_keeps_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    init(run)
    made = {p.relative_to(run).as_posix(): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    for name in ("heartbeat.keys", "tokens.yaml", "cert-encryption.key", "ca/ca.crt"):
        assert name in made, name
    for identity in IDENTITIES:
        assert f"internal-tls/{identity}.crt" in made and f"internal-tls/{identity}.key" in made
    init(run)
    again = {p.relative_to(run).as_posix(): p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert again == made


def test_the_internal_ca_key_can_live_outside_the_run_directory(tmp_path: Path) -> None:
    run, keep = tmp_path / "run", tmp_path / "ca-key"
    keep.mkdir()
    init(run, keep)
    internal = run / "internal-tls"
    assert not (internal / "ca.key").exists()
    assert (keep / "ca.key").stat().st_mode & 0o077 == 0
    key = (keep / "ca.key").read_bytes()
    # A missing identity is issued again, by the same CA, whose key goes back where it was.
    (internal / "renderer.crt").unlink()
    init(run, keep)
    assert (internal / "renderer.crt").exists() and not (internal / "ca.key").exists()
    assert (keep / "ca.key").read_bytes() == key
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", internal / "ca.crt", internal / "renderer.crt"],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
