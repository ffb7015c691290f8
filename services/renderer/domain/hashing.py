"""The config hash shared with the amphora agent (docs/architecture.md, "Config hash")."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable


def config_hash(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over files sorted by path: utf8(path) || 0x00 || uint64_be(len) || content; hex."""
    digest = hashlib.sha256()
    for path, content in sorted(files, key=lambda f: f[0].encode("utf-8")):
        digest.update(path.encode("utf-8"))
        digest.update(b"\x00")
        digest.update(struct.pack(">Q", len(content)))
        digest.update(content)
    return digest.hexdigest()
