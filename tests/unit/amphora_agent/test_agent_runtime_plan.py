"""Runtime plans without haproxy: its answers (as haproxy 2.6.12 gives them), `show servers
state` parsing and comparison, and the applier's choice between the runtime path and a reload
against a fake process."""

from __future__ import annotations

import asyncio

import pytest

from amphora_agent import process as agent_process
from amphora_agent.applier import Applier, ConfigFile, Result
from amphora_agent.confighash import config_hash
from amphora_agent.history import History
from amphora_agent.runtime import (
    PlanFailed,
    RuntimePlan,
    ServerState,
    answer_error,
    mismatches,
    parse_servers_state,
    run_plan,
)

HEADER = (
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health "
    "srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord "
    "srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
)
# Captured from haproxy 2.6.12: s1 up, s2 `disabled` in the config (FMAINT|CMAINT), s4 a
# dynamic server added in maintenance, s6 enabled again after `disabled` (CMAINT stays set).
STATE = (
    "1\n"
    + HEADER
    + "3 be 1 s1 127.0.0.2 2 0 3 1 0 8 2 2 6 0 0 0 - 9005 - 0 0 - - 0\n"
    + "3 be 2 s2 127.0.0.1 0 5 5 5 4 1 0 0 8 0 0 0 - 9002 - 0 0 - - 0\n"
    + "3 be 4 s4 ::1 0 1 1 1 0 1 0 0 14 0 0 0 - 9004 - 0 0 - - 0\n"
    + "3 be 6 s6 127.0.0.1 2 4 0 5 0 1 0 0 8 0 0 0 - 9006 - 0 0 - - 0\n"
    + "\n"
)


@pytest.mark.parametrize(
    "answer",
    [
        "\n",
        "",
        "\n\n",  # two commands joined with ';', both silent
        "New server registered.\n\n",
        "Server deleted.\n",
        "IP changed from '127.0.0.1' to '127.0.0.2', port changed from '9001' to '9005' "
        "by 'stats socket command'\n\n",
        "no need to change the addr by 'stats socket command'\n\n",
        "no need to change the addr, port changed from '9005' to '9006' by 'stats socket command'\n",
        "no need to change the addr, no need to change the port by 'stats socket command'\n",
        "IP changed from '127.0.0.3' to '::1', no need to change the port by 'stats socket command'",
    ],
)
def test_success_answers(answer) -> None:
    assert answer_error(answer) is None


@pytest.mark.parametrize(
    "answer",
    [
        "No such backend.\n\n",
        "No such server.\n",
        "Require 'backend/server'.\n",
        "Already exists a server with the same name in backend.\n\n",
        "Only servers in maintenance mode can be deleted.\n",
        "Absolute weight can only be between 0 and 256 inclusive.\n\n",
        "Invalid addr 'nothost' by 'stats socket command'\n\n",
        "Health check was not configured on this server, cannot enable.\n\n",
        "Unknown command, but maybe one of the following ones is a better match:\n  help\n\n",
        "New server registered.\n\nNo such server.\n",  # the second of two commands failed
        "Permission denied\n",
    ],
)
def test_error_answers(answer) -> None:
    assert answer_error(answer) == answer.strip()


def test_parse_servers_state_by_header_columns() -> None:
    shown = parse_servers_state(STATE)
    assert set(shown) == {("be", "s1"), ("be", "s2"), ("be", "s4"), ("be", "s6")}
    s1 = shown[("be", "s1")]
    assert (s1.address, s1.port, s1.weight, s1.maintenance) == ("127.0.0.2", 9005, 3, False)
    assert shown[("be", "s2")].maintenance and shown[("be", "s2")].weight == 5
    assert shown[("be", "s4")].maintenance and shown[("be", "s4")].address == "::1"
    s6 = shown[("be", "s6")]
    assert s6.admin_state == 4 and not s6.maintenance and s6.weight == 0


@pytest.mark.parametrize(
    "answer", ["Can't find backend.\n\n", "", "2\n# x\n", "1\n3 be 1 s1\n", "1\n" + HEADER + "x\n"]
)
def test_parse_servers_state_refuses_other_answers(answer) -> None:
    with pytest.raises(ValueError):
        parse_servers_state(answer)


