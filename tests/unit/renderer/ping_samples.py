"""Load balancers with PING health monitors (haproxy external checks), shared by the renderer's
unit and integration tests."""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2

from tests.unit.renderer.renderer_samples import meta

LB_ID = "0d3c6e52-1d7b-4a51-9d3e-5d3f0c7a2a20"
HTTP_LISTENER_ID = "6a6a6a6a-0000-4000-8000-000000000001"
TCP_LISTENER_ID = "6a6a6a6a-0000-4000-8000-000000000002"
WEB_POOL_ID = "6b6b6b6b-0000-4000-8000-000000000001"
DB_POOL_ID = "6b6b6b6b-0000-4000-8000-000000000002"
HM_IDS = ["6c6c6c6c-0000-4000-8000-000000000001", "6c6c6c6c-0000-4000-8000-000000000002"]
MEMBER_IDS = [f"6d6d6d6d-0000-4000-8000-00000000000{i}" for i in range(1, 5)]


def ping_monitor(hm_id: str, *, delay: int = 5, timeout: int = 2) -> graph_pb2.HealthMonitor:
    return graph_pb2.HealthMonitor(
        meta=meta(hm_id, name="ping $(reboot)"),
        type="PING",
        delay=delay,
        timeout=timeout,
        max_retries=2,
        max_retries_down=3,
    )


def member(index: int, address: str, port: int = 80, **kw) -> graph_pb2.Member:
    return graph_pb2.Member(
        meta=meta(MEMBER_IDS[index], name=f"m{index}"),
        address=address,
        protocol_port=port,
        weight=1,
        **kw,
    )


def ping_lb() -> graph_pb2.LoadBalancer:
    """An HTTP pool (IPv4 and IPv6 members, 2 s timeout) and a TCP pool (5 s timeout, one member
    with a monitor address) behind PING monitors: two wrapper files, one global switch."""
    web = graph_pb2.Pool(
        meta=meta(WEB_POOL_ID, name="web"),
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
        listener_ids=[HTTP_LISTENER_ID],
        healthmonitor=ping_monitor(HM_IDS[0], delay=5, timeout=2),
        members=[member(0, "192.0.2.11"), member(1, "2001:db8::11")],
    )
    db = graph_pb2.Pool(
        meta=meta(DB_POOL_ID, name="db"),
        protocol="TCP",
        lb_algorithm="LEAST_CONNECTIONS",
        listener_ids=[TCP_LISTENER_ID],
        healthmonitor=ping_monitor(HM_IDS[1], delay=10, timeout=5),
        members=[member(2, "192.0.2.21", 5432, monitor_address="192.0.2.121")],
    )
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID, name="ping"),
        vip=graph_pb2.Vip(address="203.0.113.20"),
        topology="SINGLE",
        listeners=[
            graph_pb2.Listener(
                meta=meta(HTTP_LISTENER_ID),
                protocol="HTTP",
                protocol_port=80,
                connection_limit=-1,
                default_pool_id=WEB_POOL_ID,
            ),
            graph_pb2.Listener(
                meta=meta(TCP_LISTENER_ID),
                protocol="TCP",
                protocol_port=5432,
                connection_limit=-1,
                default_pool_id=DB_POOL_ID,
            ),
        ],  # fmt: skip
        pools=[web, db],
    )
