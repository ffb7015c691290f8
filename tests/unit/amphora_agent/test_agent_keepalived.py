"""The applier with keepalived beside haproxy (fakes for both): when keepalived is validated,
started, reloaded, left alone and stopped, when haproxy is left alone (a change of keepalived's
files only), and how a failure of either is rolled back."""

from __future__ import annotations

import asyncio

from amphora_agent.applier import Applier, ConfigFile, Result
from amphora_agent.confighash import config_hash
from amphora_agent.keepalived import ONLY_FILES, Keepalived
from amphora_agent.process import ProcessError
from amphora_agent.service import CAPABILITIES, VRRP_CAPABILITY, AgentService
from services.renderer.backends.haproxy import vrrp


class FakeProcess:
    def __init__(self, main_file: str, name: str, calls: list[str]) -> None:
        self.main_file = main_file
        self.name = name
        self.calls = calls
        self.running = False
        self.valid = True
        self.fail_next: str | None = None  # "start" or "reload"
        self.fail_times = 1  # how many of those in a row fail
        # A haproxy master outlives a failed reload (its old workers go on serving).
        self.survives_failure = False
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
            self.fail_times -= 1
            if self.fail_times <= 0:
                self.fail_next, self.fail_times = None, 1
            self.running = self.running and self.survives_failure
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


def _config(
    cfg: bytes = b"global\n",
    keepalived: bytes | None = b"vrrp_instance x {}\n",
    check: bytes = b"#!/bin/sh\n",
    check_mode: int = 0o755,
    extra: tuple[ConfigFile, ...] = (),
):
    files = [ConfigFile("haproxy.cfg", cfg, 0o644), *extra]
    if keepalived is not None:
        files += [
            ConfigFile("keepalived.conf", keepalived, 0o644),
            ConfigFile("check_haproxy.sh", check, check_mode),
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
    # Both change: both are reloaded, haproxy first.
    assert _apply(applier, _config(b"global\n#3\n", b"priority 90\n")).result == Result.APPLIED
    assert calls == [
        "haproxy.validate", "keepalived.validate", "haproxy.reload", "keepalived.reload"
    ]  # fmt: skip
    calls.clear()
    # The same hash again: nothing at all; forced: both reloaded.
    assert _apply(applier, _config(b"global\n#3\n", b"priority 90\n")).result == Result.UNCHANGED
    assert calls == []
    outcome = _apply(applier, _config(b"global\n#3\n", b"priority 90\n"), force=True)
    assert outcome.result == Result.APPLIED and calls[-2:] == [
        "haproxy.reload",
        "keepalived.reload",
    ]


def test_the_agent_knows_the_keepalived_files_the_renderer_writes() -> None:
    assert ONLY_FILES == {vrrp.KEEPALIVED_PATH, vrrp.CHECK_SCRIPT_PATH}


def test_a_change_of_keepalived_files_only_does_not_reload_haproxy(tmp_path) -> None:
    applier, haproxy, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config(keepalived=b"priority 90\n"))
    loaded_from = (tmp_path / "conf").readlink()
    calls.clear()
    # A survivor whose dead peer was replaced at the same address: a new role and priority.
    outcome = _apply(applier, _config(keepalived=b"priority 100\n"))
    assert outcome.result == Result.APPLIED and outcome.applied_hash == applier.applied_hash
    assert calls == ["haproxy.validate", "keepalived.validate", "keepalived.reload"]
    assert (tmp_path / "conf" / "keepalived.conf").read_bytes() == b"priority 100\n"
    # The check script's content or mode: keepalived's too (sh reads it afresh on every run,
    # so keepalived itself needs no SIGHUP for it).
    calls.clear()
    _apply(applier, _config(keepalived=b"priority 100\n", check=b"#!/bin/sh\nexit 0\n"))
    _apply(applier, _config(keepalived=b"priority 100\n", check_mode=0o700, check=b"#2\n"))
    assert "haproxy.reload" not in calls and haproxy.running and keepalived.running
    # The version haproxy was loaded from is pruned; what it reads at its next reload is there.
    assert not (tmp_path / loaded_from).exists()
    assert (tmp_path / "conf" / "haproxy.cfg").read_bytes() == b"global\n"
    calls.clear()
    # Forced: both, even though only keepalived.conf differs.
    outcome = _apply(applier, _config(keepalived=b"priority 90\n"), force=True)
    assert outcome.result == Result.APPLIED
    assert calls[-2:] == ["haproxy.reload", "keepalived.reload"]


