"""The applier with keepalived beside haproxy (fakes for both): when keepalived is validated,
started, reloaded, left alone and stopped, and how a failure of either is rolled back."""

from __future__ import annotations

import asyncio

from amphora_agent.applier import Applier, ConfigFile, Result
from amphora_agent.confighash import config_hash
from amphora_agent.keepalived import Keepalived
from amphora_agent.process import ProcessError
from amphora_agent.service import CAPABILITIES, VRRP_CAPABILITY, AgentService


class FakeProcess:
    def __init__(self, main_file: str, name: str, calls: list[str]) -> None:
        self.main_file = main_file
        self.name = name
        self.calls = calls
        self.running = False
        self.valid = True
        self.fail_next: str | None = None  # "start" or "reload"
        self.validated: list[str] = []

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        self.validated.append(cfg_path)
        self.calls.append(f"{self.name}.validate")
        return self.valid, "" if self.valid else f"{self.name}: bad config"

    def stop_stale(self) -> None:
        self.calls.append(f"{self.name}.stop_stale")

    async def _act(self, what: str) -> None:
        self.calls.append(f"{self.name}.{what}")
        if self.fail_next == what:
            self.fail_next = None
            self.running = False
            raise ProcessError(f"{self.name} {what} failed")
        self.running = True

    async def start(self) -> None:
        await self._act("start")

    async def reload(self) -> None:
        await self._act("reload")

    async def stop(self, timeout: float = 5.0) -> None:
        if self.running:
            self.calls.append(f"{self.name}.stop")
        self.running = False


def _rig(tmp_path):
    calls: list[str] = []
    haproxy = FakeProcess("haproxy.cfg", "haproxy", calls)
    keepalived = FakeProcess("keepalived.conf", "keepalived", calls)
    return Applier(str(tmp_path), haproxy, keepalived), haproxy, keepalived, calls


def _config(cfg: bytes = b"global\n", keepalived: bytes | None = b"vrrp_instance x {}\n"):
    files = [ConfigFile("haproxy.cfg", cfg, 0o644)]
    if keepalived is not None:
        files += [
            ConfigFile("keepalived.conf", keepalived, 0o644),
            ConfigFile("check_haproxy.sh", b"#!/bin/sh\n", 0o755),
        ]
    return files, config_hash((f.path, f.content) for f in files)


def _apply(applier: Applier, config, force: bool = False):
    files, digest = config
    return asyncio.run(applier.apply(files, digest, "haproxy-1.4.0", force=force))


def test_single_configs_never_touch_keepalived(tmp_path) -> None:
    applier, _, _, calls = _rig(tmp_path)
    assert _apply(applier, _config(keepalived=None)).result == Result.APPLIED
    assert _apply(applier, _config(b"global\n#2\n", keepalived=None)).result == Result.APPLIED
    assert [c for c in calls if c.startswith("keepalived")] == []


def test_a_pair_config_validates_both_then_starts_keepalived_after_haproxy(tmp_path) -> None:
    applier, haproxy, keepalived, calls = _rig(tmp_path)
    assert _apply(applier, _config()).result == Result.APPLIED
    assert calls == [
        "haproxy.validate",
        "keepalived.validate",
        "haproxy.reload",
        "keepalived.start",
    ]
    # The staged copy is validated, before conf/ points at it.
    assert keepalived.validated[0].endswith("keepalived.conf")
    assert "/.staging-" in keepalived.validated[0]
    assert (tmp_path / "conf" / "keepalived.conf").read_bytes() == b"vrrp_instance x {}\n"
    assert oct((tmp_path / "conf" / "check_haproxy.sh").stat().st_mode & 0o777) == "0o755"


def test_keepalived_is_reloaded_only_when_its_file_changes(tmp_path) -> None:
    applier, _, _, calls = _rig(tmp_path)
    _apply(applier, _config())
    calls.clear()
    # haproxy.cfg changes, keepalived.conf does not: keepalived is left alone.
    assert _apply(applier, _config(b"global\n#2\n")).result == Result.APPLIED
    assert calls == ["haproxy.validate", "keepalived.validate", "haproxy.reload"]
    calls.clear()
    assert _apply(applier, _config(b"global\n#2\n", b"priority 90\n")).result == Result.APPLIED
    assert calls[-2:] == ["haproxy.reload", "keepalived.reload"]
    calls.clear()
    # The same hash again: nothing at all; forced: both reloaded.
    assert _apply(applier, _config(b"global\n#2\n", b"priority 90\n")).result == Result.UNCHANGED
    assert calls == []
    outcome = _apply(applier, _config(b"global\n#2\n", b"priority 90\n"), force=True)
    assert outcome.result == Result.APPLIED and calls[-2:] == [
        "haproxy.reload",
        "keepalived.reload",
    ]


def test_a_config_without_keepalived_conf_stops_it(tmp_path) -> None:
    applier, _, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config())
    calls.clear()
    assert _apply(applier, _config(keepalived=None)).result == Result.APPLIED
    assert calls == ["haproxy.validate", "haproxy.reload", "keepalived.stop"]
    assert not keepalived.running


