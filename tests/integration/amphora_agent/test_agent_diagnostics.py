"""GetDiagnostics and GetLogs of a real agent running real haproxy: processes and uptime, the
engine's listening sockets, the last apply and (re)load with haproxy's error output (kept across
an agent restart), and log tails with their cap."""

from __future__ import annotations

import os
import re
import socket
import subprocess

import grpc
from agent_harness import (
    CONFLICT_LISTENER_ID,
    POOL_ID,
    apply_request,
    free_vip,
    render,
    stub,
)
from lbaas.amphora.v1 import amphora_service_pb2 as pb

APPLIED = pb.APPLY_RESULT_APPLIED
ROLLED_BACK = pb.APPLY_RESULT_ROLLED_BACK


def _haproxy_version() -> str:
    out = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout
    return re.search(r"version (\d+\.\d+\.\d+)", out).group(1)


def _diagnostics(api) -> pb.GetDiagnosticsResponse:
    return api.GetDiagnostics(pb.GetDiagnosticsRequest(), timeout=10)


def test_diagnostics_report_processes_sockets_and_the_last_reload(make_agent, backends):
    agent = make_agent()
    agent.start()
    api = stub(agent.client())
    before = _diagnostics(api)
    assert {"diagnostics", "logs"} <= set(before.info.capabilities)
    assert before.info.haproxy_version == _haproxy_version()
    assert not before.engine_running and not before.HasField("last_apply")
    assert [p.role for p in before.processes] == ["agent"]

    vip = free_vip()
    first = apply_request(render(agent.run_dir, vip, backends), version="r1")
    assert api.ApplyConfig(first, timeout=30).result == APPLIED
    found = _diagnostics(api)
    assert found.engine_running
    roles = [p.role for p in found.processes]
    assert roles[:2] == ["agent", "master"] and "worker" in roles, roles
    master = found.processes[1]
    assert master.name == "haproxy" and master.pid in agent.haproxy_pids()
    assert all(p.uptime_seconds >= 0 and p.started_at.seconds > 0 for p in found.processes)
    sockets = {(s.protocol, s.address, s.port) for s in found.listening_sockets}
    assert ("tcp", vip[0], vip[1]) in sockets, sockets
    # Only haproxy's: the agent's own gRPC port (same namespace) is not listed.
    assert all(s.port != agent.port for s in found.listening_sockets)
    assert found.last_apply.result == APPLIED
    assert found.last_apply.config_hash == first.config_hash
    assert found.last_apply.renderer_version == "r1" and not found.last_apply.force
    assert (found.last_reload.action, found.last_reload.ok) == ("start", True)
    assert found.last_reload.config_hash == first.config_hash
    assert not found.HasField("last_failed_reload")

    # Passes `haproxy -c` but cannot bind at reload: the failure and haproxy's words are kept.
    blocker = socket.socket()
    try:
        taken = free_vip()
        blocker.bind(taken)
        blocker.listen()
        extra = (
            f"\nfrontend {CONFLICT_LISTENER_ID}\n    bind {taken[0]}:{taken[1]}\n"
            f"    default_backend {POOL_ID}\n"
        )
        clash = apply_request(
            render(agent.run_dir, vip, backends).replace("\nbackend ", extra + "\nbackend ", 1)
        )
        assert api.ApplyConfig(clash, timeout=60).result == ROLLED_BACK
    finally:
        blocker.close()
    found = _diagnostics(api)
    failed = found.last_failed_reload
    assert (failed.action, failed.ok) == ("reload", False)
    assert failed.config_hash == clash.config_hash
    assert "bind" in failed.error.lower(), failed.error
    assert (found.last_reload.action, found.last_reload.ok) == ("rollback", True)
    assert found.last_reload.config_hash == first.config_hash
    assert found.last_apply.result == ROLLED_BACK and failed.error in found.last_apply.detail

    # A restarted agent still knows (last-operations.json); its haproxy starts again.
    agent.stop()
    agent.start()
    api = stub(agent.client())
    found = _diagnostics(api)
    assert found.last_failed_reload == failed
    assert found.last_apply.result == ROLLED_BACK
    assert (found.last_reload.action, found.last_reload.ok) == ("start", True)


def test_logs_return_the_last_lines_within_the_cap(agent, backends):
    api = stub(agent.client())
    vip = free_vip()
    assert api.ApplyConfig(apply_request(render(agent.run_dir, vip, backends)), timeout=30).result
    # The compute drivers send the agent's output to <runtime dir>/agent.log; this harness
    # sends it elsewhere, so stand-in lines go there.
    with open(os.path.join(agent.run_dir, "agent.log"), "w") as fh:
        fh.write("".join(f"line {i}\n" for i in range(1, 2001)))

    answer = api.GetLogs(pb.GetLogsRequest(lines=3), timeout=10)
    logs = {t.source: t for t in answer.logs}
    assert set(logs) == {"agent", "engine"}
    assert logs["agent"].lines == ["line 1998", "line 1999", "line 2000"]
    assert logs["agent"].found and not logs["agent"].truncated
    engine = logs["engine"]
    assert engine.path == os.path.join(agent.run_dir, "haproxy.log") and engine.found
    assert 0 < len(engine.lines) <= 3

    most = {t.source: t for t in api.GetLogs(pb.GetLogsRequest(lines=1000), timeout=10).logs}
    assert most["agent"].lines[0] == "line 1001" and len(most["agent"].lines) == 1000
    default = {t.source: t for t in api.GetLogs(pb.GetLogsRequest(), timeout=10).logs}
    assert len(default["agent"].lines) == 100
    try:
        api.GetLogs(pb.GetLogsRequest(lines=1001), timeout=10)
        raise AssertionError("1001 lines were not refused")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "lines" in err.details()
