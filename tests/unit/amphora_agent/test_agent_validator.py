"""A config check (amphora_agent.process.run_validator) runs at a lower CPU priority than the
agent and the engine: the traffic comes first."""

from __future__ import annotations

import asyncio

from amphora_agent.process import VALIDATOR_NICE, run_validator

# Prints its niceness once it is the validator's, or after 10 s.
_NICENESS = (
    "for i in $(seq 100); do n=$(cut -d' ' -f19 /proc/$$/stat); "
    f'[ "$n" = {VALIDATOR_NICE} ] && break; sleep 0.1; done; echo "$n"'
)


def test_a_check_runs_at_the_validator_niceness(tmp_path) -> None:
    ok, output = asyncio.run(run_validator(["sh", "-c", _NICENESS], str(tmp_path), "check"))
    assert ok and output == str(VALIDATOR_NICE)


def test_a_failing_check_still_reports_its_output(tmp_path) -> None:
    ok, output = asyncio.run(run_validator(["sh", "-c", "echo bad; exit 3"], str(tmp_path), "x"))
    assert not ok and output == "bad"
