"""The management API's config preview, as plain data: rendered files as an operator may see
them (a file holding a private key never leaves the orchestrator) and a unified diff from the
config an amphora has applied to the one rendered now."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

# PEM private keys of every kind ("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY", "BEGIN
# ENCRYPTED PRIVATE KEY", ...): haproxy's and nginx's certificate files carry them.
_PRIVATE_KEY = b"PRIVATE KEY-----"
# A diff longer than this (characters) is cut: the rendered files are returned whole anyway.
MAX_DIFF = 1024 * 1024
_CUT = "[diff cut at 1 MiB]\n"

File = tuple[str, bytes, int]  # (path, content, mode), as renderers and agents give them


@dataclass(frozen=True)
class ShownFile:
    path: str
    mode: int
    content: str  # "" when redacted
    redacted: bool
    sha256: str


def is_secret(content: bytes) -> bool:
    return _PRIVATE_KEY in content


def shown(files: Iterable[File]) -> list[ShownFile]:
    """The files sorted by path, their text decoded, private keys left out."""
    out = []
    for path, content, mode in sorted(files, key=lambda f: f[0]):
        secret = is_secret(content)
        out.append(
            ShownFile(
                path=path,
                mode=mode,
                content="" if secret else content.decode("utf-8", "replace"),
                redacted=secret,
                sha256=hashlib.sha256(content).hexdigest(),
            )
        )
    return out


def diff(applied: Iterable[File], rendered: Iterable[File]) -> str:
    """A unified diff, file by file in path order, from `applied` to `rendered`; files holding
    a private key (on either side) are said to differ, never shown. "" when they are equal."""
    old = {path: (content, mode) for path, content, mode in applied}
    new = {path: (content, mode) for path, content, mode in rendered}
    parts: list[str] = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        parts.append(_file_diff(path, before, after))
        if sum(len(p) for p in parts) > MAX_DIFF:
            return "".join(parts)[: MAX_DIFF - len(_CUT)] + "\n" + _CUT
    return "".join(parts)


def _file_diff(path: str, before: tuple[bytes, int] | None, after: tuple[bytes, int] | None) -> str:
    head = ""
    if before is not None and after is not None and before[1] != after[1]:
        head = f"old mode {before[1]:04o} {path}\nnew mode {after[1]:04o} {path}\n"
    old_content = before[0] if before is not None else b""
    new_content = after[0] if after is not None else b""
    if old_content == new_content:
        return head
    if is_secret(old_content) or is_secret(new_content):
        return head + f"Files a/{path} and b/{path} differ (contents redacted)\n"
    lines = difflib.unified_diff(
        _lines(old_content),
        _lines(new_content),
        fromfile=f"a/{path}" if before is not None else "/dev/null",
        tofile=f"b/{path}" if after is not None else "/dev/null",
        lineterm="",
    )
    return head + "".join(line + "\n" for line in lines)


def _lines(content: bytes) -> list[str]:
    return content.decode("utf-8", "replace").splitlines()
