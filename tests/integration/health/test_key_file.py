"""The heartbeat key file on disk: late creation, rotation, and a broken edit keeping old keys."""

from __future__ import annotations

import os

from services.health.adapters.key_file import KeyFile


def _touch_later(path, text):
    path.write_text(text)
    # Make sure the change is visible even on filesystems with coarse mtimes.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_key_file_is_picked_up_rotated_and_survives_a_bad_edit(tmp_path):
    path = tmp_path / "heartbeat.keys"
    keys = KeyFile(path, check_interval=0)
    assert dict(keys().keys) == {}

    _touch_later(path, "a 0102\n")
    assert dict(keys().keys) == {"a": b"\x01\x02"}

    _touch_later(path, "b 0304\na 0102\n")
    assert keys().signing_key_id == "b"
    assert set(keys().keys) == {"a", "b"}

    _touch_later(path, "b not-hex\n")
    assert set(keys().keys) == {"a", "b"}
