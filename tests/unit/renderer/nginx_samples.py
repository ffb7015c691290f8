"""Sample graphs, targets and TLS material for the nginx renderer's unit and integration tests."""

from __future__ import annotations

import functools

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from tests.support import certs

LB_ID = "0d3c6e52-1d7b-4a51-9d3e-5d3f0c7a2a20"
HTTP_LISTENER_ID = "1b1b1b1b-0000-4000-8000-000000000001"
TLS_LISTENER_ID = "1b1b1b1b-0000-4000-8000-000000000002"
TCP_LISTENER_ID = "1b1b1b1b-0000-4000-8000-000000000003"
PASS_LISTENER_ID = "1b1b1b1b-0000-4000-8000-000000000004"
OFF_LISTENER_ID = "1b1b1b1b-0000-4000-8000-000000000005"
WEB_POOL_ID = "2c2c2c2c-0000-4000-8000-000000000001"
API_POOL_ID = "2c2c2c2c-0000-4000-8000-000000000002"
TCP_POOL_ID = "2c2c2c2c-0000-4000-8000-000000000003"
EMPTY_POOL_ID = "2c2c2c2c-0000-4000-8000-000000000004"
MEMBER_IDS = [f"3d3d3d3d-0000-4000-8000-0000000000{i:02d}" for i in range(1, 13)]
POLICY_IDS = [f"6e6e6e6e-0000-4000-8000-0000000000{i:02d}" for i in range(1, 10)]
RULE_IDS = [f"7b7b7b7b-0000-4000-8000-0000000000{i:02d}" for i in range(1, 15)]
DEFAULT_REF = "https://certs.example/v1/containers/default"
SNI_REFS = (
    "https://certs.example/v1/containers/sni-a",
    "https://certs.example/v1/containers/sni-b",
)
# Host names the certificates answer for.
DEFAULT_HOST = "default.example.com"
SNI_HOSTS = (("a.example.com", "www.a.example.com"), ("b.example.com", "*.b.example.com"))


def meta(id_: str, *, up: bool = True) -> graph_pb2.ResourceMeta:
    return graph_pb2.ResourceMeta(id=id_, admin_state_up=up)


def target(**overrides: str) -> renderer_service_pb2.Target:
    values = {
        # An agent of this release: it prepares for workers that drop root (privileges.py).
        "agent_api_version": "1.1",
        "amphora_id": "5e5e5e5e-0000-4000-8000-000000000002",
        "nginx_version": "1.22.1",
        "runtime_dir": "/var/lib/lbaas/run",
        "vip_address": "",
    }
    values.update(overrides)
    return renderer_service_pb2.Target(**values)


def member(index: int, address: str, port: int, **kw) -> graph_pb2.Member:
    up = kw.pop("up", True)
    return graph_pb2.Member(
        meta=meta(MEMBER_IDS[index], up=up),
        address=address,
        protocol_port=port,
        weight=kw.pop("weight", 1),
        **kw,
    )


def pool(pool_id: str, members, *, protocol="HTTP", algorithm="ROUND_ROBIN", **kw):
    return graph_pb2.Pool(
        meta=meta(pool_id, up=kw.pop("up", True)),
        protocol=protocol,
        lb_algorithm=algorithm,
        members=members,
        **kw,
    )


def empty_lb() -> graph_pb2.LoadBalancer:
    return graph_pb2.LoadBalancer(meta=meta(LB_ID), vip=graph_pb2.Vip(address="203.0.113.20"))


def http_lb(**listener_kw) -> graph_pb2.LoadBalancer:
    """One HTTP listener: headers, CIDRs, a connection limit, members of every flavour."""
    web = pool(
        WEB_POOL_ID,
        [
            member(0, "192.0.2.11", 8080, weight=3),
            member(1, "192.0.2.12", 8080, weight=0),  # draining
            member(2, "192.0.2.13", 8080, up=False),
            member(3, "192.0.2.14", 8080, backup=True),
        ],
        algorithm="LEAST_CONNECTIONS",
    )
    values = {
        "meta": meta(HTTP_LISTENER_ID),
        "protocol": "HTTP",
        "protocol_port": 80,
        "connection_limit": 1000,
        "default_pool_id": WEB_POOL_ID,
        "timeout_client_data": 30000,
        "timeout_member_connect": 2000,
        "timeout_member_data": 60000,
        "insert_headers": {
            "X-Forwarded-For": "true",
            "X-Forwarded-Port": "true",
            "X-Forwarded-Proto": "false",
        },
        "allowed_cidrs": ["198.51.100.0/24", "10.1.2.3/8"],
    }
    values.update(listener_kw)
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="203.0.113.20"),
        listeners=[graph_pb2.Listener(**values)],
        pools=[web],
    )


