"""Host settings the system under test may change, and putting them back.

An agent of the local compute driver shares the host's network namespace and, to let haproxy's
unprivileged workers run PING checks, widens net.ipv4.ping_group_range when it admits nobody
(amphora_agent/privileges.py). The test session (tests/conftest.py) and every benchmark that
starts a stack put the host's value back when they end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

HOST_SETTINGS = (Path("/proc/sys/net/ipv4/ping_group_range"),)


def save() -> dict[Path, str]:
    saved = {}
    for path in HOST_SETTINGS:
        try:
            saved[path] = path.read_text()
        except OSError:
            continue
    return saved


def restore(saved: dict[Path, str]) -> None:
    for path, value in saved.items():
        try:
            if path.read_text() != value:
                path.write_text(value)
        except OSError:
            pass  # not root: nothing here could have changed it either


@contextlib.contextmanager
def host_settings_kept() -> Iterator[None]:
    saved = save()
    try:
        yield
    finally:
        restore(saved)
