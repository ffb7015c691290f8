"""Runtime plans against the agent as a real process with real haproxy: a member change applied
over haproxy's runtime API with no reload, the fallbacks to a reload (a plan from another config,
a command haproxy refuses), later reloads following the config rather than what the runtime API
changed, and an agent with runtime plans switched off."""

from __future__ import annotations

import os
import re
import socket
import time

import pytest
from agent_harness import (
    LISTENER_ID,
    MEMBER_IDS,
    POOL_ID,
    Backend,
    apply_request,
    fetch,
    free_vip,
    stub,
    wait_for,
)
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.common.v1 import runtime_pb2

pytestmark = pytest.mark.timeout(180)

APPLIED = pb.APPLY_RESULT_APPLIED
NEW_MEMBER = "1c0ffee0-0000-4000-8000-0000000000a3"
CHECK = "check inter 200ms fall 2 rise 2"


@pytest.fixture
def third_backend():
    backend = Backend("backend-c")
    try:
        yield backend
    finally:
        backend.stop()


def config(run_dir: str, vip, servers, marker: str = "") -> str:
    """A config shaped like the renderer's; servers: (member id, port, options) each."""
    lines = "\n".join(f"    server {m} 127.0.0.1:{port} {opts}" for m, port, opts in servers)
    return f"""# {marker}
global
    stats socket {run_dir}/haproxy.sock mode 600 level admin expose-fd listeners
    server-state-file {run_dir}/servers.state
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    load-server-state-from-file global

frontend {LISTENER_ID}
    bind {vip[0]}:{vip[1]}
    default_backend {POOL_ID}

backend {POOL_ID}
    balance roundrobin
{lines}

frontend lbaas-internal
    bind unix@{run_dir}/internal.sock
    http-request return status 200
"""


def plan(from_hash: str, commands, expected=()) -> runtime_pb2.RuntimePlan:
    return runtime_pb2.RuntimePlan(
        from_config_hash=from_hash,
        commands=list(commands),
        expected=[runtime_pb2.ServerState(**e) for e in expected],
    )


def with_plan(request: pb.ApplyConfigRequest, runtime_plan) -> pb.ApplyConfigRequest:
    request.runtime_plan.CopyFrom(runtime_plan)
    return request


def cli(agent, command: str, timeout: float = 5.0) -> str:
    """One command on the agent's haproxy admin socket, as the agent sends it."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(timeout)
        conn.connect(os.path.join(agent.run_dir, "haproxy.sock"))
        conn.sendall(command.encode() + b"\n")
        conn.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data.decode()


def servers_state(agent) -> dict[str, dict[str, str]]:
    """`show servers state <pool>` by server name: the documented columns of format 1."""
    text = cli(agent, f"show servers state {POOL_ID}")
    lines = text.splitlines()
    assert lines[0] == "1", text
    header = lines[1].lstrip("# ").split()
    rows = [dict(zip(header, line.split(), strict=True)) for line in lines[2:] if line.strip()]
    return {row["srv_name"]: row for row in rows}


def workers(agent) -> set[int]:
    """The haproxy master's children (its workers): a reload replaces them."""
    pids = agent.haproxy_pids()
    return set(pids[1:])


def serving_workers(agent) -> set[int]:
    """The workers, once the old ones a reload left have gone (bounded)."""
    return wait_for(lambda: (w := workers(agent)) and len(w) == 1 and w, 30, "a single worker")


def reached(vip, wanted: set[str], tries: int = 60) -> set[str]:
    seen: set[str] = set()
    for _ in range(tries):
        seen.add(fetch(vip))
        if wanted <= seen:
            break
        time.sleep(0.05)
    return seen


