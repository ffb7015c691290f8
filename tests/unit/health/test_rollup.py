"""The roll-up table: heartbeat statuses -> operating statuses per object."""

from __future__ import annotations

import pytest

from services.health.domain.rollup import (
    DEGRADED,
    DRAINING,
    ERROR,
    NO_MONITOR,
    OFFLINE,
    ONLINE,
    roll_up,
    stale_amphora_statuses,
)
from tests.unit.health.builders import heartbeat, listener, loadbalancer, member, pool


def _lb(**pool_kwargs):
    return loadbalancer(
        "lb",
        listeners=[listener("l1", "p1")],
        pools=[pool("p1", [member("m1"), member("m2")], hm="hm1", **pool_kwargs)],
    )


def _statuses(lb, hb, **kw) -> dict[str, int]:
    result = roll_up(lb, hb, **kw)
    ids = [i for i, _ in result]
    assert len(ids) == len(set(ids)), "an object appears twice"
    return dict(result)


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("UP", ONLINE),
        ("DOWN", ERROR),
        ("MAINT", OFFLINE),
        ("DRAIN", DRAINING),
        ("no check", NO_MONITOR),
        ("NOLB", DRAINING),
        ("UP 1/3", ONLINE),
        ("DOWN 1/2", ERROR),
    ],
)
def test_member_status_table(reported, expected):
    hb = heartbeat(listeners={"l1": "OPEN"}, pools={"p1": ("UP", {"m1": reported, "m2": "UP"})})
    assert _statuses(_lb(), hb)["m1"] == expected


def test_all_healthy_is_online_everywhere():
    hb = heartbeat(listeners={"l1": "OPEN"}, pools={"p1": ("UP", {"m1": "UP", "m2": "UP"})})
    assert _statuses(_lb(), hb) == {
        "m1": ONLINE,
        "m2": ONLINE,
        "p1": ONLINE,
        "hm1": ONLINE,
        "l1": ONLINE,
        "lb": ONLINE,
    }


def test_one_member_down_degrades_pool_listener_and_lb():
    hb = heartbeat(listeners={"l1": "OPEN"}, pools={"p1": ("UP", {"m1": "DOWN", "m2": "UP"})})
    assert _statuses(_lb(), hb) == {
        "m1": ERROR,
        "m2": ONLINE,
        "p1": DEGRADED,
        "hm1": ONLINE,
        "l1": DEGRADED,
        "lb": DEGRADED,
    }


def test_all_members_down_is_pool_error():
    hb = heartbeat(listeners={"l1": "OPEN"}, pools={"p1": ("UP", {"m1": "DOWN", "m2": "DOWN"})})
    got = _statuses(_lb(), hb)
    assert (got["p1"], got["l1"], got["lb"]) == (ERROR, DEGRADED, DEGRADED)


def test_backend_down_is_pool_error():
    hb = heartbeat(listeners={"l1": "OPEN"}, pools={"p1": ("DOWN", {})})
    assert _statuses(_lb(), hb)["p1"] == ERROR


def test_backup_member_up_does_not_save_a_pool_whose_primaries_are_down():
    lb = loadbalancer("lb", pools=[pool("p1", [member("m1"), member("b1", backup=True)])])
    hb = heartbeat(pools={"p1": ("UP", {"m1": "DOWN", "b1": "UP"})})
    assert _statuses(lb, hb)["p1"] == ERROR


def test_unreported_member_gets_no_status():
    hb = heartbeat(listeners={"l1": "OPEN"}, pools={"p1": ("UP", {"m1": "UP"})})
    got = _statuses(_lb(), hb)
    assert "m2" not in got
    assert got["p1"] == ONLINE


def test_unknown_member_status_gets_no_status():
    hb = heartbeat(pools={"p1": ("UP", {"m1": "WEIRD", "m2": "UP"})})
    assert "m1" not in _statuses(_lb(), hb)


def test_admin_down_member_is_offline_even_unreported():
    lb = loadbalancer("lb", pools=[pool("p1", [member("m1", up=False), member("m2")])])
    hb = heartbeat(pools={"p1": ("UP", {"m2": "UP"})})
    got = _statuses(lb, hb)
    assert got["m1"] == OFFLINE and got["p1"] == ONLINE


def test_unreported_pool_listener_and_monitor_get_no_status_but_lb_does():
    got = _statuses(_lb(), heartbeat())
    assert got == {"lb": ONLINE}


def test_admin_down_pool_and_monitor_are_offline():
    lb = loadbalancer("lb", pools=[pool("p1", [], up=False, hm="hm1", hm_up=False)])
    got = _statuses(lb, heartbeat(pools={"p1": ("UP", {})}))
    assert got["p1"] == OFFLINE and got["hm1"] == OFFLINE


@pytest.mark.parametrize(
    ("frontend", "expected"), [("OPEN", ONLINE), ("FULL", DEGRADED), ("STOP", OFFLINE)]
)
def test_listener_status_table(frontend, expected):
    lb = loadbalancer("lb", listeners=[listener("l1")])
    assert _statuses(lb, heartbeat(listeners={"l1": frontend}))["l1"] == expected


def test_full_listener_degrades_lb():
    lb = loadbalancer("lb", listeners=[listener("l1")])
    assert _statuses(lb, heartbeat(listeners={"l1": "FULL"}))["lb"] == DEGRADED


def test_admin_down_listener_is_offline():
    lb = loadbalancer("lb", listeners=[listener("l1", up=False)])
    assert _statuses(lb, heartbeat(listeners={"l1": "OPEN"}))["l1"] == OFFLINE


def test_lb_without_listeners_is_online():
    assert _statuses(loadbalancer("lb"), heartbeat()) == {"lb": ONLINE}


def test_admin_down_lb_is_offline():
    assert _statuses(loadbalancer("lb", up=False), heartbeat())["lb"] == OFFLINE


def test_stale_amphora_makes_lb_error():
    assert _statuses(loadbalancer("lb"), heartbeat(), amphora_stale=True)["lb"] == ERROR
    assert stale_amphora_statuses("lb") == [("lb", ERROR)]


@pytest.mark.parametrize("backend_status", ["UP", "DOWN"])
def test_a_listeners_pool_without_members_is_online_not_error(backend_status):
    """Octavia: a pool a listener uses is ONLINE even with no members (haproxy reports an empty
    backend DOWN, which is not a failure of anything)."""
    lb = loadbalancer("lb", listeners=[listener("l1", "p1")], pools=[pool("p1", [])])
    hb = heartbeat(listeners={"l1": "OPEN"}, pools={"p1": (backend_status, {})})
    assert _statuses(lb, hb) == {"p1": ONLINE, "l1": ONLINE, "lb": ONLINE}
