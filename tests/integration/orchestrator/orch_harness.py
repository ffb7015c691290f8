"""Starts a real orchestrator (gRPC on port 0, in-process worker) with fake drivers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc
from orch_fakes import FakeAgent, FakeCompute, FakeRenderer

from services.orchestrator.adapters.network_loopback import SUBNET_ID as LOOPBACK_SUBNET
from services.orchestrator.bootstrap import build
from services.orchestrator.config import Settings
from services.orchestrator.server import Running, serve

ALICE = pb.Scope(project_id="alice")
BOB = pb.Scope(project_id="bob")
ADMIN = pb.Scope(all_projects=True)


@dataclass
class Stack:
    stub: pb_grpc.OrchestratorServiceStub
    running: Running
    compute: FakeCompute
    agent: FakeAgent
    renderer: FakeRenderer


@contextlib.asynccontextmanager
async def orchestrator(
    settings: Settings,
    *,
    worker: bool = True,
    compute: FakeCompute | None = None,
    agent: FakeAgent | None = None,
    renderer: FakeRenderer | None = None,
    renderers: dict[str, FakeRenderer] | None = None,
) -> AsyncIterator[Stack]:
    """renderers: one fake per backend (Stack.renderer is the haproxy one); else `renderer`
    serves every backend."""
    compute, agent, renderer = (
        compute or FakeCompute(),
        agent or FakeAgent(),
        renderer or (renderers or {}).get("haproxy") or FakeRenderer(),
    )
    agent.events = compute.events  # drains and deletes in one order
    if renderers is not None:
        orch = build(settings, compute=compute, agent=agent, renderers=renderers)
    else:
        orch = build(settings, compute=compute, agent=agent, renderer=renderer)
    running = await serve(orch, "127.0.0.1:0", worker=worker)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Stack(pb_grpc.OrchestratorServiceStub(channel), running, compute, agent, renderer)
    finally:
        await channel.close()
        await running.stop(grace=0)


async def create_lb(stub, scope=ALICE, name="lb1", **vip) -> graph_pb2.LoadBalancer:
    lb = graph_pb2.LoadBalancer(
        meta=graph_pb2.ResourceMeta(name=name, admin_state_up=True),
        vip=graph_pb2.Vip(
            subnet_id=vip.get("subnet_id", LOOPBACK_SUBNET), address=vip.get("address", "")
        ),
    )
    resp = await stub.CreateLoadBalancer(pb.CreateLoadBalancerRequest(scope=scope, loadbalancer=lb))
    return resp.loadbalancer


async def wait_for(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}")


async def lb_status(stub, lb_id: str, scope=ADMIN) -> str:
    resp = await stub.GetLoadBalancer(pb.GetLoadBalancerRequest(scope=scope, id=lb_id))
    return (
        graph_pb2.ResourceMeta.DESCRIPTOR.fields_by_name["provisioning_status"]
        .enum_type.values_by_number[resp.loadbalancer.meta.provisioning_status]
        .name
    )