def test_mismatches_field_by_field() -> None:
    shown = parse_servers_state(STATE)
    good = [
        ServerState("be", "s1", True, "127.0.0.2", 9005, 3, False),
        ServerState("be", "s2", True, "127.0.0.1", 9002, 5, True),
        ServerState("be", "s4", True, "0:0::1", 9004, 1, True),  # the same IPv6 address
        ServerState("be", "s3", False),
    ]
    assert mismatches(good, shown) == []
    bad = [
        ServerState("be", "s1", True, "127.0.0.3", 9006, 4, True),
        ServerState("be", "s2", False),
        ServerState("be", "s3", True, "127.0.0.1", 9003, 1, False),
    ]
    assert mismatches(bad, shown) == [
        "be/s1 address is '127.0.0.2', not '127.0.0.3'",
        "be/s1 port is 9005, not 9006",
        "be/s1 weight is 3, not 4",
        "be/s1 maintenance is False, not True",
        "be/s2 is still there",
        "be/s3 is missing",
    ]


class FakeHaproxy:
    """A process with a runtime API: answers from a table, `show servers state` from STATE."""

    main_file = "haproxy.cfg"

    def __init__(self) -> None:
        self.running = False
        self.calls: list[str] = []
        self.answers: dict[str, str] = {}
        self.state = STATE

    async def validate(self, cfg_path: str, cwd: str) -> tuple[bool, str]:
        # A check after commands that took yields the CPU to traffic (process.yielding_checks).
        self.calls.append("validate, yielding" if agent_process._YIELDING.get() else "validate")
        with open(cfg_path, "rb") as fh:
            return (b"invalid" not in fh.read()), "bad"

    def stop_stale(self) -> None:
        pass

    async def start(self) -> None:
        self.calls.append("start")
        self.running = True

    async def reload(self) -> None:
        self.calls.append("reload")
        self.running = True

    async def stop(self, timeout: float = 5.0) -> None:
        self.running = False

    async def runtime_commands(self, commands: list[str]) -> list[str]:
        self.calls.extend(commands)
        if "silent" in commands:
            raise TimeoutError()
        return [
            self.state
            if command.startswith("show servers state")
            else self.answers.get(command, "\n")
            for command in commands
        ]


def _config(text: str) -> tuple[list[ConfigFile], str]:
    files = [ConfigFile("haproxy.cfg", text.encode(), 0o640)]
    return files, config_hash((f.path, f.content) for f in files)


def _apply(applier, config, plan=None, force=False):
    return asyncio.run(applier.apply(config[0], config[1], "r1", force=force, plan=plan))


EXPECT_S1 = (ServerState("be", "s1", True, "127.0.0.2", 9005, 3, False),)


def _started(tmp_path):
    process = FakeHaproxy()
    applier = Applier(str(tmp_path), process, history=History.in_dir(str(tmp_path)))
    first = _config("global # first\n")
    assert _apply(applier, first).result == Result.APPLIED
    process.calls.clear()
    return applier, process, first


def test_a_plan_that_takes_swaps_the_files_without_a_reload(tmp_path) -> None:
    applier, process, first = _started(tmp_path)
    second = _config("global # second\n")
    plan = RuntimePlan(first[1], ("set server be/s1 weight 3",), EXPECT_S1)
    outcome = _apply(applier, second, plan)
    assert (outcome.result, outcome.runtime, outcome.runtime_fallback) == (
        Result.APPLIED,
        True,
        "",
    )
    assert outcome.applied_hash == second[1] == applier.applied_hash
    # The commands go first (traffic sees the change at once), the validation after them.
    assert process.calls == [
        "set server be/s1 weight 3",
        "show servers state be",
        "validate, yielding",
    ]
    assert (tmp_path / "conf" / "haproxy.cfg").read_text() == "global # second\n"
    assert applier.history.last_apply.runtime and applier.history.last_reload.action == "start"
    assert len([p for p in (tmp_path / "configs").iterdir() if p.is_dir()]) == 2

    # the next apply reloads from those files, and a plan from the old hash no longer applies
    third = _config("global # third\n")
    outcome = _apply(applier, third, RuntimePlan(first[1], ("set server be/s1 weight 3",)))
    assert outcome.result == Result.APPLIED and not outcome.runtime
    assert outcome.runtime_fallback == (
        f"applied config hash {second[1]} is not the plan's {first[1]}"
    )
    assert process.calls[-2:] == ["validate", "reload"]


