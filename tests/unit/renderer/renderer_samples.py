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
        # An agent of this release: it prepares for workers that drop root (privileges.py).
        "agent_api_version": "1.1",
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


L7_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000011"
HTTPS_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000012"
PROXY_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000013"
PROM_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000014"
WEB_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000011"  # default pool, HTTP_COOKIE
API_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000012"  # L7 target, APP_COOKIE
STATIC_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000013"  # L7 target, PROXY protocol
TLS_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000014"  # HTTPS pass-through, SOURCE_IP
V2_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000015"  # PROXYV2 behind TCP
POLICY_IDS = [f"6f6f6f6f-0000-4000-8000-00000000000{i}" for i in range(1, 8)]
RULE_IDS = [f"7a7a7a7a-0000-4000-8000-0000000000{i:02d}" for i in range(1, 13)]
L7_MEMBER_IDS = [f"3c3c3c3c-0000-4000-8000-0000000000{i}" for i in range(11, 19)]


def _member(index: int, address: str, port: int) -> graph_pb2.Member:
    return graph_pb2.Member(
        meta=meta(L7_MEMBER_IDS[index]), address=address, protocol_port=port, weight=1
    )


def _rule(index: int, type_: str, compare: str, value: str, **kw) -> graph_pb2.L7Rule:
    up = kw.pop("up", True)
    return graph_pb2.L7Rule(
        meta=meta(RULE_IDS[index], up=up), type=type_, compare_type=compare, value=value, **kw
    )


def l7_policies() -> list[graph_pb2.L7Policy]:
    """Every action, rule type and compare type; one disabled policy, one disabled rule."""
    return [
        graph_pb2.L7Policy(
            meta=meta(POLICY_IDS[0]), action="REDIRECT_TO_POOL", position=1,
            redirect_pool_id=API_POOL_ID,
            rules=[
                _rule(0, "PATH", "STARTS_WITH", "/api/"),
                _rule(1, "HOST_NAME", "ENDS_WITH", ".example.com"),
                _rule(2, "HEADER", "CONTAINS", "beta#1", key="X-Channel", up=False),
            ],
        ),
        graph_pb2.L7Policy(
            meta=meta(POLICY_IDS[1]), action="REDIRECT_TO_POOL", position=2,
            redirect_pool_id=STATIC_POOL_ID,
            rules=[
                _rule(3, "FILE_TYPE", "EQUAL_TO", "png"),
                _rule(4, "COOKIE", "EQUAL_TO", "1", key="no_static", invert=True),
            ],
        ),
        graph_pb2.L7Policy(
            meta=meta(POLICY_IDS[2]), action="REJECT", position=3,
            rules=[_rule(5, "PATH", "REGEX", r"^/admin(/.*)?\.php$")],
        ),
        graph_pb2.L7Policy(
            meta=meta(POLICY_IDS[3]), action="REDIRECT_TO_URL", position=4,
            redirect_url="https://www.example.com/moved?from=old%20site", redirect_http_code=301,
            rules=[_rule(6, "HOST_NAME", "EQUAL_TO", "old.example.com")],
        ),
        graph_pb2.L7Policy(
            meta=meta(POLICY_IDS[4]), action="REDIRECT_PREFIX", position=5,
            redirect_prefix="https://secure.example.com",
            rules=[
                _rule(7, "HEADER", "REGEX", "^Mozilla/[0-9]{1,2}", key="User-Agent"),
                _rule(8, "FILE_TYPE", "REGEX", r"\.(gif|jpe?g)$"),
            ],
        ),
        graph_pb2.L7Policy(  # disabled: never rendered
            meta=meta(POLICY_IDS[5], up=False), action="REJECT", position=6,
            rules=[_rule(9, "PATH", "CONTAINS", "/disabled-policy")],
        ),
        graph_pb2.L7Policy(  # no enabled rule: never rendered
            meta=meta(POLICY_IDS[6]), action="REJECT", position=7,
            rules=[_rule(10, "PATH", "EQUAL_TO", "/only-disabled-rule", up=False)],
        ),
    ]  # fmt: skip