def test_a_plan_adding_a_member_applies_without_a_reload(agent, backends, third_backend):
    vip = free_vip()
    api = stub(agent.client())
    two = [(m, b.port, f"weight 1 {CHECK}") for m, b in zip(MEMBER_IDS, backends, strict=True)]
    three = [*two, (NEW_MEMBER, third_backend.port, f"weight 1 {CHECK}")]
    first = apply_request(config(agent.run_dir, vip, two), version="r1")
    answer = api.ApplyConfig(first, timeout=30)
    assert answer.result == APPLIED and not answer.runtime, answer.detail
    assert "runtime_plan" in api.GetInfo(pb.GetInfoRequest(), timeout=5).capabilities
    assert reached(vip, {"backend-a", "backend-b"}) == {"backend-a", "backend-b"}
    before = serving_workers(agent)
    reloads_before = api.GetDiagnostics(pb.GetDiagnosticsRequest(), timeout=10).last_reload

    second = apply_request(config(agent.run_dir, vip, three), version="r2")
    adding = plan(
        first.config_hash,
        [
            f"add server {POOL_ID}/{NEW_MEMBER} 127.0.0.1:{third_backend.port} weight 1 {CHECK}",
            f"enable health {POOL_ID}/{NEW_MEMBER}",
            f"enable server {POOL_ID}/{NEW_MEMBER}",
        ],
        [
            dict(
                backend=POOL_ID,
                server=NEW_MEMBER,
                present=True,
                address="127.0.0.1",
                port=third_backend.port,
                weight=1,
                maintenance=False,
            )
        ],
    )
    started = time.monotonic()
    answer = api.ApplyConfig(with_plan(second, adding), timeout=30)
    took = time.monotonic() - started
    assert answer.result == APPLIED, answer.detail
    assert answer.runtime and answer.runtime_fallback == ""
    assert answer.applied_config_hash == second.config_hash
    assert "runtime API" in answer.detail
    assert workers(agent) == before  # no reload: the same worker serves
    state = servers_state(agent)
    assert set(state) == {*MEMBER_IDS, NEW_MEMBER}
    assert state[NEW_MEMBER]["srv_port"] == str(third_backend.port)
    info = api.GetInfo(pb.GetInfoRequest(), timeout=5)
    assert info.applied_config_hash == second.config_hash
    assert info.applied_renderer_version == "r2"
    applied = api.GetAppliedConfig(pb.GetAppliedConfigRequest(), timeout=5)
    assert applied.config_hash == second.config_hash
    assert applied.files[0].content == second.files[0].content
    with open(os.path.join(agent.run_dir, "conf", "haproxy.cfg"), "rb") as fh:
        assert fh.read() == second.files[0].content  # swapped in place for the next reload
    diagnostics = api.GetDiagnostics(pb.GetDiagnosticsRequest(), timeout=10)
    assert diagnostics.last_apply.applied_config_hash == second.config_hash
    assert "runtime API" in diagnostics.last_apply.detail
    assert diagnostics.last_reload == reloads_before  # nothing was reloaded
    assert reached(vip, {"backend-a", "backend-b", "backend-c"}) == {
        "backend-a",
        "backend-b",
        "backend-c",
    }
    log_line = re.findall(
        r"over the runtime API: .*\((.*) ms, (.*) ms of them the plan\)", agent.log()
    )
    print(f"\n1-command-group plan: ApplyConfig round trip {took * 1000:.1f} ms; agent: {log_line}")

    # the next reload starts from the same files: a forced apply reloads them, all three serve
    answer = api.ApplyConfig(second, timeout=30)
    assert answer.result == pb.APPLY_RESULT_UNCHANGED
    second.force = True
    answer = api.ApplyConfig(second, timeout=30)
    assert answer.result == APPLIED and not answer.runtime, answer.detail
    assert answer.applied_config_hash == second.config_hash
    assert serving_workers(agent) != before
    assert set(servers_state(agent)) == {*MEMBER_IDS, NEW_MEMBER}
    assert reached(vip, {"backend-a", "backend-b", "backend-c"}) == {
        "backend-a",
        "backend-b",
        "backend-c",
    }


def test_plans_that_cannot_be_used_fall_back_to_a_reload(agent, backends):
    vip = free_vip()
    api = stub(agent.client())
    servers = [(m, b.port, "weight 1") for m, b in zip(MEMBER_IDS, backends, strict=True)]
    first = apply_request(config(agent.run_dir, vip, servers, "1"))
    assert api.ApplyConfig(first, timeout=30).result == APPLIED
    before = serving_workers(agent)

    # a plan from another config than the one applied
    second = apply_request(config(agent.run_dir, vip, servers, "2"))
    stale = plan("0" * 64, [f"set server {POOL_ID}/{MEMBER_IDS[0]} weight 1"])
    answer = api.ApplyConfig(with_plan(second, stale), timeout=30)
    assert answer.result == APPLIED and not answer.runtime, answer.detail
    assert answer.runtime_fallback == (
        f"applied config hash {first.config_hash} is not the plan's {'0' * 64}"
    )
    assert answer.applied_config_hash == second.config_hash
    assert api.GetInfo(pb.GetInfoRequest(), timeout=5).applied_config_hash == second.config_hash
    after_stale = serving_workers(agent)
    assert after_stale != before  # reloaded

    # a command haproxy refuses, after one it took: reloaded from the new files
    heavier = [(MEMBER_IDS[0], backends[0].port, "weight 5"), servers[1]]
    third = apply_request(config(agent.run_dir, vip, heavier, "3"))
    refused = plan(
        second.config_hash,
        [f"set server {POOL_ID}/{MEMBER_IDS[0]} weight 5", "set server nosuch/x weight 1"],
    )
    answer = api.ApplyConfig(with_plan(third, refused), timeout=30)
    assert answer.result == APPLIED and not answer.runtime, answer.detail
    assert "'set server nosuch/x weight 1' failed" in answer.runtime_fallback
    assert "No such backend." in answer.runtime_fallback
    assert answer.applied_config_hash == third.config_hash
    assert api.GetInfo(pb.GetInfoRequest(), timeout=5).applied_config_hash == third.config_hash
    assert serving_workers(agent) != after_stale
    assert servers_state(agent)[MEMBER_IDS[0]]["srv_uweight"] == "5"
    diagnostics = api.GetDiagnostics(pb.GetDiagnosticsRequest(), timeout=10)
    assert "runtime plan not used" in diagnostics.last_apply.detail
    assert "No such backend." in diagnostics.last_apply.detail
    assert reached(vip, {"backend-a", "backend-b"}) == {"backend-a", "backend-b"}
    assert "runtime plan for" in agent.log()  # logged at warning


