"""The amphora agent as a real process with real haproxy: mTLS, apply/rollback, hitless
reloads, heartbeats and clean-up when the agent dies."""

from __future__ import annotations

import hashlib
import hmac
import signal
import socket
import struct
import threading
import time

import grpc
import pytest
from agent_harness import (
    CONFLICT_LISTENER_ID,
    HEARTBEAT_KEY,
    LISTENER_ID,
    MEMBER_IDS,
    POOL_ID,
    apply_request,
    fetch,
    free_vip,
    pid_alive,
    render,
    stub,
    wait_for,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from lbaas.amphora.v1 import amphora_service_pb2 as pb
from lbaas.health.v1 import heartbeat_pb2

pytestmark = pytest.mark.timeout(180)

APPLIED, UNCHANGED = pb.APPLY_RESULT_APPLIED, pb.APPLY_RESULT_UNCHANGED
INVALID, ROLLED_BACK = pb.APPLY_RESULT_INVALID, pb.APPLY_RESULT_ROLLED_BACK


def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    return failure.value.code()


def test_only_the_controller_certificate_is_accepted(agent, pki):
    # no client certificate, and a controller-named certificate from a foreign CA: no handshake
    for who in (None, pki.foreign):
        with agent.client(who) if who else _no_cert(agent, pki) as chan:
            assert _code(lambda c=chan: stub(c).GetInfo(pb.GetInfoRequest(), timeout=5)) in (
                grpc.StatusCode.UNAVAILABLE,
            )
    # the right CA but not the controller's name: the handshake passes, the call is refused
    with agent.client(pki.stranger) as chan:
        assert _code(lambda: stub(chan).GetInfo(pb.GetInfoRequest(), timeout=5)) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
        health = health_pb2_grpc.HealthStub(chan)
        assert _code(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5)) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    with agent.client() as chan:
        info = stub(chan).GetInfo(pb.GetInfoRequest(), timeout=5)
        health = health_pb2_grpc.HealthStub(chan).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert info.amphora_id == agent.amphora_id
    assert info.api_version == "1.1"  # root with a haproxy user: workers drop root
    assert info.haproxy_version.count(".") == 2 and info.haproxy_version[0].isdigit()
    assert info.openssl_version[0].isdigit()
    assert info.backend_type == "haproxy"
    assert info.runtime_dir == agent.run_dir
    assert info.applied_config_hash == ""
    assert "hitless-reload" in info.capabilities


def _no_cert(agent, pki):
    from agent_harness import channel

    return channel(agent.port, pki, agent.amphora_id, None)


def test_apply_invalid_rollback_and_hitless_reloads(agent, backends):
    vip = free_vip()
    api = stub(agent.client())
    first = apply_request(render(agent.run_dir, vip, backends), version="r1")
    answer = api.ApplyConfig(first, timeout=30)
    assert answer.result == APPLIED, answer.detail
    assert answer.applied_config_hash == first.config_hash
    assert {fetch(vip) for _ in range(6)} == {"backend-a", "backend-b"}

    assert api.ApplyConfig(first, timeout=30).result == UNCHANGED
    applied = api.GetAppliedConfig(pb.GetAppliedConfigRequest(), timeout=5)
    assert applied.config_hash == first.config_hash and applied.renderer_version == "r1"
    assert [(f.path, f.content, f.mode) for f in applied.files] == [
        (f.path, f.content, f.mode) for f in first.files
    ]
    assert api.GetInfo(pb.GetInfoRequest(), timeout=5).applied_config_hash == first.config_hash
    stats = api.GetStats(pb.GetStatsRequest(), timeout=5).listeners
    assert [s.listener_id for s in stats] == [LISTENER_ID]  # lbaas-internal is not reported
    assert stats[0].total_connections >= 6 and stats[0].bytes_out > 0

    # malformed requests are refused outright
    lying = apply_request(render(agent.run_dir, vip, backends, marker="x"))
    lying.config_hash = "0" * 64
    assert _code(lambda: api.ApplyConfig(lying, timeout=30)) == grpc.StatusCode.INVALID_ARGUMENT
    for bad in ("../evil.cfg", "/etc/evil.cfg", "certs/../../x.pem"):
        unsafe = apply_request(render(agent.run_dir, vip, backends), extra={bad: b"x"})
        assert _code(lambda u=unsafe: api.ApplyConfig(u, timeout=30)) == (
            grpc.StatusCode.INVALID_ARGUMENT
        )

    # invalid: haproxy -c refuses it, nothing changes, traffic flows
    broken = render(agent.run_dir, vip, backends).replace("balance roundrobin", "balance nonsense")
    answer = api.ApplyConfig(apply_request(broken), timeout=30)
    assert answer.result == INVALID
    assert "balance only supports" in answer.detail
    assert answer.applied_config_hash == first.config_hash
    assert {fetch(vip) for _ in range(4)} == {"backend-a", "backend-b"}

    # passes -c but cannot bind at reload: rolled back, old config serving again
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
        answer = api.ApplyConfig(clash, timeout=60)
    finally:
        blocker.close()
    assert answer.result == ROLLED_BACK, answer.detail
    assert "bind" in answer.detail.lower() or "listener" in answer.detail.lower()
    assert answer.applied_config_hash == first.config_hash
    assert api.GetInfo(pb.GetInfoRequest(), timeout=5).applied_config_hash == first.config_hash
    assert {fetch(vip) for _ in range(4)} == {"backend-a", "backend-b"}

    # hitless: 200 requests while 5 different configs are applied
    failures, answers, done = [], [], threading.Event()

    def load():
        for _ in range(200):
            try:
                answers.append(fetch(vip))
            except Exception as exc:  # noqa: BLE001 - every failure counts
                failures.append(repr(exc))
            time.sleep(0.01)
        done.set()

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    for step in range(5):
        request = apply_request(render(agent.run_dir, vip, backends, marker=f"step {step}"))
        answer = api.ApplyConfig(request, timeout=30)
        assert answer.result == APPLIED, answer.detail
    assert done.wait(60)
    assert failures == []
    assert len(answers) == 200 and set(answers) == {"backend-a", "backend-b"}