def l7_lb() -> graph_pb2.LoadBalancer:
    """HTTP listener with insert_headers, allowed_cidrs, L7 policies to cookie-persistent pools."""
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="203.0.113.10"),
        listeners=[
            graph_pb2.Listener(
                meta=meta(L7_LISTENER_ID), protocol="HTTP", protocol_port=80,
                connection_limit=-1, default_pool_id=WEB_POOL_ID,
                insert_headers={"X-Forwarded-For": "true", "X-Forwarded-Port": "True",
                                "X-Forwarded-Proto": "TRUE"},
                allowed_cidrs=["10.1.2.3/8", "192.0.2.0/24", "2001:db8::1/32", "10.0.0.0/8"],
                l7policies=l7_policies(),
            ),
        ],
        pools=[
            graph_pb2.Pool(
                meta=meta(WEB_POOL_ID), protocol="HTTP", lb_algorithm="ROUND_ROBIN",
                session_persistence=graph_pb2.SessionPersistence(type="HTTP_COOKIE"),
                members=[_member(0, "192.0.2.31", 80), _member(1, "192.0.2.32", 80)],
            ),
            graph_pb2.Pool(
                meta=meta(API_POOL_ID), protocol="HTTP", lb_algorithm="LEAST_CONNECTIONS",
                session_persistence=graph_pb2.SessionPersistence(
                    type="APP_COOKIE", cookie_name="JSESSIONID", persistence_timeout=600
                ),
                members=[_member(2, "192.0.2.41", 8080)],
            ),
            graph_pb2.Pool(
                meta=meta(STATIC_POOL_ID), protocol="PROXY", lb_algorithm="ROUND_ROBIN",
                members=[_member(3, "192.0.2.51", 80)],
            ),
        ],
    )  # fmt: skip


def passthrough_lb() -> graph_pb2.LoadBalancer:
    """HTTPS pass-through, PROXYV2 behind TCP, TLS-HELLO, SOURCE_IP persistence, PROMETHEUS."""
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="2001:db8::10"),
        listeners=[
            graph_pb2.Listener(
                meta=meta(HTTPS_LISTENER_ID), protocol="HTTPS", protocol_port=443,
                connection_limit=-1, default_pool_id=TLS_POOL_ID,
            ),
            graph_pb2.Listener(
                meta=meta(PROXY_LISTENER_ID), protocol="TCP", protocol_port=25,
                connection_limit=100, default_pool_id=V2_POOL_ID,
            ),
            graph_pb2.Listener(
                meta=meta(PROM_LISTENER_ID), protocol="PROMETHEUS", protocol_port=9100,
                connection_limit=-1, allowed_cidrs=["2001:db8:ffff::/48"],
            ),
        ],
        pools=[
            graph_pb2.Pool(
                meta=meta(TLS_POOL_ID), protocol="HTTPS", lb_algorithm="SOURCE_IP",
                session_persistence=graph_pb2.SessionPersistence(
                    type="SOURCE_IP", persistence_timeout=360
                ),
                healthmonitor=graph_pb2.HealthMonitor(
                    meta=meta(HM_IDS[0]), type="TLS-HELLO", delay=5, timeout=3, max_retries=2
                ),
                members=[_member(4, "2001:db8::61", 443), _member(5, "2001:db8::62", 443)],
            ),
            graph_pb2.Pool(
                meta=meta(V2_POOL_ID), protocol="PROXYV2", lb_algorithm="ROUND_ROBIN",
                healthmonitor=graph_pb2.HealthMonitor(
                    meta=meta(HM_IDS[1]), type="TCP", delay=5, timeout=3, max_retries=2
                ),
                members=[_member(6, "2001:db8::71", 2525)],
            ),
        ],
    )  # fmt: skip
