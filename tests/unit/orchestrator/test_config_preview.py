"""The config preview's plain data: private keys never shown, and a unified diff from the
applied files to the rendered ones."""

from __future__ import annotations

from services.orchestrator.domain import config_preview

KEY = b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
CFG = b"global\n    maxconn 100\n\nfrontend f\n    bind 127.0.0.1:80\n"


def test_files_holding_a_private_key_are_redacted():
    shown = config_preview.shown(
        [
            ("haproxy.cfg", CFG, 0o644),
            ("certs/a.pem", b"-----BEGIN CERTIFICATE-----\n" + KEY, 0o600),
        ]
    )
    assert [f.path for f in shown] == ["certs/a.pem", "haproxy.cfg"]
    pem, cfg = shown
    assert pem.redacted and pem.content == "" and len(pem.sha256) == 64 and pem.mode == 0o600
    assert not cfg.redacted and cfg.content == CFG.decode()


def test_diff_is_unified_per_file_and_never_shows_a_key():
    applied = [
        ("haproxy.cfg", CFG, 0o644),
        ("certs/a.pem", KEY, 0o600),
        ("gone.lua", b"x\n", 0o644),
    ]
    rendered = [
        ("haproxy.cfg", CFG.replace(b"maxconn 100", b"maxconn 200"), 0o640),
        ("certs/a.pem", KEY.replace(b"MIIB", b"MIIC"), 0o600),
        ("new.map", b"a b\n", 0o644),
    ]
    diff = config_preview.diff(applied, rendered)
    assert "Files a/certs/a.pem and b/certs/a.pem differ (contents redacted)\n" in diff
    assert "MII" not in diff
    assert "--- a/haproxy.cfg\n+++ b/haproxy.cfg\n" in diff
    assert "-    maxconn 100\n+    maxconn 200\n" in diff
    assert "old mode 0644 haproxy.cfg\nnew mode 0640 haproxy.cfg\n" in diff
    assert "--- a/gone.lua\n+++ /dev/null\n" in diff and "--- /dev/null\n+++ b/new.map\n" in diff
    assert config_preview.diff(applied, applied) == ""


def test_a_huge_diff_is_cut():
    big = b"".join(b"server s%d 10.0.0.%d:80\n" % (i, i % 250) for i in range(80000))
    diff = config_preview.diff([("haproxy.cfg", b"", 0o644)], [("haproxy.cfg", big, 0o644)])
    assert len(diff) <= config_preview.MAX_DIFF + 1
    assert diff.endswith("[diff cut at 1 MiB]\n")