def _heartbeats(sock, count):
    for _ in range(count):
        data, _ = sock.recvfrom(65535)
        envelope = heartbeat_pb2.HeartbeatEnvelope.FromString(data)
        assert envelope.version == 1 and envelope.key_id == "k1"
        signed = struct.pack(">I", 1) + b"k1\x00" + envelope.payload
        expected = hmac.new(HEARTBEAT_KEY, signed, hashlib.sha256).digest()
        assert hmac.compare_digest(expected, envelope.hmac_sha256)
        yield heartbeat_pb2.Heartbeat.FromString(envelope.payload)


def test_heartbeats_are_signed_and_follow_member_health(agent, backends, heartbeat_socket):
    first = list(_heartbeats(heartbeat_socket, 2))  # before any config: still sent, empty
    assert first[0].amphora_id == agent.amphora_id
    assert first[1].sequence > first[0].sequence >= 1
    assert first[0].listeners == [] and first[0].applied_config_hash == ""

    vip = free_vip()
    api = stub(agent.client())
    request = apply_request(render(agent.run_dir, vip, backends))
    assert api.ApplyConfig(request, timeout=30).result == APPLIED
    fetch(vip)

    def members_are(wanted):
        def check():
            for beat in _heartbeats(heartbeat_socket, 1):
                pools = {p.pool_id: p for p in beat.pools}
                if POOL_ID not in pools or beat.applied_config_hash != request.config_hash:
                    return None
                got = {m.member_id: m.status for m in pools[POOL_ID].members}
                return beat if got == wanted else None

        return wait_for(check, 15, f"members {wanted}")

    up = members_are({MEMBER_IDS[0]: "UP", MEMBER_IDS[1]: "UP"})
    assert [(li.listener_id, li.status) for li in up.listeners] == [(LISTENER_ID, "OPEN")]
    assert up.listeners[0].total_connections >= 1
    assert up.boot_id == first[0].boot_id and up.sequence > first[1].sequence

    backends[1].stop()
    down = members_are({MEMBER_IDS[0]: "UP", MEMBER_IDS[1]: "DOWN"})
    assert {p.pool_id: p.status for p in down.pools} == {POOL_ID: "UP"}

    # member health survives a reload (server state file), so the dead member stays DOWN
    again = apply_request(render(agent.run_dir, vip, backends, marker="reload"))
    assert api.ApplyConfig(again, timeout=30).result == APPLIED
    for beat in _heartbeats(heartbeat_socket, 3):
        if beat.applied_config_hash == again.config_hash and beat.pools:
            statuses = {m.member_id: m.status for m in beat.pools[0].members}
            assert statuses[MEMBER_IDS[1]] == "DOWN"


def test_restart_recovers_and_sigkill_takes_haproxy_down(make_agent, backends):
    agent = make_agent()
    agent.start()
    vip = free_vip()
    request = apply_request(render(agent.run_dir, vip, backends))
    with agent.client() as chan:
        assert stub(chan).ApplyConfig(request, timeout=30).result == APPLIED
    assert fetch(vip)
    pids = agent.haproxy_pids()
    assert len(pids) >= 2  # master and a worker

    # SIGTERM: the agent exits cleanly and stops haproxy
    assert agent.stop(signal.SIGTERM) == 0
    wait_for(lambda: not any(pid_alive(p) for p in pids), 10, "haproxy to stop on SIGTERM")

    # restart: haproxy comes back with the config already on disk
    agent.start()
    assert fetch(vip) in ("backend-a", "backend-b")
    with agent.client() as chan:
        api = stub(chan)
        assert api.GetInfo(pb.GetInfoRequest(), timeout=5).applied_config_hash == (
            request.config_hash
        )
        assert api.ApplyConfig(request, timeout=30).result == UNCHANGED
    pids = agent.haproxy_pids()
    assert len(pids) >= 2

    # SIGKILL: nobody stops haproxy but PDEATHSIG
    agent.stop(signal.SIGKILL)
    wait_for(lambda: not any(pid_alive(p) for p in pids), 10, "haproxy to die with the agent")
