"""The orchestrator's own metrics: reconcile passes, the job queue, applies to the agents.

Defined once per process (prometheus_client's default registry); served by the process's
/metrics port when it has one (services/common/metrics.py). Counted always: each is one event
per pass, per apply or per sweep, never per request. Meanings: docs/operations.md.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# How a reconcile pass ended (Reconciler.run).
SUCCEEDED = "succeeded"  # applied (or torn down); a newer version may have queued the next pass
FAILED = "failed"  # rejected for good: the objects went to ERROR (or stay PENDING_DELETE)
RETRIED = "retried"  # a transient failure: deferred again with backoff (ERROR after the last)
GONE = "gone"  # the load balancer no longer existed: nothing to do
OUTCOMES = (SUCCEEDED, FAILED, RETRIED, GONE)

RECONCILE_PASSES = Counter(
    "lbaas_reconcile_passes_total",
    "Reconcile passes this worker ran, by outcome (succeeded, failed, retried, gone).",
    ["outcome"],
)
RECONCILE_SECONDS = Histogram(
    "lbaas_reconcile_pass_duration_seconds",
    "Time a reconcile pass took, from reading the desired state to recording the outcome.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
)
for _outcome in OUTCOMES:  # every series from the start, so rates and ratios are defined
    RECONCILE_PASSES.labels(_outcome)

# The reconcile jobs in the queue (procrastinate's table, all workers' together) by state, as
# the sweep last counted them: due (waiting for a worker), scheduled (a retry waiting for its
# time), doing, failed (kept for an operator).
QUEUE_STATES = ("due", "scheduled", "doing", "failed")
QUEUE_JOBS = Gauge(
    "lbaas_reconcile_queue_jobs",
    "Reconcile jobs in the queue by state (due, scheduled, doing, failed), counted by the sweep.",
    ["state"],
)

# ApplyConfig calls to the amphora agents (the worker's client; a roll's too) by result: the
# agent's answer in lower case, or `error` when the call failed (unreachable, deadline).
AGENT_APPLIES = Counter(
    "lbaas_agent_applies_total",
    "ApplyConfig calls to amphora agents by result (applied, unchanged, invalid, rolled_back, "
    "broken, unknown, error).",
    ["result"],
)
# The applies that reloaded (or tried to reload) the engine, from the same answers: APPLIED is
# a reload that succeeded, ROLLED_BACK one that failed and was undone, BROKEN one that failed
# and could not be undone.
AGENT_RELOADS = Counter(
    "lbaas_agent_reloads_total",
    "Engine reloads of amphora agents by result (succeeded, rolled_back, broken), from their "
    "ApplyConfig answers.",
    ["result"],
)
_RELOADS = {"APPLIED": "succeeded", "ROLLED_BACK": "rolled_back", "BROKEN": "broken"}


def agent_applied(result: str) -> None:
    """Counts one ApplyConfig answer (result: the ApplyOutcome's, or "error")."""
    AGENT_APPLIES.labels(result.lower()).inc()
    reload = _RELOADS.get(result)
    if reload is not None:
        AGENT_RELOADS.labels(reload).inc()