def test_later_reloads_follow_the_config_not_the_runtime_changes(agent, backends, third_backend):
    """haproxy keeps a runtime weight while the configured one is unchanged, forced maintenance
    while `disabled` is unchanged, and takes a server's port from its state file: a config that
    changes back what a runtime plan changed must still win at its reload."""
    vip = free_vip()
    api = stub(agent.client())
    m1, m2 = MEMBER_IDS
    a, b = backends
    original = [(m1, a.port, "weight 1"), (m2, b.port, "weight 1")]
    first = apply_request(config(agent.run_dir, vip, original, "1"))
    assert api.ApplyConfig(first, timeout=30).result == APPLIED
    before = serving_workers(agent)

    changed = [(m1, third_backend.port, "weight 3"), (m2, b.port, "weight 1 disabled")]
    second = apply_request(config(agent.run_dir, vip, changed, "2"))
    change = plan(
        first.config_hash,
        [
            f"set server {POOL_ID}/{m1} addr 127.0.0.1 port {third_backend.port}",
            f"set server {POOL_ID}/{m1} weight 3",
            f"set server {POOL_ID}/{m2} state maint",
        ],
        [
            dict(backend=POOL_ID, server=m1, present=True, address="127.0.0.1",
                 port=third_backend.port, weight=3, maintenance=False),
            dict(backend=POOL_ID, server=m2, present=True, address="127.0.0.1",
                 port=b.port, weight=1, maintenance=True),
        ],
    )  # fmt: skip
    answer = api.ApplyConfig(with_plan(second, change), timeout=30)
    assert answer.result == APPLIED and answer.runtime, answer.runtime_fallback
    assert workers(agent) == before
    assert reached(vip, {"backend-c"}, tries=5) == {"backend-c"}  # m2 in maintenance

    # back to the original members, by a reload
    third = apply_request(config(agent.run_dir, vip, original, "3"))
    answer = api.ApplyConfig(third, timeout=30)
    assert answer.result == APPLIED and not answer.runtime, answer.detail
    assert serving_workers(agent) != before
    state = servers_state(agent)
    assert (state[m1]["srv_port"], state[m1]["srv_uweight"]) == (str(a.port), "1")
    assert int(state[m2]["srv_admin_state"]) & 0x23 == 0  # out of maintenance
    assert reached(vip, {"backend-a", "backend-b"}) == {"backend-a", "backend-b"}


def test_an_agent_with_runtime_plans_switched_off(make_agent, backends):
    agent = make_agent(extra_args=("--no-runtime-plans",))
    agent.start()
    api = stub(agent.client())
    info = api.GetInfo(pb.GetInfoRequest(), timeout=5)
    assert "runtime_plan" not in info.capabilities
    assert "hitless-reload" in info.capabilities

    # a plan sent anyway is ignored, as by the release before: the change reloads
    vip = free_vip()
    servers = [(m, b.port, "weight 1") for m, b in zip(MEMBER_IDS, backends, strict=True)]
    first = apply_request(config(agent.run_dir, vip, servers, "1"))
    assert api.ApplyConfig(first, timeout=30).result == APPLIED
    before = serving_workers(agent)
    second = apply_request(config(agent.run_dir, vip, servers, "2"))
    answer = api.ApplyConfig(with_plan(second, plan(first.config_hash, [])), timeout=30)
    assert answer.result == APPLIED, answer.detail
    assert not answer.runtime and answer.runtime_fallback == ""
    assert serving_workers(agent) != before
