"""amphora_agent.drain.Drainer against a stand-in nft and socket tables written by the test (no
root needed): what it hands nft and when, the hold timer (reset by a new drain, cancelled by a
lift, lifting by itself), a failed nft leaving the drain before it in place, a caller that gives
up mid-install, and the wait ending as soon as the connections have. The real nft and kernel are
in test_agent_drain.py."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from amphora_agent import drain

pytestmark = pytest.mark.timeout(120)

# Records each ruleset it is given; fails with the words in nft.fail; sleeps nft.slow seconds.
STAND_IN = f"""#!{sys.executable}
import os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
assert sys.argv[1:] == ["-f", "-"], sys.argv
text = sys.stdin.read()
if os.path.exists(os.path.join(here, "nft.slow")):
    time.sleep(float(open(os.path.join(here, "nft.slow")).read()))
if os.path.exists(os.path.join(here, "nft.fail")):
    print(open(os.path.join(here, "nft.fail")).read(), file=sys.stderr)
    sys.exit(1)
with open(os.path.join(here, "nft.log"), "a") as fh:
    fh.write(text + "---\\n")
"""
HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
VIP = "10.0.0.5"  # 0500000A
TABLE = "lbaas_drain_test"
LIFT = drain.ruleset(TABLE, ())
# Every wait for something the drainer does in the background is bounded by this, never a fixed
# sleep: the stand-in nft is a Python process, which a loaded machine may start slowly.
PATIENCE = 30.0


async def eventually(condition, what: str) -> float:
    """Waits until condition() holds (at most PATIENCE seconds); returns when it did."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"not within {PATIENCE} s: {what}"
        await asyncio.sleep(0.02)
    return time.monotonic()


class Rig:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.nft = base / "nft"
        self.nft.write_text(STAND_IN)
        self.nft.chmod(0o755)
        self.proc = base / "proc"
        self.proc.mkdir()
        self.connections(0)

    def rulesets(self) -> list[str]:
        try:
            return (self.base / "nft.log").read_text().split("---\n")[:-1]
        except FileNotFoundError:
            return []

    def connections(self, established: int) -> None:
        """`established` connections to VIP:80 in /proc/net/tcp, beside ones that do not count."""
        lines = [
            "   0: 0500000A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 1",
            "   1: 0500000A:0050 0201000A:D431 06 00000000:00000000 00:00000000 00000000  0 0 0",
            "   2: 0600000A:0050 0201000A:D432 01 00000000:00000000 00:00000000 00000000  0 0 2",
        ]
        for i in range(established):
            lines.append(
                f"   {i + 3}: 0500000A:0050 0201000A:{0xE000 + i:04X} 01 00000000:00000000 "
                "00:00000000 00000000  0 0 3"
            )
        # Replaced whole, as the kernel's table is read whole: the drainer polls it from
        # another thread, and a file truncated before it is written would read as empty.
        staged = self.proc / "tcp.new"
        staged.write_text(HEADER + "\n".join(lines) + "\n")
        staged.replace(self.proc / "tcp")
        # No tcp6: a kernel without IPv6 has none.

    def drainer(self, default_hold: float = 60.0) -> drain.Drainer:
        return drain.Drainer(str(self.nft), TABLE, default_hold, proc_net=str(self.proc))


@pytest.fixture
def rig(tmp_path) -> Rig:
    return Rig(tmp_path)


def test_start_removes_a_leftover_and_a_drain_replaces_the_one_before(rig) -> None:
    drainer = rig.drainer()

    async def scenario() -> None:
        await drainer.start()
        assert drainer.available and rig.rulesets() == [LIFT]
        rig.connections(2)
        assert await drainer.drain([VIP], timeout=0.05) == 2
        assert drainer.addresses == (drain.parse_addresses([VIP]))
        assert await drainer.drain([VIP, "2001:db8::5"], timeout=0) == 2
        assert rig.rulesets()[1:] == [
            drain.ruleset(TABLE, drain.parse_addresses([VIP])),
            drain.ruleset(TABLE, drain.parse_addresses([VIP, "2001:db8::5"])),
        ]
        assert await drainer.drain([], timeout=5) == 0  # lift: at once
        assert rig.rulesets()[-1] == LIFT and drainer.addresses == ()
        await drainer.stop()

    asyncio.run(scenario())


def test_the_wait_ends_when_the_connections_have_or_at_the_timeout(rig) -> None:
    drainer = rig.drainer()
    rig.connections(3)

    async def scenario() -> None:
        await drainer.start()

        async def close_them() -> None:
            await asyncio.sleep(0.2)
            rig.connections(1)
            await asyncio.sleep(0.2)
            rig.connections(0)

        closing = asyncio.create_task(close_them())
        began = time.monotonic()
        assert await drainer.drain([VIP], timeout=PATIENCE) == 0
        took = time.monotonic() - began
        # Not before the last connection went (0.4 s), and because it went, not at the timeout.
        assert 0.35 < took < PATIENCE - 1, took
        await closing

        # 10.0.0.6 keeps its one connection: the wait ends at the timeout.
        began = time.monotonic()
        assert await drainer.drain(["10.0.0.6"], timeout=0.3) == 1
        assert 0.3 <= time.monotonic() - began < PATIENCE
        await drainer.stop()

    asyncio.run(scenario())


