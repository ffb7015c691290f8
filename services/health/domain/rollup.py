"""Roll-up of one heartbeat into operating statuses for a load balancer's objects.

A pure function of (load-balancer graph, heartbeat). The rules follow Octavia's health manager;
frontend, backend and server names in the heartbeat are the listener, pool and member ids.

Members (only members of pools in the graph):
  - admin_state_up false -> OFFLINE (always emitted: it does not depend on the data plane);
  - reported "UP" -> ONLINE, "DOWN" -> ERROR, "MAINT" -> OFFLINE, "DRAIN" -> DRAINING,
    "no check" -> NO_MONITOR, "NOLB" -> DRAINING (haproxy's transitional "UP 1/3" / "DOWN 1/2"
    count as UP / DOWN; matching is case-insensitive);
  - not in the heartbeat, or an unknown status -> nothing emitted (the config that has it may not
    be applied yet; its last status stands).
Pools:
  - admin_state_up false -> OFFLINE;
  - not in the heartbeat -> nothing emitted;
  - no members -> ONLINE (as Octavia; haproxy reports an empty backend DOWN);
  - backend "DOWN", or every non-backup member with a reported status is ERROR -> ERROR;
  - any member ERROR -> DEGRADED; otherwise ONLINE.
Health monitors: ONLINE when their pool is in the heartbeat (OFFLINE when admin down).
Listeners:
  - admin_state_up false -> OFFLINE; not in the heartbeat -> nothing emitted;
  - frontend "OPEN" -> ONLINE, "FULL" -> DEGRADED, "STOP" -> OFFLINE;
  - an ONLINE listener whose default pool is DEGRADED or ERROR -> DEGRADED.
Load balancer:
  - admin_state_up false -> OFFLINE; its amphora stale -> ERROR;
  - any emitted listener or pool status DEGRADED or ERROR -> DEGRADED; otherwise ONLINE (also
    with no listeners).
"""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2, status_pb2
from lbaas.health.v1 import heartbeat_pb2

OperatingStatus = int  # a status_pb2.OperatingStatus value
ObjectStatus = tuple[str, OperatingStatus]

ONLINE = status_pb2.OPERATING_STATUS_ONLINE
OFFLINE = status_pb2.OPERATING_STATUS_OFFLINE
DEGRADED = status_pb2.OPERATING_STATUS_DEGRADED
ERROR = status_pb2.OPERATING_STATUS_ERROR
DRAINING = status_pb2.OPERATING_STATUS_DRAINING
NO_MONITOR = status_pb2.OPERATING_STATUS_NO_MONITOR

_MEMBER_STATUS = {
    "UP": ONLINE,
    "DOWN": ERROR,
    "MAINT": OFFLINE,
    "DRAIN": DRAINING,
    "NO CHECK": NO_MONITOR,
    "NOLB": DRAINING,
}
_LISTENER_STATUS = {"OPEN": ONLINE, "FULL": DEGRADED, "STOP": OFFLINE}
_UNHEALTHY = (DEGRADED, ERROR)


def _member_status(reported: str) -> OperatingStatus | None:
    text = " ".join(reported.upper().split())
    if text in _MEMBER_STATUS:
        return _MEMBER_STATUS[text]
    first = text.split(" ", 1)[0]
    # haproxy's transitional states while a check streak is in progress.
    if first in ("UP", "DOWN") and text != first:
        return _MEMBER_STATUS[first]
    return None


def _pool_statuses(
    pool: graph_pb2.Pool, report: heartbeat_pb2.PoolReport | None, out: list[ObjectStatus]
) -> OperatingStatus | None:
    reported_members = {} if report is None else {m.member_id: m.status for m in report.members}
    member_states: list[tuple[graph_pb2.Member, OperatingStatus]] = []
    for member in pool.members:
        if not member.meta.admin_state_up:
            status: OperatingStatus | None = OFFLINE
        elif member.meta.id in reported_members:
            status = _member_status(reported_members[member.meta.id])
        else:
            status = None
        if status is not None:
            out.append((member.meta.id, status))
            member_states.append((member, status))

    has_hm = pool.HasField("healthmonitor") and pool.healthmonitor.meta.id
    hm = pool.healthmonitor if has_hm else None
    if not pool.meta.admin_state_up:
        pool_status: OperatingStatus | None = OFFLINE
    elif report is None:
        pool_status = None
    elif not pool.members:
        pool_status = ONLINE
    else:
        primaries = [s for m, s in member_states if not m.backup and m.meta.admin_state_up]
        if report.status.strip().upper() == "DOWN" or (
            primaries and all(s == ERROR for s in primaries)
        ):
            pool_status = ERROR
        elif any(s == ERROR for _, s in member_states):
            pool_status = DEGRADED
        else:
            pool_status = ONLINE
    if pool_status is not None:
        out.append((pool.meta.id, pool_status))
    if hm is not None and report is not None:
        out.append((hm.meta.id, ONLINE if hm.meta.admin_state_up else OFFLINE))
    elif hm is not None and not hm.meta.admin_state_up:
        out.append((hm.meta.id, OFFLINE))
    return pool_status


def roll_up(
    lb: graph_pb2.LoadBalancer,
    heartbeat: heartbeat_pb2.Heartbeat,
    *,
    amphora_stale: bool = False,
) -> list[ObjectStatus]:
    """Operating statuses for lb's objects from heartbeat, in a stable order (lb last)."""
    out: list[ObjectStatus] = []
    pool_reports = {p.pool_id: p for p in heartbeat.pools}
    listener_reports = {lr.listener_id: lr for lr in heartbeat.listeners}

    pool_status: dict[str, OperatingStatus | None] = {}
    for pool in lb.pools:
        pool_status[pool.meta.id] = _pool_statuses(pool, pool_reports.get(pool.meta.id), out)

    listener_status: dict[str, OperatingStatus] = {}
    for listener in lb.listeners:
        report = listener_reports.get(listener.meta.id)
        if not listener.meta.admin_state_up:
            status: OperatingStatus | None = OFFLINE
        elif report is None:
            status = None
        else:
            status = _LISTENER_STATUS.get(report.status.strip().upper())
            if status == ONLINE and pool_status.get(listener.default_pool_id) in _UNHEALTHY:
                status = DEGRADED
        if status is not None:
            listener_status[listener.meta.id] = status
            out.append((listener.meta.id, status))

    if not lb.meta.admin_state_up:
        lb_status = OFFLINE
    elif amphora_stale:
        lb_status = ERROR
    elif any(s in _UNHEALTHY for s in (*listener_status.values(), *pool_status.values())):
        lb_status = DEGRADED
    else:
        lb_status = ONLINE
    out.append((lb.meta.id, lb_status))
    return out


def stale_amphora_statuses(loadbalancer_id: str) -> list[ObjectStatus]:
    """What is reported for a load balancer whose amphora stopped sending heartbeats."""
    return [(loadbalancer_id, ERROR)]
