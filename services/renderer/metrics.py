"""The renderer's own metric: how long a rendering takes, per backend (docs/operations.md)."""

from __future__ import annotations

from prometheus_client import Histogram

# Renders that produced a config; a refusal (a feature the target cannot run) is counted by the
# gRPC metrics, as Render calls answered INVALID_ARGUMENT or FAILED_PRECONDITION.
RENDER_SECONDS = Histogram(
    "lbaas_renderer_render_seconds",
    "Time to render one load balancer's config, by backend (haproxy, nginx, f5-as3).",
    ["backend"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
