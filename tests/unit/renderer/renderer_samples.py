"""Sample load-balancer graphs and targets shared by the renderer's unit and integration tests."""

from __future__ import annotations

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

LB_ID = "0d3c6e52-1d7b-4a51-9d3e-5d3f0c7a2a10"
HTTP_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000001"
TCP_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000002"
HTTP_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000001"
TCP_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000002"
ORPHAN_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000003"
MEMBER_IDS = [f"3c3c3c3c-0000-4000-8000-00000000000{i}" for i in range(1, 7)]
HM_IDS = ["4d4d4d4d-0000-4000-8000-000000000001", "4d4d4d4d-0000-4000-8000-000000000002"]


def meta(id_: str, *, up: bool = True, name: str = "") -> graph_pb2.ResourceMeta:
    return graph_pb2.ResourceMeta(id=id_, name=name, admin_state_up=up)


def target(**overrides: str) -> renderer_service_pb2.Target:
    values = {
        "amphora_id": "5e5e5e5e-0000-4000-8000-000000000001",
        "haproxy_version": "2.6.12",
        "runtime_dir": "/var/lib/lbaas/run",
        "vip_address": "",
    }
    values.update(overrides)
    return renderer_service_pb2.Target(**values)


def empty_lb() -> graph_pb2.LoadBalancer:
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID, name="empty"),
        vip=graph_pb2.Vip(address="203.0.113.10"),
        topology="SINGLE",
    )


def full_lb() -> graph_pb2.LoadBalancer:
    """Two listeners (HTTP, TCP), their pools, members of every flavour, HTTP and TCP monitors."""
    http_pool = graph_pb2.Pool(
        meta=meta(HTTP_POOL_ID, name="web pool"),
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
        listener_ids=[HTTP_LISTENER_ID],
        healthmonitor=graph_pb2.HealthMonitor(
            meta=meta(HM_IDS[0]),
            type="HTTP",
            delay=5,
            timeout=3,
            max_retries=2,
            max_retries_down=4,
            http_method="GET",
            url_path="/healthz?full=1",
            expected_codes="200-204",
            http_version="1.1",
            domain_name="app.example.com",
        ),
        members=[
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[0]), address="192.0.2.11", protocol_port=8080, weight=10
            ),
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[1]),
                address="192.0.2.12",
                protocol_port=8080,
                weight=1,
                monitor_address="192.0.2.112",
                monitor_port=9000,
            ),
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[2]),
                address="2001:db8::13",
                protocol_port=8080,
                weight=1,
                backup=True,
            ),  # fmt: skip
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[3], up=False),
                address="192.0.2.14",
                protocol_port=8080,
                weight=256,
            ),  # fmt: skip
        ],
    )
    tcp_pool = graph_pb2.Pool(
        meta=meta(TCP_POOL_ID),
        protocol="TCP",
        lb_algorithm="LEAST_CONNECTIONS",
        listener_ids=[TCP_LISTENER_ID],
        healthmonitor=graph_pb2.HealthMonitor(
            meta=meta(HM_IDS[1]), type="TCP", delay=10, timeout=5, max_retries=3
        ),
        members=[
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[4]), address="198.51.100.21", protocol_port=5432, weight=0
            ),
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[5]), address="198.51.100.22", protocol_port=5432, weight=5
            ),
        ],
    )
    orphan_pool = graph_pb2.Pool(
        meta=meta(ORPHAN_POOL_ID), protocol="HTTP", lb_algorithm="SOURCE_IP"
    )
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID, name="full"),
        vip=graph_pb2.Vip(address="203.0.113.10"),
        topology="SINGLE",
        listeners=[
            graph_pb2.Listener(
                meta=meta(TCP_LISTENER_ID, name="db"),
                protocol="TCP",
                protocol_port=5432,
                connection_limit=1000,
                default_pool_id=TCP_POOL_ID,
                timeout_client_data=300000,
                timeout_member_connect=2000,
                timeout_member_data=300000,
                timeout_tcp_inspect=1000,
            ),
            graph_pb2.Listener(
                meta=meta(HTTP_LISTENER_ID, name="web"),
                protocol="HTTP",
                protocol_port=80,
                connection_limit=-1,
                default_pool_id=HTTP_POOL_ID,
                timeout_client_data=50000,
                timeout_member_connect=5000,
                timeout_member_data=50000,
            ),
        ],
        pools=[orphan_pool, http_pool, tcp_pool],
    )


def source_ip_lb() -> graph_pb2.LoadBalancer:
    """One HTTP listener, admin down, on a SOURCE_IP pool with an HTTPS monitor, IPv6 VIP."""
    lb = graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="2001:db8::10"),
        listeners=[
            graph_pb2.Listener(
                meta=meta(HTTP_LISTENER_ID, up=False),
                protocol="HTTP",
                protocol_port=8443,
                connection_limit=-1,
                default_pool_id=ORPHAN_POOL_ID,
            )
        ],
        pools=[
            graph_pb2.Pool(
                meta=meta(ORPHAN_POOL_ID),
                protocol="HTTP",
                lb_algorithm="SOURCE_IP",
                healthmonitor=graph_pb2.HealthMonitor(
                    meta=meta(HM_IDS[0]),
                    type="HTTPS",
                    delay=2,
                    timeout=1,
                    max_retries=1,
                    url_path="/",
                    expected_codes="200,202",
                ),  # fmt: skip
                members=[
                    graph_pb2.Member(
                        meta=meta(MEMBER_IDS[0]),
                        address="2001:db8::21",
                        protocol_port=443,
                        weight=1,
                        monitor_address="2001:db8::99",
                    ),  # fmt: skip
                ],
            )
        ],
    )
    return lb
