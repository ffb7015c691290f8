"""An amphora's lifecycle: Octavia's amphora statuses this service uses and the moves between
them, written once. Every change of an amphora's status goes through `move` (or, in a bulk
UPDATE, `sources_of`), so an amphora being removed never comes back as serving.

    BOOTING ──> ALLOCATED   its load balancer's config applied: it serves
       │  └──> READY       a spare whose agent answered (no load balancer, no config)
       ├─────> ERROR       never came up (a failed build or failover, a spare that did not start)
       └─────> PENDING_DELETE
    READY ──> BOOTING      claimed by a load balancer (then configured like a new one)
       ├───> ERROR         a spare whose agent stopped answering
       └───> PENDING_DELETE  failed over or deleted; housekeeping removes it
    ALLOCATED ──> ALLOCATED  a later config applied
    ERROR ──> ALLOCATED    came up late and took its load balancer's config
       └───> PENDING_DELETE  deleted (DeleteAmphora takes ERROR and READY)
    PENDING_DELETE          final: the row goes with the compute resource

A serving amphora that is failed over keeps ALLOCATED (and `failover_requested`) until its
replacement serves; then its row is deleted with its compute resource.
"""

from __future__ import annotations

from enum import StrEnum

from services.common.errors import Precondition


class Status(StrEnum):
    BOOTING = "BOOTING"
    READY = "READY"
    ALLOCATED = "ALLOCATED"
    ERROR = "ERROR"
    PENDING_DELETE = "PENDING_DELETE"


BOOTING, READY, ALLOCATED, ERROR, PENDING_DELETE = (
    Status.BOOTING,
    Status.READY,
    Status.ALLOCATED,
    Status.ERROR,
    Status.PENDING_DELETE,
)

MOVES: dict[Status, frozenset[Status]] = {
    BOOTING: frozenset((ALLOCATED, READY, ERROR, PENDING_DELETE)),
    READY: frozenset((BOOTING, ERROR, PENDING_DELETE)),
    ALLOCATED: frozenset((ALLOCATED, PENDING_DELETE)),
    ERROR: frozenset((ALLOCATED, PENDING_DELETE)),
    PENDING_DELETE: frozenset(),
}
# As Octavia: only a broken or spare amphora may be deleted, never a serving one.
DELETABLE = (ERROR, READY)


def can_move(current: str, new: str) -> bool:
    try:
        return Status(new) in MOVES[Status(current)]
    except ValueError:  # a status this service never writes
        return False


def move(current: str, new: str) -> Status:
    """The new status, or Precondition when the lifecycle has no such move."""
    if not can_move(current, new):
        raise Precondition(f"An amphora cannot go from {current} to {new}.")
    return Status(new)


def sources_of(new: str) -> tuple[Status, ...]:
    """The statuses an amphora may be in to move to `new` (a bulk UPDATE's WHERE)."""
    return tuple(s for s, targets in MOVES.items() if Status(new) in targets)