@pytest.mark.parametrize(
    "answers, state, commands, cause",
    [
        (
            {"set server nosuch/x weight 1": "No such backend.\n\n"},
            STATE,
            ("set server be/s1 weight 3", "set server nosuch/x weight 1", "sent too"),
            "command 2 'set server nosuch/x weight 1' failed: 'No such backend.'",
        ),
        ({}, STATE, ("silent",), "the runtime API did not answer the plan's 1 commands"),
        ({}, STATE.replace(" 9005 ", " 9009 "), (), "be/s1 port is 9009, not 9005"),
        ({}, "Can't find backend.\n", (), "'show servers state be': not a `show servers state`"),
    ],
)
def test_a_plan_that_fails_falls_back_to_a_reload(
    tmp_path, answers, state, commands, cause
) -> None:
    applier, process, first = _started(tmp_path)
    process.answers, process.state = answers, state
    second = _config("global # second\n")
    outcome = _apply(applier, second, RuntimePlan(first[1], commands, EXPECT_S1))
    assert outcome.result == Result.APPLIED and not outcome.runtime
    assert cause in outcome.runtime_fallback
    assert applier.applied_hash == second[1]
    # haproxy runs every line sent; the reload that follows undoes them all
    assert process.calls[-2:] == ["validate", "reload"]
    assert applier.history.last_apply.runtime_fallback == outcome.runtime_fallback


def test_plans_not_tried(tmp_path) -> None:
    applier, process, first = _started(tmp_path)
    plan = RuntimePlan(first[1], ("set server be/s1 weight 3",))
    # forced: a full reload
    outcome = _apply(applier, _config("global # 2\n"), plan, force=True)
    assert outcome.runtime_fallback == "force asks for a full reload"
    assert process.calls == ["validate", "reload"]
    # a command of two lines
    applied = applier.applied_hash
    outcome = _apply(applier, _config("global # 3\n"), RuntimePlan(applied, ("a\nb",)))
    assert "is not one line" in outcome.runtime_fallback and not outcome.runtime
    # files that do not validate: INVALID, and the commands sent before the validation are
    # undone by reloading the applied config
    applied = applier.applied_hash
    process.calls.clear()
    outcome = _apply(applier, _config("invalid\n"), RuntimePlan(applied, ("x",)))
    assert outcome.result == Result.INVALID and outcome.applied_hash == applied
    assert outcome.runtime_fallback == "the new files do not validate"
    assert process.calls == ["x", "validate, yielding", "reload"]
    assert "undone" in outcome.detail
    # the config already applied: UNCHANGED, nothing sent, nothing to say
    outcome = _apply(applier, _config("global # 3\n"), RuntimePlan(applied, ("x",)))
    assert (outcome.result, outcome.runtime_fallback) == (Result.UNCHANGED, "")
    # the engine is down
    process.running = False
    process.calls.clear()
    outcome = _apply(applier, _config("global # 4\n"), RuntimePlan(applied, ("x",)))
    assert outcome.runtime_fallback == "the engine is not running the applied config"
    assert "x" not in process.calls


def test_an_engine_without_a_runtime_api_reloads(tmp_path) -> None:
    class NoRuntimeApi(FakeHaproxy):
        runtime_commands = None  # as nginx.Nginx: no such method

    process = NoRuntimeApi()
    applier = Applier(str(tmp_path), process)
    first = _config("global # 1\n")
    _apply(applier, first)
    outcome = _apply(applier, _config("global # 2\n"), RuntimePlan(first[1], ("x",)))
    assert outcome.result == Result.APPLIED and not outcome.runtime
    assert outcome.runtime_fallback == "this agent's engine (haproxy.cfg) has no runtime API"


