"""Deletes the API accepted and a pass failed to apply: what the next pass renders (no I/O)."""

from __future__ import annotations

import datetime as dt
import itertools

from services.orchestrator.adapters.db.models import (
    HealthMonitorRow,
    L7PolicyRow,
    L7RuleRow,
    ListenerRow,
    LoadBalancerRow,
    MemberRow,
    PoolRow,
    every_object,
)
from services.orchestrator.codec import encode
from services.orchestrator.domain import status
from services.orchestrator.service_layer.common import alive

_ids = itertools.count(1)
_T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _meta(name: str) -> dict:
    return dict(
        id=f"{name}-{next(_ids)}",
        project_id="alice",
        name=name,
        description="",
        admin_state_up=True,
        provisioning_status=status.ACTIVE,
        operating_status=status.ONLINE,
        created_at=_T0,
        tags=[],
    )


def _graph() -> LoadBalancerRow:
    """Two listeners, two pools (one with a health monitor), members, L7 policies and rules,
    every row ACTIVE, wired as the ORM would load them."""
    lb = LoadBalancerRow(**_meta("lb"), vip_address="127.1.0.1", desired_version=7)
    pools = []
    for name in ("web", "api"):
        pool = PoolRow(**_meta(name), protocol="HTTP", lb_algorithm="ROUND_ROBIN")
        pool.loadbalancer = lb
        pool.load_balancer_id = lb.id
        for port in (8080, 8081):
            member = MemberRow(
                **_meta(f"{name}-m{port}"), address="10.0.0.1", protocol_port=port, weight=1
            )
            member.pool, member.pool_id = pool, pool.id
        pools.append(pool)
    monitor = HealthMonitorRow(**_meta("hm"), type="HTTP", delay=5, timeout=3, max_retries=3)
    monitor.pool, monitor.pool_id = pools[0], pools[0].id
    for port, pool in ((80, pools[0]), (81, pools[1])):
        listener = ListenerRow(
            **_meta(f"l{port}"), protocol="HTTP", protocol_port=port, default_pool_id=pool.id
        )
        listener.loadbalancer, listener.load_balancer_id = lb, lb.id
        for position in (1, 2):
            policy = L7PolicyRow(**_meta(f"p{port}-{position}"), action="REJECT", position=position)
            policy.listener, policy.listener_id = listener, listener.id
            rule = L7RuleRow(
                **_meta(f"r{port}-{position}"), type="PATH", compare_type="STARTS_WITH", value="/x"
            )
            rule.policy, rule.l7policy_id = policy, policy.id
    return lb


def _delete(*rows) -> set[str]:
    """Marks rows PENDING_DELETE, as the service layer's delete use cases do."""
    for row in rows:
        row.provisioning_status = status.PENDING_DELETE
    return {row.id for row in rows}


def _ids_in(message) -> set[str]:
    """Every id the graph names: each object's own and each reference to another one."""
    found: set[str] = set()
    for descriptor, value in message.ListFields():
        if descriptor.name == "meta":
            found.add(value.id)
        elif descriptor.name in ("default_pool_id", "redirect_pool_id"):
            found.add(value)
        elif descriptor.name == "listener_ids":
            found.update(value)
        elif hasattr(value, "ListFields"):
            found |= _ids_in(value)
        elif descriptor.message_type is not None and not hasattr(value, "keys"):
            for item in value:  # a repeated message field (maps are left alone)
                found |= _ids_in(item)
    return found


def test_objects_deleted_before_a_failed_pass_stay_out_of_every_later_graph():
    lb = _graph()
    (l80, l81), (web, api) = lb.listeners, lb.pools
    lb.provisioning_status = status.PENDING_UPDATE
    deleted = set()
    deleted |= _delete(web.members[0])  # a member
    deleted |= _delete(web.health_monitors[0])  # a health monitor
    deleted |= _delete(l80.l7policies[0].rules[0])  # an L7 rule
    deleted |= _delete(l80.l7policies[1], *l80.l7policies[1].rules)  # a policy with its rules
    rules81 = [r for p in l81.l7policies for r in p.rules]
    deleted |= _delete(l81, *l81.l7policies, *rules81)  # a listener with its policies and rules
    deleted |= _delete(api, *api.members)  # a pool with its members
    kept = {row.id for row in every_object(lb)} - deleted
    assert _ids_in(encode.loadbalancer(lb, include=alive)) == kept

    for _ in range(2):  # passes that fail for good, one after the other
        for row in every_object(lb):
            row.provisioning_status = status.after_failure(row.provisioning_status)
        assert lb.provisioning_status == status.ERROR
        assert {
            r.id for r in every_object(lb) if r.provisioning_status == status.PENDING_DELETE
        } == deleted
        assert _ids_in(encode.loadbalancer(lb, include=alive)) == kept


def test_children_of_a_deleted_parent_are_not_rendered_even_if_still_marked_alive():
    """The filter drops a whole subtree with its root: a pool's members, a listener's policies
    and their rules, and references to a deleted pool or listener."""
    lb = _graph()
    (l80, _), (web, _) = lb.listeners, lb.pools
    deleted = _delete(web, l80)  # children left ACTIVE on purpose
    graph = encode.loadbalancer(lb, include=alive)
    subtree = deleted | {m.id for m in web.members} | {hm.id for hm in web.health_monitors}
    subtree |= {p.id for p in l80.l7policies} | {r.id for p in l80.l7policies for r in p.rules}
    assert not _ids_in(graph) & subtree
    assert [li.meta.name for li in graph.listeners] == ["l81"]
    assert [p.meta.name for p in graph.pools] == ["api"]
