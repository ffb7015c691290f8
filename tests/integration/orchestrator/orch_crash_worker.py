"""A worker process whose agent never answers ApplyConfig: the test SIGKILLs it mid-job."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orch_fakes import FakeAgent, FakeCompute, FakeRenderer, make_settings  # noqa: E402

from services.orchestrator.bootstrap import build  # noqa: E402
from services.orchestrator.server import start_worker  # noqa: E402


async def main(database_url: str, run_dir: str) -> None:
    agent = FakeAgent()
    agent.hang = True
    orch = build(
        make_settings(database_url, Path(run_dir)),
        compute=FakeCompute(),
        agent=agent,
        renderer=FakeRenderer(),
    )
    await orch.worker_app.open_async()
    (worker,) = start_worker(orch, sweep=False)
    await worker


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