def test_any_other_difference_reloads_haproxy(tmp_path) -> None:
    applier, _, _, calls = _rig(tmp_path)
    a, b = ConfigFile("certs/a.pem", b"k", 0o600), ConfigFile("certs/b.pem", b"k", 0o600)
    _apply(applier, _config(extra=(a,)))
    # Each step changes keepalived.conf too (a mode alone does not change the config hash).
    steps = {
        "a mode": (ConfigFile("certs/a.pem", b"k", 0o640),),
        "a content": (ConfigFile("certs/a.pem", b"k2", 0o640),),
        "a file added": (ConfigFile("certs/a.pem", b"k2", 0o640), b),
        "a file removed": (b,),
    }
    for priority, (what, extra) in enumerate(steps.items()):
        calls.clear()
        config = _config(keepalived=f"priority {priority}\n".encode(), extra=extra)
        assert _apply(applier, config).result == Result.APPLIED
        assert calls == [
            "haproxy.validate", "keepalived.validate", "haproxy.reload", "keepalived.reload"
        ], what  # fmt: skip


def test_a_keepalived_only_change_starts_a_haproxy_that_is_not_running(tmp_path) -> None:
    applier, haproxy, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config())
    haproxy.running = False  # it died
    calls.clear()
    assert _apply(applier, _config(keepalived=b"priority 90\n")).result == Result.APPLIED
    assert calls[-2:] == ["haproxy.reload", "keepalived.reload"]  # the fake's reload starts it
    assert haproxy.running and keepalived.running


def test_a_haproxy_whose_config_is_unknown_is_reloaded_for_keepalived_files(tmp_path) -> None:
    applier, haproxy, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config())
    first = applier.applied_hash
    # haproxy.cfg changes; the reload fails and so does the one back, while the master goes on
    # running: which config it serves is unknown.
    haproxy.fail_next, haproxy.fail_times, haproxy.survives_failure = "reload", 2, True
    outcome = _apply(applier, _config(b"global\n#2\n"))
    assert outcome.result == Result.BROKEN and applier.applied_hash == first and haproxy.running
    calls.clear()
    assert _apply(applier, _config(keepalived=b"priority 90\n")).result == Result.APPLIED
    assert calls[-2:] == ["haproxy.reload", "keepalived.reload"]
    calls.clear()
    # Loaded again: the next keepalived-only change leaves it alone.
    assert _apply(applier, _config(keepalived=b"priority 100\n")).result == Result.APPLIED
    assert "haproxy.reload" not in calls


def test_a_config_without_keepalived_conf_stops_it(tmp_path) -> None:
    applier, _, keepalived, calls = _rig(tmp_path)
    _apply(applier, _config())
    calls.clear()
    assert _apply(applier, _config(b"global\n#single\n", keepalived=None)).result == Result.APPLIED
    assert calls == ["haproxy.validate", "haproxy.reload", "keepalived.stop"]
    assert not keepalived.running
    # Back to the pair and out again with haproxy.cfg as it was: keepalived's files only.
    _apply(applier, _config(b"global\n#single\n"))
    calls.clear()
    assert _apply(applier, _config(b"global\n#single\n", keepalived=None)).result == Result.APPLIED
    assert calls == ["haproxy.validate", "keepalived.stop"]


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
    # haproxy.cfg is the same in both: haproxy is reloaded neither way.
    assert calls == [
        "haproxy.validate", "keepalived.validate", "keepalived.reload",  # fails
        "keepalived.start",
    ]  # fmt: skip
    assert (tmp_path / "conf" / "keepalived.conf").read_bytes() == b"priority 100\n"
    assert keepalived.running
    # With haproxy.cfg changed too, haproxy goes forth and back.
    calls.clear()
    keepalived.fail_next = "reload"
    outcome = _apply(applier, _config(b"global\n#2\n", keepalived=b"priority 90\n"))
    assert outcome.result == Result.ROLLED_BACK and outcome.applied_hash == first
    assert calls[-4:] == [
        "haproxy.reload",
        "keepalived.reload",
        "haproxy.reload",
        "keepalived.start",
    ]
    assert (tmp_path / "conf" / "haproxy.cfg").read_bytes() == b"global\n"


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
