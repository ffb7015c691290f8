"""Config hash and path safety shared (by definition, not by import) with the renderer."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable


class UnsafePathError(ValueError):
    """A config file path that could escape the config directory."""


def config_hash(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over files sorted by path: utf8(path) || 0x00 || uint64_be(len) || content, hex."""
    digest = hashlib.sha256()
    for path, content in sorted(files, key=lambda item: item[0].encode("utf-8")):
        digest.update(path.encode("utf-8"))
        digest.update(b"\x00")
        digest.update(struct.pack(">Q", len(content)))
        digest.update(content)
    return digest.hexdigest()


def check_relative_path(path: str) -> str:
    """Return path if it is a plain relative path inside the config dir, else raise."""
    if not path or "\x00" in path or "\\" in path:
        raise UnsafePathError(f"invalid config file path {path!r}")
    if path.startswith("/"):
        raise UnsafePathError(f"absolute config file path {path!r}")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafePathError(f"config file path {path!r} has an empty, '.' or '..' component")
    return path
