"""amphora_agent.keepalived against a stand-in binary (no root needed): start and reload are
confirmed from the log, a failure carries keepalived's words, a keepalived that dies is started
again, stop() stops it for good, and one left behind by an earlier agent run is stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from amphora_agent import keepalived as ka

pytestmark = pytest.mark.timeout(60)

# Behaves as keepalived -n does for the agent: logs "Startup complete" / "Reload complete",
# exits on SIGTERM, refuses a config that says FAIL.
STAND_IN = f"""#!{sys.executable}
import os, signal, sys, time
args = sys.argv[1:]
if "--version" in args:
    print("Keepalived v2.2.7 (01/16,2022)")
    sys.exit(0)
conf = args[args.index("-f") + 1]
with open(args[args.index("-p") + 1], "w") as fh:
    fh.write(f"{{os.getpid()}}\\n")
def check():
    if "FAIL" in open(conf).read():
        print("bad keyword FAIL", flush=True)
        sys.exit(1)
def hup(*_):
    check()
    print("Reload complete", flush=True)
signal.signal(signal.SIGHUP, hup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
check()
print("Startup complete", flush=True)
while True:
    time.sleep(1)
"""


@pytest.fixture
def rig(tmp_path):
    binary = tmp_path / "keepalived"
    binary.write_text(STAND_IN)
    binary.chmod(0o755)
    run_dir = tmp_path / "run"
    (run_dir / "configs" / "v1").mkdir(parents=True)
    (run_dir / "conf").symlink_to("configs/v1")
    (run_dir / "conf" / "keepalived.conf").write_text("vrrp_instance x {}\n")
    manager = ka.Keepalived(str(binary), str(run_dir))
    try:
        yield manager, run_dir
    finally:
        # Each test stops it inside its own event loop; this is for a test that failed first.
        manager._wanted = False
        if manager.pid is not None:
            os.kill(manager.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_version_probe(rig) -> None:
    manager, _ = rig
    assert ka.probe_version(manager.binary) == "2.2.7"
    assert ka.probe_version("") == ""
    assert ka.probe_version("/nonexistent/keepalived") == ""


def test_start_reload_supervise_stop(rig) -> None:
    manager, run_dir = rig

    async def scenario() -> None:
        await manager.start()
        first = manager.pid
        assert first and manager.running
        assert (run_dir / "keepalived.pid").read_text().strip() == str(first)
        await manager.start()  # already running: nothing
        assert manager.pid == first
        await manager.reload()
        assert manager.pid == first  # SIGHUP, same process
        assert "Reload complete" in (run_dir / "keepalived.log").read_text()

        os.kill(first, signal.SIGKILL)  # dies unexpectedly: started again
        deadline = time.monotonic() + 5
        while not (manager.running and manager.pid != first):
            assert time.monotonic() < deadline, "keepalived was not started again"
            await asyncio.sleep(0.02)
        assert manager.restarts == 1

        second = manager.pid
        await manager.stop()
        assert not manager.running and not _alive(second)
        await asyncio.sleep(ka.WATCH_INTERVAL * 5 + ka.RESTART_FIRST)
        assert manager.pid is None  # stopped for good

    asyncio.run(scenario())


def test_a_failed_start_or_reload_carries_keepalived_output(rig) -> None:
    manager, run_dir = rig

    async def scenario() -> None:
        await manager.start()
        (run_dir / "conf" / "keepalived.conf").write_text("FAIL\n")
        with pytest.raises(ka.KeepalivedError, match="exited at reload: .*bad keyword FAIL"):
            await manager.reload()
        await manager.stop()
        with pytest.raises(ka.KeepalivedError, match="exited at start: .*bad keyword FAIL"):
            await manager.start()
        await manager.stop()

    asyncio.run(scenario())


def test_not_installed() -> None:
    manager = ka.Keepalived("", "/nonexistent")

    async def scenario() -> None:
        ok, detail = await manager.validate("/nonexistent/keepalived.conf", "/")
        assert not ok and "not installed" in detail
        with pytest.raises(ka.KeepalivedError, match="not installed"):
            await manager.start()
        await manager.stop()

    asyncio.run(scenario())


def test_a_keepalived_left_behind_is_stopped(rig) -> None:
    manager, run_dir = rig
    # Not our child (as after an agent crash): the shell that starts it exits at once.
    argv = [manager.binary, "-n", "-f", str(run_dir / "conf" / "keepalived.conf"),
            "-p", manager.pid_file]  # fmt: skip
    started = subprocess.run(
        ["/bin/sh", "-c", '"$@" >/dev/null 2>&1 & echo $!', "sh", *argv],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    pid = int(started.stdout)
    try:
        deadline = time.monotonic() + 10
        while not (os.path.exists(manager.pid_file) and open(manager.pid_file).read().strip()):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        manager.stop_stale()
        assert not _alive(pid)
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