def test_run_plan_with_nothing_to_check() -> None:
    sent: list[str] = []

    async def send(commands: list[str]) -> list[str]:
        sent.extend(commands)
        return ["New server registered.\n\n"] * len(commands)

    took = asyncio.run(run_plan(RuntimePlan("h", ("add server be/s9 127.0.0.1:1",)), send))
    assert took >= 0 and sent == ["add server be/s9 127.0.0.1:1"]
    with pytest.raises(PlanFailed, match="is not one line"):
        asyncio.run(run_plan(RuntimePlan("h", ("",)), send))


# -- the server-state dump a reload after a runtime plan starts from ---------------------------

CFG = (
    "global\n"
    "    stats socket /run/x/haproxy.sock mode 600 level admin\n"
    "ring r\n"
    "    server log 127.0.0.1:514\n"
    "backend be\n"
    "    balance roundrobin\n"
    "    server s1 127.0.0.1:9001 weight 1 check inter 2s\n"
    "    server s2 127.0.0.1:9002 weight 1\n"
    "    # server s9 127.0.0.1:1\n"
    "    server s6 [2001:db8::1]:80 weight 5 disabled\n"
    "    server s7 ipv4@10.0.0.7:8080 weight 2\n"
    "    server s8 10.0.0.8\n"
)


def _line(server: str, addr: str, op: int, admin: int, uweight: int, iweight: int, port: int):
    return (
        f"3 be 1 {server} {addr} {op} {admin} {uweight} {iweight} 4 8 2 0 6 0 0 0 - {port} - "
        "0 0 - - 0\n"
    )


def test_configured_servers_by_backend() -> None:
    from amphora_agent.stats import ConfiguredServer, configured_servers

    assert configured_servers(CFG) == {
        ("be", "s1"): ConfiguredServer("127.0.0.1", 9001, True),
        ("be", "s2"): ConfiguredServer("127.0.0.1", 9002, False),
        ("be", "s6"): ConfiguredServer("2001:db8::1", 80, False),
        ("be", "s7"): ConfiguredServer("10.0.0.7", 8080, False),
        ("be", "s8"): ConfiguredServer("10.0.0.8", 0, False),
    }


def test_the_dump_keeps_health_and_leaves_the_rest_to_the_config() -> None:
    from amphora_agent.stats import checked_servers, configured_servers, restorable_server_state

    state = (
        "1\n"
        + HEADER
        # a runtime weight (3, configured 1): the configured one is restored
        + _line("s1", "127.0.0.1", 2, 0, 3, 1, 9001)
        # moved at run time (port 9005) from what the new config says: starts as a new one does
        + _line("s2", "127.0.0.1", 2, 0, 1, 1, 9005)
        # enabled at run time after `disabled` (CMAINT left set): a plain enabled server
        + _line("s6", "2001:db8:0::1", 2, 4, 5, 5, 80)
        # forced drain stays
        + _line("s7", "10.0.0.7", 2, 8, 2, 2, 8080)
    )
    kept = restorable_server_state(state, checked_servers(CFG), configured_servers(CFG))
    assert kept == (
        "1\n"
        + HEADER
        + _line("s1", "127.0.0.1", 2, 0, 1, 1, 9001)
        + _line("s6", "2001:db8:0::1", 2, 0, 5, 5, 80)
        + _line("s7", "10.0.0.7", 2, 8, 2, 2, 8080)
    )
    # in forced maintenance (a runtime `state maint`, checked or not): left out, the config
    # decides whether it is in maintenance
    forced = "1\n" + HEADER + _line("s1", "127.0.0.1", 0, 1, 1, 1, 9001)
    assert restorable_server_state(forced, {"s1"}, configured_servers(CFG)) == "1\n" + HEADER
    # a checked server found down keeps that, with its configured weight
    down = "1\n" + HEADER + _line("s1", "127.0.0.1", 0, 0, 7, 1, 9001)
    assert restorable_server_state(down, {"s1"}, configured_servers(CFG)) == (
        "1\n" + HEADER + _line("s1", "127.0.0.1", 0, 0, 1, 1, 9001)
    )
