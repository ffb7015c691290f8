"""Sample graphs for the f5-as3 renderer tests (no tests here; shared by test_as3_*.py and the
injection property test)."""

from __future__ import annotations

from pathlib import Path

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from tests.unit.renderer.renderer_samples import meta, target  # noqa: F401 (re-exported)

TLS_DIR = Path(__file__).parent / "golden_as3" / "tls"
PROJECT_ID = "e3cd678b11784734bc366148aa37580e"
LB_ID = "0d3c6e52-1d7b-4a51-9d3e-5d3f0c7a2a10"
HTTP_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000001"
TCP_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000002"
HTTPS_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000003"
HTTP_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000001"
TCP_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000002"
API_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000003"
ORPHAN_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000004"
MEMBER_IDS = [f"3c3c3c3c-0000-4000-8000-00000000000{i}" for i in range(1, 9)]
HM_IDS = [f"4d4d4d4d-0000-4000-8000-00000000000{i}" for i in range(1, 4)]
POLICY_IDS = [f"5f5f5f5f-0000-4000-8000-00000000000{i}" for i in range(1, 6)]
RULE_IDS = [f"6a6a6a6a-0000-4000-8000-00000000000{i}" for i in range(1, 8)]
WWW_REF = "https://barbican.example/v1/containers/www"
API_REF = "https://barbican.example/v1/containers/api"
CA_REF = "https://barbican.example/v1/secrets/client-ca"
# User text with every character AS3 refuses in remark/label, and more than 64 characters.
HOSTILE_NAME = 'web "pool" #1 <b>&\\ [x] `y` ?*\n\t' + "z" * 80


def materials() -> list[renderer_service_pb2.TlsMaterial]:
    read = lambda name: (TLS_DIR / name).read_bytes()  # noqa: E731
    return [
        renderer_service_pb2.TlsMaterial(
            ref=WWW_REF,
            certificate_pem=read("www.crt"),
            private_key_pem=read("www.key"),
            intermediates_pem=read("intermediate.crt"),
        ),
        renderer_service_pb2.TlsMaterial(
            ref=API_REF, certificate_pem=read("api.crt"), private_key_pem=read("api.key")
        ),
        renderer_service_pb2.TlsMaterial(ref=CA_REF, certificate_pem=read("client-ca.crt")),
    ]


def lb_meta(name: str = "", up: bool = True) -> graph_pb2.ResourceMeta:
    m = meta(LB_ID, name=name, up=up)
    m.project_id = PROJECT_ID
    return m


def empty_lb() -> graph_pb2.LoadBalancer:
    return graph_pb2.LoadBalancer(meta=lb_meta("empty"), vip=graph_pb2.Vip(address="203.0.113.10"))


def http_tcp_lb() -> graph_pb2.LoadBalancer:
    """HTTP and TCP listeners; members of every kind; HTTP and PING monitors; source persistence;
    forwarded headers; allowed CIDRs; hostile user names."""
    http_pool = graph_pb2.Pool(
        meta=meta(HTTP_POOL_ID, name=HOSTILE_NAME),
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
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
            graph_pb2.Member(meta=meta(MEMBER_IDS[0], name="a"), address="192.0.2.11",
                             protocol_port=8080, weight=256),
            graph_pb2.Member(meta=meta(MEMBER_IDS[1]), address="192.0.2.12", protocol_port=8080,
                             weight=1),
            graph_pb2.Member(meta=meta(MEMBER_IDS[2]), address="2001:db8::13",
                             protocol_port=8080, weight=50, backup=True),
            graph_pb2.Member(meta=meta(MEMBER_IDS[3], up=False), address="192.0.2.14",
                             protocol_port=8080, weight=100),
            graph_pb2.Member(meta=meta(MEMBER_IDS[4]), address="192.0.2.15", protocol_port=8080,
                             weight=0),
        ],
    )  # fmt: skip
    tcp_pool = graph_pb2.Pool(
        meta=meta(TCP_POOL_ID),
        protocol="TCP",
        lb_algorithm="LEAST_CONNECTIONS",
        session_persistence=graph_pb2.SessionPersistence(type="SOURCE_IP", persistence_timeout=600),
        healthmonitor=graph_pb2.HealthMonitor(
            meta=meta(HM_IDS[1]), type="PING", delay=10, timeout=5, max_retries=3
        ),
        members=[
            graph_pb2.Member(meta=meta(MEMBER_IDS[5]), address="198.51.100.21",
                             protocol_port=5432, weight=5),
        ],
    )  # fmt: skip
    return graph_pb2.LoadBalancer(
        meta=lb_meta("full"),
        vip=graph_pb2.Vip(address="203.0.113.10"),
        listeners=[
            graph_pb2.Listener(
                meta=meta(TCP_LISTENER_ID, name="db"),
                protocol="TCP",
                protocol_port=5432,
                connection_limit=1000,
                default_pool_id=TCP_POOL_ID,
                allowed_cidrs=["10.1.2.3/8"],
            ),
            graph_pb2.Listener(
                meta=meta(HTTP_LISTENER_ID, name="web\nserver evil"),
                protocol="HTTP",
                protocol_port=80,
                connection_limit=-1,
                default_pool_id=HTTP_POOL_ID,
                insert_headers={
                    "X-Forwarded-For": "true",
                    "X-Forwarded-Port": "true",
                    "X-Forwarded-Proto": "True",
                },
                allowed_cidrs=["192.0.2.0/24", "10.0.0.0/8", "192.0.2.0/24"],
            ),
        ],
        pools=[
            graph_pb2.Pool(meta=meta(ORPHAN_POOL_ID), protocol="TCP", lb_algorithm="SOURCE_IP"),
            http_pool,
            tcp_pool,
        ],
    )