def test_keepalived_refusing_the_config_is_invalid_and_changes_nothing(tmp_path) -> None:
    applier, haproxy, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config(keepalived=None))
    applied = applier.applied_hash
    calls.clear()
    keepalived.valid = False
    outcome = _apply(applier, _config())
    assert outcome.result == Result.INVALID and outcome.detail == "keepalived: bad config"
    assert outcome.applied_hash == applied == applier.applied_hash
    assert calls == ["haproxy.validate", "keepalived.validate"]
    # haproxy refusing it stops there: keepalived is not asked.
    calls.clear()
    haproxy.valid = False
    assert _apply(applier, _config()).result == Result.INVALID
    assert calls == ["haproxy.validate"]


def test_keepalived_failing_to_start_rolls_both_back(tmp_path) -> None:
    applier, haproxy, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config(keepalived=None))
    single = applier.applied_hash
    calls.clear()
    keepalived.fail_next = "start"
    outcome = _apply(applier, _config(b"global\n#pair\n"))
    assert outcome.result == Result.ROLLED_BACK and "keepalived start failed" in outcome.detail
    assert outcome.applied_hash == single == applier.applied_hash
    assert not (tmp_path / "conf" / "keepalived.conf").exists()
    # haproxy got the pair config, then the SINGLE one back; keepalived is not left running.
    assert calls == [
        "haproxy.validate", "keepalived.validate", "haproxy.reload", "keepalived.start",  # fails
        "haproxy.reload",
    ]  # fmt: skip
    assert not keepalived.running and haproxy.running


def test_a_failed_keepalived_reload_restores_its_previous_file(tmp_path) -> None:
    applier, _, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config(keepalived=b"priority 100\n"))
    first = applier.applied_hash
    calls.clear()
    keepalived.fail_next = "reload"
    outcome = _apply(applier, _config(keepalived=b"priority 90\n"))
    assert outcome.result == Result.ROLLED_BACK and outcome.applied_hash == first
    # The failed reload left keepalived down: it is started again on the previous file.
    assert calls[-3:] == ["keepalived.reload", "haproxy.reload", "keepalived.start"]
    assert (tmp_path / "conf" / "keepalived.conf").read_bytes() == b"priority 100\n"
    assert keepalived.running


def test_haproxy_failing_rolls_back_before_keepalived_is_touched(tmp_path) -> None:
    applier, haproxy, _, calls = _rig(tmp_path)
    _apply(applier, _config())
    calls.clear()
    haproxy.fail_next = "reload"
    outcome = _apply(applier, _config(b"global\n#3\n", b"priority 90\n"))
    assert outcome.result == Result.ROLLED_BACK
    assert calls == [
        "haproxy.validate", "keepalived.validate", "haproxy.reload",  # fails
        "haproxy.reload",  # the previous config; keepalived.conf is the one it runs
    ]  # fmt: skip


def test_same_hash_with_keepalived_down_starts_it(tmp_path) -> None:
    applier, _, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config())
    keepalived.running = False  # it died and its supervisor gave up for now
    calls.clear()
    outcome = _apply(applier, _config())
    assert outcome.result == Result.APPLIED
    assert outcome.detail == "keepalived was not running; started"
    assert calls == ["keepalived.start"]


def test_recover_starts_keepalived_with_an_applied_pair_config(tmp_path) -> None:
    applier, _, _, _ = _rig(tmp_path)
    _apply(applier, _config())
    again, _, keepalived, calls = _rig(tmp_path)  # the agent restarted on the same runtime dir
    asyncio.run(again.recover())
    assert calls == [
        "haproxy.stop_stale", "keepalived.stop_stale", "haproxy.start", "keepalived.start"
    ]  # fmt: skip
    assert keepalived.running


def test_an_agent_without_keepalived_refuses_a_pair_config(tmp_path) -> None:
    calls: list[str] = []
    applier = Applier(
        str(tmp_path), FakeProcess("haproxy.cfg", "haproxy", calls), Keepalived("", str(tmp_path))
    )
    outcome = _apply(applier, _config())
    assert outcome.result == Result.INVALID
    assert "keepalived is not installed" in outcome.detail
    assert _apply(applier, _config(keepalived=None)).result == Result.APPLIED


def test_capability_and_version_only_with_keepalived(tmp_path) -> None:
    def info(versions):
        service = AgentService(
            amphora_id="a", runtime_dir=str(tmp_path), backend="haproxy", versions=versions,
            applier=Applier(str(tmp_path), FakeProcess("haproxy.cfg", "h", [])),
            stats=None, certificate=None,
        )  # fmt: skip
        return asyncio.run(service.GetInfo(None, None))

    with_it = info({"haproxy": "2.6.12", "keepalived": "2.2.7"})
    assert with_it.keepalived_version == "2.2.7"
    assert list(with_it.capabilities) == [*CAPABILITIES, VRRP_CAPABILITY]
    without = info({"haproxy": "2.6.12"})
    assert without.keepalived_version == "" and VRRP_CAPABILITY not in without.capabilities