def test_the_hold_lifts_it_and_a_new_drain_resets_the_hold(rig) -> None:
    drainer = rig.drainer(default_hold=2.0)

    async def scenario() -> None:
        await drainer.start()
        first = time.monotonic()
        await drainer.drain([VIP], timeout=0)  # hold 0: the agent's default, 2 s
        second = time.monotonic()
        await drainer.drain([VIP], timeout=0, hold=5.0)  # the timer starts again
        # Past the moment the first timer would have fired: still drained.
        await asyncio.sleep(max(0.0, first + 3.0 - time.monotonic()))
        assert drainer.addresses and rig.rulesets()[-1] != LIFT
        lifted = await eventually(lambda: drainer.addresses == (), "the second hold's lift")
        assert lifted - second >= 5.0, "lifted before the second hold ran out"
        assert rig.rulesets()[-1] == LIFT
        assert len(rig.rulesets()) == 4  # start, two drains, one lift

        await drainer.drain([VIP], timeout=0, hold=0.2)
        await drainer.lift()  # a lift cancels the timer: no second lift after it
        await asyncio.sleep(1.0)
        assert rig.rulesets()[-1] == LIFT and len(rig.rulesets()) == 6  # drain, lift: no more
        await drainer.stop()

    asyncio.run(scenario())


def test_stop_lifts_and_cancels_the_hold(rig) -> None:
    drainer = rig.drainer()

    async def scenario() -> None:
        await drainer.start()
        await drainer.drain([VIP], timeout=0, hold=30)
        timer = drainer._timer
        await drainer.stop()
        assert rig.rulesets()[-1] == LIFT and drainer.addresses == ()
        await asyncio.sleep(0)
        assert timer is not None and timer.cancelled()

    asyncio.run(scenario())


def test_a_failed_nft_leaves_the_drain_before_it(rig) -> None:
    drainer = rig.drainer()

    async def scenario() -> None:
        await drainer.start()
        await drainer.drain([VIP], timeout=0, hold=4.0)
        (rig.base / "nft.fail").write_text("Error: Could not process rule: No such file")
        with pytest.raises(drain.DrainError, match="exited 1: Error: Could not process rule"):
            await drainer.drain(["10.0.0.6"], timeout=0, hold=30)
        assert drainer.addresses == drain.parse_addresses([VIP])
        (rig.base / "nft.fail").unlink()
        # The first drain's hold still runs, and lifts it.
        await eventually(lambda: drainer.addresses == (), "the first hold's lift")
        assert rig.rulesets()[-1] == LIFT
        await drainer.stop()

    asyncio.run(scenario())


def test_a_caller_giving_up_mid_install_leaves_the_drain_with_its_hold(rig) -> None:
    drainer = rig.drainer()

    async def scenario() -> None:
        await drainer.start()
        (rig.base / "nft.slow").write_text("0.3")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(drainer.drain([VIP], timeout=5, hold=5.0), 0.1)
        (rig.base / "nft.slow").unlink()
        # The install went on without its caller ...
        await eventually(
            lambda: drainer.addresses == drain.parse_addresses([VIP]), "the install finished"
        )
        assert rig.rulesets()[-1] != LIFT
        # ... and its hold lifted it.
        await eventually(lambda: drainer.addresses == (), "the hold's lift")
        assert rig.rulesets()[-1] == LIFT
        await drainer.stop()

    asyncio.run(scenario())


def test_nft_that_cannot_change_the_ruleset_means_no_drain(rig) -> None:
    (rig.base / "nft.fail").write_text("Error: Operation not permitted")
    drainer = rig.drainer()

    async def scenario() -> None:
        assert drainer.available  # until it was tried
        await drainer.start()
        assert not drainer.available
        with pytest.raises(drain.DrainUnavailable):
            await drainer.drain([VIP], timeout=0)
        assert await drainer.drain([], timeout=0) == 0  # nothing to lift: no error
        await drainer.stop()

    asyncio.run(scenario())
    assert not drain.Drainer("/nonexistent/nft", TABLE, 60).available


def test_a_hold_whose_lift_fails_tries_again(rig, monkeypatch) -> None:
    monkeypatch.setattr(drain, "LIFT_RETRY", 0.2)
    drainer = rig.drainer()

    async def scenario() -> None:
        await drainer.start()
        await drainer.drain([VIP], timeout=0, hold=0.2)
        (rig.base / "nft.fail").write_text("Error: Could not process rule: Device or resource busy")
        await asyncio.sleep(0.5)  # the hold's lift and a retry failed
        assert drainer.addresses and rig.rulesets()[-1] != LIFT
        (rig.base / "nft.fail").unlink()
        # A retry under way may still fail; one after it lifts.
        await eventually(lambda: drainer.addresses == (), "a retried lift")
        assert rig.rulesets()[-1] == LIFT
        await drainer.stop()

    asyncio.run(scenario())
