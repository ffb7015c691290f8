"""A config check made after a runtime plan took effect (amphora_agent.process.run_validator
inside yielding_checks) runs at a lower CPU priority than the agent and the engine: the traffic
comes first. Any other check runs at the agent's priority: the change waits for it."""

from __future__ import annotations

import asyncio
import os

from amphora_agent.process import VALIDATOR_NICE, run_validator, yielding_checks

# Prints its niceness once it is the validator's, or after 10 s.
_NICENESS = (
    "for i in $(seq 100); do n=$(cut -d' ' -f19 /proc/$$/stat); "
    f'[ "$n" = {VALIDATOR_NICE} ] && break; sleep 0.1; done; echo "$n"'
)


def test_a_check_after_a_plan_runs_at_the_validator_niceness(tmp_path) -> None:
    async def check():
        with yielding_checks():
            return await run_validator(["sh", "-c", _NICENESS], str(tmp_path), "check")

    ok, output = asyncio.run(check())
    assert ok and output == str(VALIDATOR_NICE)


def test_another_check_keeps_the_agents_niceness(tmp_path) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    # Read after 0.2 s: a lowering would have happened long before.
    argv = ["sh", "-c", "sleep 0.2; cut -d' ' -f19 /proc/$$/stat"]
    ok, output = asyncio.run(run_validator(argv, str(tmp_path), "check"))
    assert ok and output == str(own)


def test_a_failing_check_still_reports_its_output(tmp_path) -> None:
    ok, output = asyncio.run(run_validator(["sh", "-c", "echo bad; exit 3"], str(tmp_path), "x"))
    assert not ok and output == "bad"


def test_a_check_is_not_spawned_by_the_event_loop(tmp_path, monkeypatch) -> None:
    # uvloop's spawn forks the whole agent (3 to 10 ms of every apply); subprocess vforks.
    async def forks(*args, **kwargs):
        raise AssertionError("the check was spawned by the event loop")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", forks)
    ok, output = asyncio.run(run_validator(["sh", "-c", "echo fine"], str(tmp_path), "x"))
    assert ok and output == "fine"
