"""Suite-wide guards.

Host settings the system under test may change are put back when the run ends: an agent of the
local compute driver shares the host's network namespace and, to let haproxy's unprivileged
workers run PING checks, widens net.ipv4.ping_group_range when it admits nobody
(amphora_agent/privileges.py).

Spans are not exported by the services the tests start (LBAAS_TRACE_EXPORTER=none, unless the
environment sets it): tracing costs about a tenth of the control plane's CPU, which the suite's
time budget does not have. tests/e2e/test_tracing.py turns the file exporter on for its stack.
"""

from __future__ import annotations

import os

import pytest

from tests.support import host

os.environ.setdefault("LBAAS_TRACE_EXPORTER", "none")

_SAVED = pytest.StashKey[dict]()  # tests/support/host.py


def pytest_configure(config: pytest.Config) -> None:
    # In the process that runs the session (with pytest-xdist: the controller, not a worker, so
    # that a worker ending early does not put a setting back under another's running tests).
    if hasattr(config, "workerinput"):
        return
    config.stash[_SAVED] = host.save()


def pytest_unconfigure(config: pytest.Config) -> None:
    host.restore(config.stash.get(_SAVED, {}))