def tls_lb() -> graph_pb2.LoadBalancer:
    """TERMINATED_HTTPS with a default and two SNI certificates, TLS options and HSTS."""
    listener = graph_pb2.Listener(
        meta=meta(TLS_LISTENER_ID),
        protocol="TERMINATED_HTTPS",
        protocol_port=443,
        connection_limit=-1,
        default_pool_id=WEB_POOL_ID,
        insert_headers={"X-Forwarded-Proto": "true"},
        default_tls_container_ref=DEFAULT_REF,
        sni_container_refs=list(SNI_REFS),
        tls_versions=["TLSv1.2", "TLSv1.3"],
        tls_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
        alpn_protocols=["h2", "http/1.1"],
        hsts_max_age=31536000,
        hsts_include_subdomains=True,
    )
    web = pool(WEB_POOL_ID, [member(0, "192.0.2.11", 8080), member(1, "192.0.2.12", 8080)])
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="203.0.113.20"),
        listeners=[listener],
        pools=[web],
    )


def _rule(index: int, type_: str, compare: str, value: str, **kw) -> graph_pb2.L7Rule:
    up = kw.pop("up", True)
    return graph_pb2.L7Rule(
        meta=meta(RULE_IDS[index], up=up), type=type_, compare_type=compare, value=value, **kw
    )


def l7_lb() -> graph_pb2.LoadBalancer:
    """Every action and rule type; positions out of order; disabled policy, rule and pool."""
    policies = [
        graph_pb2.L7Policy(  # position 1 among pools: /api prefix -> API pool
            meta=meta(POLICY_IDS[0]), action="REDIRECT_TO_POOL", position=1,
            redirect_pool_id=API_POOL_ID,
            rules=[_rule(0, "PATH", "STARTS_WITH", "/api")],
        ),
        graph_pb2.L7Policy(  # host AND header, to the API pool
            meta=meta(POLICY_IDS[1]), action="REDIRECT_TO_POOL", position=2,
            redirect_pool_id=API_POOL_ID,
            rules=[
                _rule(1, "HOST_NAME", "EQUAL_TO", "API.example.com"),
                _rule(2, "HEADER", "CONTAINS", "beta", key="X-Channel"),
            ],
        ),
        graph_pb2.L7Policy(  # rejected unless the cookie says otherwise (inverted)
            meta=meta(POLICY_IDS[2]), action="REJECT", position=5,
            rules=[_rule(3, "COOKIE", "EQUAL_TO", "yes", key="allowed", invert=True),
                   _rule(4, "PATH", "STARTS_WITH", "/admin")],
        ),
        graph_pb2.L7Policy(
            meta=meta(POLICY_IDS[3]), action="REDIRECT_TO_URL", position=3,
            redirect_url="https://example.com/moved?from=$old", redirect_http_code=301,
            rules=[_rule(5, "FILE_TYPE", "EQUAL_TO", "php")],
        ),
        graph_pb2.L7Policy(
            meta=meta(POLICY_IDS[4]), action="REDIRECT_PREFIX", position=4,
            redirect_prefix="https://static.example.com",
            rules=[_rule(6, "FILE_TYPE", "REGEX", r"\.(png|jpe?g)$"),
                   _rule(7, "PATH", "ENDS_WITH", ".old", up=False)],
        ),
        graph_pb2.L7Policy(  # disabled: left out
            meta=meta(POLICY_IDS[5], up=False), action="REJECT", position=6,
            rules=[_rule(8, "PATH", "REGEX", "^/")],
        ),
        graph_pb2.L7Policy(  # its pool is disabled: never chosen
            meta=meta(POLICY_IDS[6]), action="REDIRECT_TO_POOL", position=7,
            redirect_pool_id=EMPTY_POOL_ID,
            rules=[_rule(9, "PATH", "EQUAL_TO", "/off")],
        ),
        graph_pb2.L7Policy(  # no enabled rule: never applied
            meta=meta(POLICY_IDS[7]), action="REJECT", position=8,
            rules=[_rule(10, "PATH", "EQUAL_TO", "/x", up=False)],
        ),
    ]  # fmt: skip
    listener = graph_pb2.Listener(
        meta=meta(HTTP_LISTENER_ID),
        protocol="HTTP",
        protocol_port=8080,
        connection_limit=-1,
        default_pool_id=WEB_POOL_ID,
        l7policies=policies,
    )
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="203.0.113.20"),
        listeners=[listener],
        pools=[
            pool(WEB_POOL_ID, [member(0, "192.0.2.11", 80)]),
            pool(
                API_POOL_ID,
                [member(1, "192.0.2.21", 80), member(2, "2001:db8::21", 80)],
                session_persistence=graph_pb2.SessionPersistence(type="SOURCE_IP"),
            ),
            pool(EMPTY_POOL_ID, [member(3, "192.0.2.31", 80)], up=False),
        ],
    )


