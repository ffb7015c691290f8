"""Entry point: python -m amphora_agent --amphora-id ... (see config.py for the flags)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvloop

# gRPC's fork handlers crash a child forked while gRPC threads are busy; the agent forks haproxy
# (preexec_fn for PDEATHSIG) and never uses gRPC in a child, so they are switched off.
os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "false"

from amphora_agent import log_offload  # noqa: E402
from amphora_agent.config import parse_settings  # noqa: E402
from amphora_agent.server import serve  # noqa: E402
from services.common import logs, tracing  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(argv)
    # LBAAS_LOG_LEVEL and LBAAS_LOG_FORMAT (json: one object per line, with the amphora id).
    logs.configure(
        "amphora-agent",
        fields={"amphora_id": settings.amphora_id},
        text_format=f"%(asctime)s %(levelname)s agent[{settings.amphora_id}] %(name)s: %(message)s",
    )
    # Its own records to the admin syslog targets; none on this host with local storage off.
    log_offload.install(settings)
    # Spans beside its runtime files unless told where (the compute drivers say: the
    # orchestrator's run dir, or OTLP).
    tracing.setup_tracing(
        "amphora-agent",
        default_file=Path(settings.runtime_dir) / "traces.jsonl",
        attributes={"service.instance.id": settings.amphora_id},
    )
    uvloop.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
