"""A fake orchestrator (a real grpc.aio server) and helpers to run the health service against it."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from lbaas.common.v1 import graph_pb2
from lbaas.health.v1 import heartbeat_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc

from services.common.errors import NotFound, Unavailable, abort_with
from services.common.internal_tls import InternalTLS
from services.health import bootstrap
from services.health.config import Settings
from services.health.domain.amphora_keys import derive_amphora_key
from services.health.domain.envelope import seal

KEY_ID = "k1"
KEY = bytes.fromhex("5a" * 32)
OLD_KEY_ID = "k0"
OLD_KEY = bytes.fromhex("a5" * 32)


def graph() -> graph_pb2.LoadBalancer:
    """lb-1: listener l-1 -> pool p-1 (members m-1, m-2, health monitor hm-1)."""

    def meta(i: str) -> graph_pb2.ResourceMeta:
        return graph_pb2.ResourceMeta(id=i, admin_state_up=True, project_id="proj")

    return graph_pb2.LoadBalancer(
        meta=meta("lb-1"),
        listeners=[graph_pb2.Listener(meta=meta("l-1"), default_pool_id="p-1")],
        pools=[
            graph_pb2.Pool(
                meta=meta("p-1"),
                members=[graph_pb2.Member(meta=meta("m-1")), graph_pb2.Member(meta=meta("m-2"))],
                healthmonitor=graph_pb2.HealthMonitor(meta=meta("hm-1"), pool_id="p-1"),
            )
        ],
    )


@dataclass
class FakeOrchestrator(pb_grpc.OrchestratorServiceServicer):
    amphorae: dict[str, str] = field(default_factory=lambda: {"amp-1": "lb-1"})
    loadbalancers: dict[str, graph_pb2.LoadBalancer] = field(
        default_factory=lambda: {"lb-1": graph()}
    )
    # amphora id -> the config hash recorded as applied (drift is a heartbeat that differs)
    applied_hash: dict[str, str] = field(default_factory=dict)
    get_amphora_calls: list[pb.GetAmphoraRequest] = field(default_factory=list)
    get_lb_calls: list[pb.GetLoadBalancerRequest] = field(default_factory=list)
    set_calls: list[pb.SetOperatingStatusesRequest] = field(default_factory=list)
    failover_calls: list[pb.FailoverAmphoraRequest] = field(default_factory=list)
    configure_calls: list[pb.ConfigureAmphoraRequest] = field(default_factory=list)
    set_attempts: int = 0
    fail_set: int = 0  # fail this many SetOperatingStatuses calls with UNAVAILABLE
    # amphora ids a failover was claimed for (the orchestrator's test-and-set)
    failing_over: set[str] = field(default_factory=set)

    async def GetAmphora(self, request, context):
        self.get_amphora_calls.append(request)
        if request.id not in self.amphorae:
            await abort_with(context, NotFound(f"amphora {request.id} not found"))
        return pb.GetAmphoraResponse(
            amphora=pb.Amphora(
                id=request.id,
                loadbalancer_id=self.amphorae[request.id],
                status="ALLOCATED" if self.amphorae[request.id] else "READY",
                applied_config_hash=self.applied_hash.get(request.id, ""),
            )
        )

    async def GetLoadBalancer(self, request, context):
        self.get_lb_calls.append(request)
        if not request.scope.all_projects or request.id not in self.loadbalancers:
            await abort_with(context, NotFound(f"load balancer {request.id} not found"))
        return pb.GetLoadBalancerResponse(loadbalancer=self.loadbalancers[request.id])

    async def SetOperatingStatuses(self, request, context):
        self.set_attempts += 1
        if self.fail_set > 0:
            self.fail_set -= 1
            await abort_with(context, Unavailable("database is away"))
        self.set_calls.append(request)
        return pb.SetOperatingStatusesResponse(changed=len(request.statuses))

    async def FailoverAmphora(self, request, context):
        self.failover_calls.append(request)
        if request.id not in self.amphorae:
            await abort_with(context, NotFound(f"amphora {request.id} not found"))
        claimed = request.id not in self.failing_over
        self.failing_over.add(request.id)
        return pb.FailoverAmphoraResponse(claimed=claimed)

    async def ConfigureAmphora(self, request, context):
        self.configure_calls.append(request)
        if request.id not in self.amphorae:
            await abort_with(context, NotFound(f"amphora {request.id} not found"))
        return pb.ConfigureAmphoraResponse(claimed=True)

    def statuses(self, index: int = -1) -> dict[str, int]:
        return {s.id: s.operating_status for s in self.set_calls[index].statuses}


def make_heartbeat(
    sequence: int,
    *,
    members: dict[str, str] | None = None,
    amphora_id: str = "amp-1",
    boot_id: str = "boot-1",
) -> heartbeat_pb2.Heartbeat:
    sent_at = Timestamp()
    sent_at.GetCurrentTime()
    return heartbeat_pb2.Heartbeat(
        amphora_id=amphora_id,
        sequence=sequence,
        sent_at=sent_at,
        boot_id=boot_id,
        applied_config_hash="cfg-1",
        listeners=[heartbeat_pb2.ListenerReport(listener_id="l-1", status="OPEN")],
        pools=[
            heartbeat_pb2.PoolReport(
                pool_id="p-1",
                status="UP",
                members=[
                    heartbeat_pb2.MemberReport(member_id=m, status=s)
                    for m, s in (members or {"m-1": "UP", "m-2": "UP"}).items()
                ],
            )
        ],
    )


def signed(hb: heartbeat_pb2.Heartbeat, key_id: str = KEY_ID, master: bytes = KEY) -> bytes:
    """hb as its own agent signs it: with the key derived from master for hb.amphora_id."""
    return seal(hb, key_id, derive_amphora_key(master, hb.amphora_id))


async def eventually(predicate: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def fake_orchestrator(
    tls: InternalTLS | None = None,
) -> AsyncIterator[tuple[FakeOrchestrator, str]]:
    """tls: serve as the orchestrator's identity, with its caller policy (as a real one does
    to a health process started as `python -m services.health`)."""
    fake = FakeOrchestrator()
    server = grpc.aio.server(interceptors=[tls.interceptor()] if tls else [])
    pb_grpc.add_OrchestratorServiceServicer_to_server(fake, server)
    if tls is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        port = server.add_secure_port("127.0.0.1:0", tls.server_credentials())
    await server.start()
    try:
        yield fake, f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


def write_key_file(directory: Path) -> Path:
    path = directory / f"heartbeat-{uuid.uuid4().hex}.keys"
    path.write_text(f"{KEY_ID} {KEY.hex()}\n{OLD_KEY_ID} {OLD_KEY.hex()}\n")
    return path


@dataclass
class Stack:
    app: bootstrap.HealthApp
    orchestrator: FakeOrchestrator
    sock: socket.socket
    channel: grpc.aio.Channel

    def send(self, datagram: bytes) -> None:
        self.sock.sendto(datagram, ("127.0.0.1", self.app.udp_port))


@asynccontextmanager
async def running_stack(
    tmp_path: Path, database_url: str, *, stale_after: float = 30.0, **settings_kw
) -> AsyncIterator[Stack]:
    async with fake_orchestrator() as (fake, address):
        settings = Settings(
            grpc_addr="127.0.0.1:0",
            udp_addr="127.0.0.1:0",
            orchestrator_addr=address,
            key_file=write_key_file(tmp_path),
            database_url=database_url,
            stale_after=stale_after,
            rpc_timeout=2.0,
            **settings_kw,
        )
        app = await bootstrap.start(settings)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}")
        try:
            yield Stack(app=app, orchestrator=fake, sock=sock, channel=channel)
        finally:
            await channel.close()
            sock.close()
            await app.stop(0)