def rule(i: int, kind: str, compare: str, value: str, key: str = "", invert: bool = False,
         up: bool = True) -> graph_pb2.L7Rule:  # fmt: skip
    return graph_pb2.L7Rule(
        meta=meta(RULE_IDS[i], up=up),
        type=kind,
        compare_type=compare,
        value=value,
        key=key,
        invert=invert,
    )


def tls_l7_lb() -> graph_pb2.LoadBalancer:
    """TERMINATED_HTTPS with SNI, client authentication and TLS versions; L7 policies of every
    action and rule type; app-cookie persistence; an HTTPS monitor."""
    listener = graph_pb2.Listener(
        meta=meta(HTTPS_LISTENER_ID, name="tls"),
        protocol="TERMINATED_HTTPS",
        protocol_port=443,
        connection_limit=5000,
        default_pool_id=HTTP_POOL_ID,
        default_tls_container_ref=WWW_REF,
        sni_container_refs=[API_REF, WWW_REF],
        client_authentication="OPTIONAL",
        client_ca_tls_container_ref=CA_REF,
        tls_versions=["TLSv1.2", "TLSv1.3"],
        tls_ciphers="ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
        insert_headers={"X-Forwarded-Proto": "true", "X-Forwarded-For": "false"},
        l7policies=[
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[0], name="to api"), action="REDIRECT_TO_POOL", position=3,
                redirect_pool_id=API_POOL_ID,
                rules=[rule(0, "PATH", "STARTS_WITH", "/api/"),
                       rule(1, "COOKIE", "EQUAL_TO", "beta", key="channel"),
                       rule(2, "FILE_TYPE", "EQUAL_TO", "json", invert=True)],
            ),
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[1]), action="REJECT", position=2,
                rules=[rule(3, "HEADER", "CONTAINS", "sqlmap", key="User-Agent")],
            ),
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[2]), action="REDIRECT_TO_URL", position=1,
                redirect_url="https://www.example.com/moved?x=$1&y=[2]", redirect_http_code=301,
                rules=[rule(4, "HOST_NAME", "ENDS_WITH", ".old.example.com")],
            ),
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[3]), action="REDIRECT_PREFIX", position=4,
                redirect_prefix="https://static.example.com/$HOME[x]/",
                rules=[rule(5, "PATH", "STARTS_WITH", "/static", invert=True)],
            ),
            # Disabled: never rendered.
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[4], up=False), action="REJECT", position=5,
                rules=[rule(6, "PATH", "EQUAL_TO", "/x")],
            ),
        ],
    )  # fmt: skip
    web = graph_pb2.Pool(
        meta=meta(HTTP_POOL_ID),
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
        session_persistence=graph_pb2.SessionPersistence(type="APP_COOKIE", cookie_name="JSESSIONID"),
        healthmonitor=graph_pb2.HealthMonitor(
            meta=meta(HM_IDS[2]), type="HTTPS", delay=3, timeout=2, max_retries=1,
            expected_codes="200,301",
        ),
        members=[graph_pb2.Member(meta=meta(MEMBER_IDS[6]), address="192.0.2.21",
                                  protocol_port=8443, weight=1)],
    )  # fmt: skip
    api = graph_pb2.Pool(
        meta=meta(API_POOL_ID),
        protocol="HTTP",
        lb_algorithm="LEAST_CONNECTIONS",
        members=[graph_pb2.Member(meta=meta(MEMBER_IDS[7]), address="192.0.2.31",
                                  protocol_port=9000, weight=1)],
    )  # fmt: skip
    return graph_pb2.LoadBalancer(
        meta=lb_meta(), vip=graph_pb2.Vip(address="203.0.113.20"), listeners=[listener],
        pools=[web, api],
    )  # fmt: skip


def passthrough_lb() -> graph_pb2.LoadBalancer:
    """An HTTPS pass-through listener on an IPv6 VIP, load balancer admin down, cookie-free."""
    return graph_pb2.LoadBalancer(
        meta=lb_meta("pass", up=False),
        vip=graph_pb2.Vip(address="2001:db8::10"),
        listeners=[
            graph_pb2.Listener(
                meta=meta(HTTPS_LISTENER_ID),
                protocol="HTTPS",
                protocol_port=443,
                connection_limit=-1,
                default_pool_id=TCP_POOL_ID,
                allowed_cidrs=["2001:db8:1::/48"],
            )
        ],
        pools=[
            graph_pb2.Pool(
                meta=meta(TCP_POOL_ID),
                protocol="HTTPS",
                lb_algorithm="ROUND_ROBIN",
                healthmonitor=graph_pb2.HealthMonitor(
                    meta=meta(HM_IDS[0]), type="TCP", delay=5, timeout=5, max_retries=3
                ),
                members=[
                    graph_pb2.Member(meta=meta(MEMBER_IDS[0]), address="2001:db8::21",
                                     protocol_port=443, weight=1),
                ],
            )
        ],
    )  # fmt: skip
