"""LBAAS_COMPUTE_DRIVER=noop: no amphora processes, a real renderer, load balancers end ACTIVE."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
import pytest
from lbaas.common.v1 import graph_pb2, status_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc
from orch_fakes import make_settings
from orch_harness import ALICE, create_lb, lb_status, wait_for

from services.common.server import start_server
from services.orchestrator.adapters.renderer_client import GrpcRenderer
from services.orchestrator.bootstrap import build
from services.orchestrator.config import Settings
from services.orchestrator.server import serve
from services.renderer.bootstrap import build_bindings
from services.renderer.config import Settings as RendererSettings


def test_settings_select_the_noop_driver():
    env = {"DATABASE_URL": "postgresql://u@/db", "LBAAS_COMPUTE_DRIVER": "noop"}
    assert Settings.from_env(env).compute_driver == "noop"
    assert Settings.from_env({"DATABASE_URL": "postgresql://u@/db"}).compute_driver == "local"


def test_noop_drivers_bring_a_full_load_balancer_to_active(database_url, run_dir):
    async def scenario():
        renderer_server, renderer_port = await start_server(
            build_bindings(RendererSettings("haproxy", "127.0.0.1:0", "INFO")), "127.0.0.1:0"
        )
        settings = dataclasses.replace(make_settings(database_url, run_dir), compute_driver="noop")
        orch = build(settings, renderer=GrpcRenderer(f"127.0.0.1:{renderer_port}"))
        running = await serve(orch, "127.0.0.1:0")
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        try:
            stub = pb_grpc.OrchestratorServiceStub(channel)
            lb = await create_lb(stub)
            listener = (
                await stub.CreateListener(
                    pb.CreateListenerRequest(
                        scope=ALICE,
                        listener=graph_pb2.Listener(
                            meta=graph_pb2.ResourceMeta(admin_state_up=True),
                            loadbalancer_id=lb.meta.id,
                            protocol="HTTP",
                            protocol_port=8080,
                        ),
                    )
                )
            ).listener
            pool = (
                await stub.CreatePool(
                    pb.CreatePoolRequest(
                        scope=ALICE,
                        listener_id=listener.meta.id,
                        pool=graph_pb2.Pool(
                            meta=graph_pb2.ResourceMeta(admin_state_up=True),
                            loadbalancer_id=lb.meta.id,
                            protocol="HTTP",
                            lb_algorithm="ROUND_ROBIN",
                        ),
                    )
                )
            ).pool
            await stub.CreateMember(
                pb.CreateMemberRequest(
                    scope=ALICE,
                    member=graph_pb2.Member(
                        meta=graph_pb2.ResourceMeta(admin_state_up=True),
                        pool_id=pool.meta.id,
                        address="10.0.0.5",
                        protocol_port=80,
                        weight=1,
                    ),
                )
            )

            async def active():
                if await lb_status(stub, lb.meta.id) != "PROVISIONING_STATUS_ACTIVE":
                    return False
                tree = (
                    await stub.GetLoadBalancerStatusTree(
                        pb.GetLoadBalancerStatusTreeRequest(scope=ALICE, id=lb.meta.id)
                    )
                ).tree
                nodes = [
                    tree.listeners[0].listener,
                    tree.listeners[0].pools[0].pool,
                    *tree.listeners[0].pools[0].members,
                ]
                return len(nodes) == 3 and all(
                    n.provisioning_status == status_pb2.PROVISIONING_STATUS_ACTIVE for n in nodes
                )

            await wait_for(active, what="load balancer ACTIVE with the noop drivers")
            amps = await stub.ListAmphorae(pb.ListAmphoraeRequest(loadbalancer_id=lb.meta.id))
            assert len(amps.amphorae) == 1
            amp = amps.amphorae[0]
            assert amp.compute_id == f"noop-{amp.id}" and amp.status == "ALLOCATED"
            # The hash came from the real renderer and was checked by the noop agent.
            assert len(amp.applied_config_hash) == 64
            assert not (run_dir / "amphorae").exists()  # no process, no files
        finally:
            await channel.close()
            await running.stop(grace=0)
            await renderer_server.stop(0)

    asyncio.run(scenario())


def test_api_and_worker_roles_split_the_work(database_url, run_dir):
    """LBAAS_ORCHESTRATOR_ROLE: an API-only process records the create and never reconciles;
    a worker-only process, which serves nothing but grpc.health, brings it to ACTIVE."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from orch_fakes import FakeAgent, FakeCompute, FakeRenderer

    async def scenario():
        settings = make_settings(database_url, run_dir)
        fakes = {"compute": FakeCompute(), "agent": FakeAgent(), "renderer": FakeRenderer()}
        api = await serve(build(settings, **fakes), "127.0.0.1:0", worker=False)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{api.port}")
        worker = None
        try:
            stub = pb_grpc.OrchestratorServiceStub(channel)
            lb = await create_lb(stub)
            await asyncio.sleep(1.5)  # three sweep intervals: nobody in the API process acts
            assert await lb_status(stub, lb.meta.id) == "PROVISIONING_STATUS_PENDING_CREATE"

            worker = await serve(build(settings, **fakes), "127.0.0.1:0", api=False)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{worker.port}") as wch:
                health = await health_pb2_grpc.HealthStub(wch).Check(
                    health_pb2.HealthCheckRequest()
                )
                assert health.status == health_pb2.HealthCheckResponse.SERVING
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await pb_grpc.OrchestratorServiceStub(wch).GetLoadBalancer(
                        pb.GetLoadBalancerRequest(scope=ALICE, id=lb.meta.id)
                    )
                assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
            for _ in range(200):
                if await lb_status(stub, lb.meta.id) == "PROVISIONING_STATUS_ACTIVE":
                    break
                await asyncio.sleep(0.1)
            assert await lb_status(stub, lb.meta.id) == "PROVISIONING_STATUS_ACTIVE"
        finally:
            await channel.close()
            if worker is not None:
                await worker.stop(grace=0)
            await api.stop(grace=0)

    asyncio.run(scenario())
