"""Structure comparisons for the injection property test: a rendered config with a hostile value
must have exactly the shape of the same config rendered with a benign value (same lines, same
directive on each line, same number of tokens on each line / same JSON tree). Whatever a value
smuggled in (a new line, a directive, an extra argument, a closed block, a JSON member) changes
that shape."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any


def _tokens(line: str, separators: str) -> list[str]:
    """Words split at whitespace; each separator character is a token of its own; quotes group;
    a backslash escapes; an unquoted '#' anywhere starts a comment (the strictest reading)."""
    tokens: list[str] = []
    word, quote, escaped = "", "", False
    for ch in line:
        if escaped:
            word, escaped = word + ch, False
        elif ch == "\\":
            escaped = True
        elif quote:
            word += ch
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            word, quote = word + ch, ch
        elif ch == "#":
            # A comment is part of the shape: a value must not add one.
            return [*tokens, *([word] if word else []), "<comment>"]
        elif ch.isspace() or ch in separators:
            if word:
                tokens.append(word)
            word = ""
            if ch in separators:
                tokens.append(ch)
        else:
            word += ch
    if word or quote:
        tokens.append(word + ("<unbalanced>" if quote else ""))
    return tokens


def haproxy_tokens(line: str) -> list[str]:
    """haproxy's word splitting: whitespace separates, quotes group, '\\' escapes, '#' starts
    a comment outside quotes."""
    return _tokens(line, "")


def nginx_tokens(line: str) -> list[str]:
    """nginx's lexer: as haproxy's, and ';', '{' and '}' are tokens of their own."""
    return _tokens(line, ";{}")


def _kind(token: str) -> str:
    """What a line's first token must keep: the directive itself, or (for a quoted key such as
    an nginx map entry) only that it is quoted."""
    return token[0] if token[:1] in ("'", '"') else token


def text_problems(baseline: str, rendered: str, tokens) -> list[str]:
    base_lines, lines = baseline.splitlines(), rendered.splitlines()
    if len(base_lines) != len(lines):
        return [f"line count {len(base_lines)} -> {len(lines)}"]
    problems = []
    for number, (before, after) in enumerate(zip(base_lines, lines, strict=True), 1):
        if before == after:
            continue
        old, new = tokens(before), tokens(after)
        if len(old) != len(new) or [_kind(t) for t in old[:1]] != [_kind(t) for t in new[:1]]:
            problems.append(f"line {number}: {before!r} -> {after!r}")
    return problems


def _line_shape(line: str, tokens) -> tuple[str, int]:
    words = tokens(line)
    return (_kind(words[0]) if words else "", len(words))


def _blocks(text: str, tokens) -> Counter:
    """The config's blocks (a line that starts at the margin and the indented lines after it),
    each as its header's shape and the multiset of its lines' shapes: what stays when only the
    order of objects changes (renderers order proxies and rules by their ids)."""
    blocks: list[tuple[tuple[str, int], list[tuple[str, int]]]] = []
    for line in text.splitlines():
        shape = _line_shape(line, tokens)
        if line[:1].isspace() and blocks:
            blocks[-1][1].append(shape)
        else:
            blocks.append((shape, []))
    return Counter((head, tuple(sorted(body))) for head, body in blocks)


def block_problems(baseline: str, rendered: str, tokens) -> list[str]:
    """As text_problems, for configs whose objects have other ids than the baseline's (so come
    in another order): the same blocks, each with the same lines (directive and number of
    tokens), in any order. A smuggled line, directive, argument or block changes them."""
    if _blocks(baseline, tokens) == _blocks(rendered, tokens):
        return []
    old, new = baseline.splitlines(), rendered.splitlines()
    shapes_old = Counter(_line_shape(line, tokens) for line in old)
    shapes_new = Counter(_line_shape(line, tokens) for line in new)
    extra, lost = shapes_new - shapes_old, shapes_old - shapes_new
    problems = [f"new line {line!r}" for line in new if _line_shape(line, tokens) in extra]
    problems += [f"lost line {line!r}" for line in old if _line_shape(line, tokens) in lost]
    return problems or ["a line moved to another block"]


_HASH = re.compile(r"[0-9a-f]{24}")


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        # Object names may carry a hash of a value (certificate references): the hash differs,
        # the shape does not.
        return {_HASH.sub("<hash>", key): _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


def json_problems(baseline: str, rendered: str) -> list[str]:
    """Only string leaves may differ: same members, same list lengths, same types."""
    try:
        new = json.loads(rendered)
    except ValueError as err:
        return [f"not JSON: {err}"]
    if _shape(json.loads(baseline)) != _shape(new):
        return ["JSON structure changed"]
    return []


# Rendered file names are chosen by renderers (hashes of references), never taken from input.
SAFE_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
