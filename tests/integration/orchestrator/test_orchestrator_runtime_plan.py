"""Runtime plans in the reconcile pass (real PostgreSQL and gRPC, fake drivers): the renderer is
given the files an agent runs only when the agent takes plans and this process applied them,
and a plan goes only to such an agent; an agent a release behind gets full configs."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from orch_fakes import FakeAgent, make_settings
from orch_harness import ALICE, create_lb, lb_status, orchestrator, wait_for

from services.orchestrator.jobs.reconcile import AppliedFiles


async def _active(stub, lb_id):
    return await lb_status(stub, lb_id) == "PROVISIONING_STATUS_ACTIVE"


async def _rename(stub, lb_id: str, name: str) -> None:
    await stub.UpdateLoadBalancer(
        pb.UpdateLoadBalancerRequest(
            scope=ALICE,
            loadbalancer=graph_pb2.LoadBalancer(meta=graph_pb2.ResourceMeta(id=lb_id, name=name)),
            update_mask=FieldMask(paths=["meta.name"]),
        )
    )


@pytest.mark.parametrize("takes_plans", [True, False], ids=["agent-takes-plans", "agent-behind"])
def test_plans_only_for_agents_that_take_them(database_url, run_dir, takes_plans):
    async def scenario():
        agent = FakeAgent()
        agent.runtime_plans_taken = takes_plans
        async with orchestrator(make_settings(database_url, run_dir), agent=agent) as st:
            lb = await create_lb(st.stub)
            await wait_for(lambda: _active(st.stub, lb.meta.id), what="first config")
            # The first config has nothing applied to start from: a full config, no plan.
            assert st.renderer.applied_files == [] and agent.plans == []
            await _rename(st.stub, lb.meta.id, "renamed")
            await wait_for(lambda: _active(st.stub, lb.meta.id), what="second config")
            if takes_plans:
                ((amphora_id, files),) = st.renderer.applied_files
                assert files[0][0] == "haproxy.cfg"
                ((planned_for, plan),) = agent.plans
                assert planned_for == amphora_id and plan.commands
            else:
                # One release behind: no applied files asked for, no plan sent, and the change
                # still converged through the full config.
                assert st.renderer.applied_files == [] and agent.plans == []
            assert agent.applied  # the new config is what the agent runs either way

    asyncio.run(scenario())


def test_applied_files_are_kept_by_hash_and_bounded():
    kept = AppliedFiles(size=2)
    kept.put("a", "h1", [("haproxy.cfg", b"1", 0o644)])
    assert kept.get("a", "h1") == [("haproxy.cfg", b"1", 0o644)]
    assert kept.get("a", "h2") == []  # the agent runs something else: no plan
    assert kept.get("a", "") == []
    kept.put("b", "h", [])
    kept.get("a", "h1")  # a was used last: b goes first
    kept.put("c", "h", [])
    assert kept.get("b", "h") == [] and kept.get("a", "h1")