def stream_lb() -> graph_pb2.LoadBalancer:
    """TCP with a PROXY pool, HTTPS pass-through with SOURCE_IP, an admin-down listener, an
    IPv6 VIP, and a TCP listener whose default pool has no members."""
    listeners = [
        graph_pb2.Listener(
            meta=meta(TCP_LISTENER_ID), protocol="TCP", protocol_port=5432,
            connection_limit=500, default_pool_id=TCP_POOL_ID, allowed_cidrs=["10.0.0.0/8"],
            timeout_client_data=120000,
        ),
        graph_pb2.Listener(
            meta=meta(PASS_LISTENER_ID), protocol="HTTPS", protocol_port=443,
            connection_limit=-1, default_pool_id=WEB_POOL_ID,
        ),
        graph_pb2.Listener(
            meta=meta(OFF_LISTENER_ID, up=False), protocol="TCP", protocol_port=6000,
            connection_limit=-1, default_pool_id=EMPTY_POOL_ID,
        ),
        graph_pb2.Listener(
            meta=meta(HTTP_LISTENER_ID), protocol="TCP", protocol_port=7000,
            connection_limit=-1, default_pool_id=API_POOL_ID,
        ),
    ]  # fmt: skip
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="2001:db8::20"),
        listeners=listeners,
        pools=[
            pool(
                TCP_POOL_ID,
                [member(4, "192.0.2.41", 5432), member(5, "2001:db8::42", 5432, weight=10)],
                protocol="PROXY",
                algorithm="SOURCE_IP",
            ),
            pool(
                WEB_POOL_ID,
                [member(6, "192.0.2.51", 443), member(7, "192.0.2.52", 443)],
                protocol="HTTPS",
                session_persistence=graph_pb2.SessionPersistence(type="SOURCE_IP"),
            ),
            pool(EMPTY_POOL_ID, [member(8, "192.0.2.61", 6000)], protocol="TCP"),
            pool(API_POOL_ID, [], protocol="TCP"),
        ],
    )


@functools.cache
def tls_issued() -> dict[str, certs.Issued]:
    """Certificates by reference (made once per test session: key generation is slow)."""
    ca = certs.make_ca("nginx test CA")
    issued = {DEFAULT_REF: certs.make_leaf(ca, DEFAULT_HOST, [DEFAULT_HOST])}
    for ref, (cn, *sans) in zip(SNI_REFS, SNI_HOSTS, strict=True):
        issued[ref] = certs.make_leaf(ca, cn, [cn, *sans])
    issued["ca"] = ca
    return issued


def tls_materials() -> list[renderer_service_pb2.TlsMaterial]:
    return [
        renderer_service_pb2.TlsMaterial(
            ref=ref, certificate_pem=i.cert_pem, private_key_pem=i.key_pem
        )
        for ref, i in tls_issued().items()
        if ref != "ca"
    ]
