"""Fixtures for the amphora agent integration tests (helpers live in agent_harness.py)."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from agent_harness import (  # noqa: E402, F401  (pytest finds fixtures by name)
    agent,
    amphora_id,
    backends,
    heartbeat_socket,
    make_agent,
    pki,
    workdir,
)
