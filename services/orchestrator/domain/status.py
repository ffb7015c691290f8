"""Provisioning-status transitions (Octavia's names) and what a finished reconcile decides."""

from __future__ import annotations

from dataclasses import dataclass

ACTIVE = "ACTIVE"
PENDING_CREATE = "PENDING_CREATE"
PENDING_UPDATE = "PENDING_UPDATE"
PENDING_DELETE = "PENDING_DELETE"
DELETED = "DELETED"
ERROR = "ERROR"
PENDING = (PENDING_CREATE, PENDING_UPDATE, PENDING_DELETE)

ONLINE = "ONLINE"
OFFLINE = "OFFLINE"
DEGRADED = "DEGRADED"
OP_ERROR = "ERROR"
DRAINING = "DRAINING"
NO_MONITOR = "NO_MONITOR"
OPERATING_STATUSES = (ONLINE, OFFLINE, DEGRADED, OP_ERROR, DRAINING, NO_MONITOR)


def is_pending(status: str) -> bool:
    return status in PENDING


def after_update(current: str) -> str:
    """Status of an object after an accepted update. A not-yet-created object stays
    PENDING_CREATE (the update folds into its creation)."""
    if current == PENDING_CREATE:
        return PENDING_CREATE
    if current == PENDING_DELETE:
        raise ValueError("an object being deleted cannot be updated")
    return PENDING_UPDATE


def lb_after_child_change(current: str) -> str:
    """Status of the load balancer when one of its children is created, changed or deleted."""
    return after_update(current)


def after_success(current: str) -> str | None:
    """Status after the appliance applied the version that includes this object's change.
    None means the row is removed."""
    if current == PENDING_DELETE:
        return None
    if current in (PENDING_CREATE, PENDING_UPDATE, ERROR):
        return ACTIVE
    return current


# Objects whose operating status is set from admin_state_up whenever a change to them is applied,
# as Octavia's MarkHealthMonitorActiveInDB / MarkL7PolicyActiveInDB / MarkL7RuleActiveInDB do.
FOLLOW_ADMIN_STATE = frozenset(["healthmonitor", "l7policy", "l7rule"])


def operating_after_success(
    kind: str, provisioning: str, operating: str, admin_up: bool, *, unreached: bool = False
) -> str:
    """Operating status of an object (kind: "loadbalancer", "listener", "pool", "member",
    "healthmonitor", "l7policy", "l7rule") when the change it was pending for is applied. After
    that, the health service's heartbeats decide it. A new object goes ONLINE (OFFLINE when
    disabled), except a pool no listener reaches (`unreached`: neither a default pool nor an L7
    redirect target), which is in no running config and stays OFFLINE, as in Octavia."""
    if provisioning not in (PENDING_CREATE, PENDING_UPDATE):
        return operating
    if kind in FOLLOW_ADMIN_STATE:
        return ONLINE if admin_up else OFFLINE
    if provisioning == PENDING_CREATE and operating == OFFLINE:
        if kind == "pool" and unreached:
            return OFFLINE
        return ONLINE if admin_up else OFFLINE
    return operating


def after_failure(current: str) -> str:
    """Status after a reconcile failed for good: a pending create or update goes to ERROR (as
    in Octavia), settled objects keep their status, and an object whose delete was accepted
    stays PENDING_DELETE: the client was told it is gone, so it is never rendered again (and
    never made ACTIVE by a later pass) and a later pass removes it."""
    return ERROR if current in (PENDING_CREATE, PENDING_UPDATE) else current


def retry_delay(failures: int, base: float, cap: float) -> float:
    """Exponential backoff before the next attempt after `failures` consecutive failures."""
    return min(cap, base * 2 ** max(0, failures - 1))


@dataclass(frozen=True)
class Outcome:
    """What to do with a load balancer after its config for version `applied` was applied."""

    finalize: bool  # move PENDING_* objects to their final state
    requeue: bool  # another pass is needed (a newer change arrived meanwhile)


def fold(applied: int, desired_now: int) -> Outcome:
    """Changes accepted while a pass ran are folded into the next pass: only when the applied
    version is still the desired one are pending objects finalized."""
    if applied == desired_now:
        return Outcome(finalize=True, requeue=False)
    if applied < desired_now:
        return Outcome(finalize=False, requeue=True)
    raise ValueError(f"applied version {applied} is newer than desired {desired_now}")
