"""The probes a reconcile pass starts while it reads the desired state (jobs/reconcile._Probes):
they ask the agents of the amphorae the last pass served, and answer only for the same ones whose
agents answered."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from services.common.errors import Unavailable
from services.orchestrator.jobs.reconcile import Amphora, _Probes


class _Compute:
    def __init__(self, dead: set[str]):
        self.dead = dead
        self.asked: list[str] = []

    async def is_alive(self, compute_id: str) -> bool:
        self.asked.append(compute_id)
        return compute_id not in self.dead


class _Agent:
    def __init__(self, silent: set[str], hang: set[str] = frozenset()):
        self.silent, self.hang = silent, hang
        self.cancelled: list[str] = []

    async def get_info(self, address: str, amphora_id: str):
        if amphora_id in self.hang:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancelled.append(amphora_id)
                raise
        if amphora_id in self.silent:
            raise Unavailable(f"{amphora_id} does not answer")
        return SimpleNamespace(amphora_id=amphora_id, address=address)


def _amphora(name: str, address: str = "") -> Amphora:
    return Amphora(name, f"c-{name}", address or f"10.0.0.{len(name)}:9443", 9443)


def test_answers_for_the_same_amphorae_whose_agents_answer() -> None:
    up, moved, silent = (_amphora(n) for n in ("up", "moved", "silent"))
    compute, agent = _Compute(set()), _Agent({"silent"})

    async def main():
        probes = _Probes(SimpleNamespace(compute=compute, agent=agent), (up, moved, silent))
        try:
            now = [up, _amphora("moved", "10.9.9.9:9443"), silent, _amphora("new")]
            return await probes.answers(now)
        finally:
            await probes.close()

    found = asyncio.run(main())
    # moved: another agent address; silent: GetInfo failed; new: not probed
    assert set(found) == {"up"} and found["up"].amphora_id == "up"
    # An agent that answers is up: the compute driver is left to the pass's own checks.
    assert compute.asked == []


def test_close_cancels_the_probes_not_used() -> None:
    agent = _Agent(set(), hang={"slow"})

    async def main():
        probes = _Probes(SimpleNamespace(compute=_Compute(set()), agent=agent), (_amphora("slow"),))
        await asyncio.sleep(0.01)
        await probes.close()

    asyncio.run(main())
    assert agent.cancelled == ["slow"]


def test_a_recent_answer_stands_in_for_asking_until_it_is_stale() -> None:
    from dataclasses import replace

    from services.orchestrator.domain.ports import AgentInfo
    from services.orchestrator.jobs.reconcile import AgentAnswers

    up = _amphora("up")
    info = AgentInfo("up", "1.0", "haproxy", "2.8", "3.0", "", "/run", "h1")
    agent = _Agent(set())
    drivers = SimpleNamespace(compute=_Compute(set()), agent=agent)

    async def asked(known: AgentAnswers) -> tuple[dict, bool]:
        probes = _Probes(drivers, (up,), known)
        try:
            return await probes.answers([up]), probes.reused([up])
        finally:
            await probes.close()

    known = AgentAnswers(fresh=60)
    known.put(up, info)
    known.applied(up, "h2")  # it answered an ApplyConfig since
    found, reused = asyncio.run(asked(known))
    assert reused and found["up"] == replace(info, applied_config_hash="h2")
    # Another compute instance (rebuilt) is not the one that answered.
    assert known.get(replace(up, compute_id="c-other")) is None

    stale = AgentAnswers(fresh=0)
    stale.put(up, info)
    found, reused = asyncio.run(asked(stale))
    assert not reused and found["up"].amphora_id == "up"  # asked: the fake's answer
    assert stale.get(up) is None  # and that answer is stale at once too

    known.forget(up)
    assert known.get(up) is None
