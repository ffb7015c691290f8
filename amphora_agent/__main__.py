"""Entry point: python -m amphora_agent --amphora-id ... (see config.py for the flags)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

# gRPC's fork handlers crash a child forked while gRPC threads are busy; the agent forks haproxy
# (preexec_fn for PDEATHSIG) and never uses gRPC in a child, so they are switched off.
os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "false"

from amphora_agent.config import parse_settings  # noqa: E402
from amphora_agent.server import serve  # noqa: E402
from services.common import tracing  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("LBAAS_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s %(levelname)s agent[{settings.amphora_id}] %(name)s: %(message)s",
    )
    # Spans beside its runtime files unless told where (the compute drivers say: the
    # orchestrator's run dir, or OTLP).
    tracing.setup_tracing(
        "amphora-agent",
        default_file=Path(settings.runtime_dir) / "traces.jsonl",
        attributes={"service.instance.id": settings.amphora_id},
    )
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
