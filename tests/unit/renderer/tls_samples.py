"""TLS sample graphs and their certificate material, shared by the renderer's unit, integration
and benchmark code.

Certificates are made once per process (EC keys: fast); rendered config text depends only on the
references and the certificates' names, so goldens stay stable while key material changes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from lbaas.common.v1 import graph_pb2
from lbaas.renderer.v1 import renderer_service_pb2

from tests.support import certs
from tests.unit.renderer.renderer_samples import LB_ID, meta

TLS_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000021"
REDIRECT_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000022"
OPTIONAL_LISTENER_ID = "1a1a1a1a-0000-4000-8000-000000000023"
WEB_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000021"  # default pool of the TLS listener
ADMIN_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000022"  # L7 target of the SSL_DN_FIELD rule
REENC_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000023"  # re-encrypting, verified
NOVERIFY_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000024"  # re-encrypting, not verified
PLAIN_POOL_ID = "2b2b2b2b-0000-4000-8000-000000000025"  # plain HTTP, HTTPS monitor
POLICY_IDS = [f"6f6f6f6f-0000-4000-8000-0000000000{i}" for i in range(21, 26)]
RULE_IDS = [f"7a7a7a7a-0000-4000-8000-0000000000{i}" for i in range(21, 27)]
MEMBER_IDS = [f"3c3c3c3c-0000-4000-8000-0000000000{i}" for i in range(21, 31)]
HM_IDS = [f"4d4d4d4d-0000-4000-8000-0000000000{i}" for i in range(21, 25)]

REF = "https://key-manager.example/v1/containers/"
DEFAULT_REF = REF + "default"
SNI_A_REF = REF + "sni-a"
SNI_B_REF = REF + "sni-b"
CLIENT_CA_REF = REF + "client-ca"
CLIENT_CRL_REF = REF + "client-crl"
BACKEND_CA_REF = REF + "backend-ca"
BACKEND_CLIENT_REF = REF + "backend-client"
BACKEND_CRL_REF = REF + "backend-crl"

DEFAULT_NAME = "default.example.test"
SNI_A_NAMES = ("a.example.test", "www.a.example.test")
SNI_B_NAMES = ("b.example.test", "*.b.example.test")
ADMIN_CN = "admin-client"
# Octavia's default listener ciphers mix TLS 1.3 suites and older ciphers.
CIPHERS = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"


@dataclass(frozen=True)
class Pki:
    """Everything a TLS sample needs: server certs, the client CA and a client, the backend CA,
    a certificate the backend presents and one haproxy presents to it."""

    server_ca: certs.Issued
    default: certs.Issued
    sni_a: certs.Issued
    sni_b: certs.Issued
    client_ca: certs.Issued
    client: certs.Issued
    other_client: certs.Issued
    revoked_client: certs.Issued
    client_crl: bytes
    backend_ca: certs.Issued
    backend_server: certs.Issued
    backend_client: certs.Issued
    backend_crl: bytes


@functools.cache
def pki() -> Pki:
    server_ca = certs.make_ca("Sample Server CA")
    client_ca = certs.make_ca("Sample Client CA")
    backend_ca = certs.make_ca("Sample Backend CA")
    revoked = certs.make_leaf(client_ca, "revoked-client", client=True)
    return Pki(
        server_ca=server_ca,
        default=certs.make_leaf(server_ca, DEFAULT_NAME, [DEFAULT_NAME]),
        sni_a=certs.make_leaf(server_ca, SNI_A_NAMES[0], SNI_A_NAMES),
        sni_b=certs.make_leaf(server_ca, SNI_B_NAMES[0], SNI_B_NAMES),
        client_ca=client_ca,
        client=certs.make_leaf(client_ca, ADMIN_CN, client=True),
        other_client=certs.make_leaf(client_ca, "user-client", client=True),
        revoked_client=revoked,
        client_crl=certs.make_crl(client_ca, [revoked]),
        backend_ca=backend_ca,
        backend_server=certs.make_leaf(backend_ca, "backend.example.test", ["127.0.0.1"]),
        backend_client=certs.make_leaf(backend_ca, "lbaas-haproxy", client=True),
        backend_crl=certs.make_crl(backend_ca),
    )


def _bundle(ref: str, issued: certs.Issued) -> renderer_service_pb2.TlsMaterial:
    return renderer_service_pb2.TlsMaterial(
        ref=ref,
        certificate_pem=issued.cert_pem,
        private_key_pem=issued.key_pem,
        intermediates_pem=issued.chain_pem,
    )


def materials() -> list[renderer_service_pb2.TlsMaterial]:
    p = pki()
    TM = renderer_service_pb2.TlsMaterial  # noqa: N806
    return [
        _bundle(DEFAULT_REF, p.default),
        _bundle(SNI_A_REF, p.sni_a),
        _bundle(SNI_B_REF, p.sni_b),
        TM(ref=CLIENT_CA_REF, certificate_pem=p.client_ca.cert_pem),
        TM(ref=CLIENT_CRL_REF, crl_pem=p.client_crl),
        TM(ref=BACKEND_CA_REF, certificate_pem=p.backend_ca.cert_pem),
        _bundle(BACKEND_CLIENT_REF, p.backend_client),
        TM(ref=BACKEND_CRL_REF, crl_pem=p.backend_crl),
    ]


def _rule(index: int, type_: str, compare: str, value: str, **kw) -> graph_pb2.L7Rule:
    return graph_pb2.L7Rule(
        meta=meta(RULE_IDS[index]), type=type_, compare_type=compare, value=value, **kw
    )


def _members(ids: Sequence[str], addresses: Sequence[tuple[str, int]]) -> list[graph_pb2.Member]:
    return [
        graph_pb2.Member(meta=meta(mid), address=addr, protocol_port=port, weight=1)
        for mid, (addr, port) in zip(ids, addresses, strict=True)
    ]


def terminated_lb(
    *,
    https_port: int = 443,
    http_port: int = 80,
    web: Sequence[tuple[str, int]] = (("192.0.2.21", 8080),),
    admin: Sequence[tuple[str, int]] = (("192.0.2.22", 8080),),
    auth: str = "MANDATORY",
    redirect_to: str = "https://www.example.test",
) -> graph_pb2.LoadBalancer:
    """A TERMINATED_HTTPS listener (default + two SNI certificates, client authentication with
    CA and CRL, TLS 1.2-1.3, split ciphers, ALPN, HSTS, every X-SSL-* header, SSL_* L7 rules)
    and an HTTP listener that redirects to HTTPS."""
    tls_listener = graph_pb2.Listener(
        meta=meta(TLS_LISTENER_ID),
        protocol="TERMINATED_HTTPS",
        protocol_port=https_port,
        connection_limit=-1,
        default_pool_id=WEB_POOL_ID,
        default_tls_container_ref=DEFAULT_REF,
        sni_container_refs=[SNI_A_REF, SNI_B_REF],
        client_authentication=auth,
        client_ca_tls_container_ref=CLIENT_CA_REF,
        client_crl_container_ref=CLIENT_CRL_REF,
        tls_versions=["TLSv1.3", "TLSv1.2"],
        tls_ciphers=CIPHERS,
        alpn_protocols=["h2", "http/1.1"],
        hsts_max_age=31536000,
        hsts_include_subdomains=True,
        hsts_preload=True,
        insert_headers={
            "X-Forwarded-For": "true",
            "X-Forwarded-Proto": "true",
            "X-SSL-Client-Verify": "true",
            "X-SSL-Client-Has-Cert": "true",
            "X-SSL-Client-DN": "true",
            "X-SSL-Client-CN": "true",
            "X-SSL-Issuer": "true",
            "X-SSL-Client-SHA1": "true",
            "X-SSL-Client-Not-Before": "true",
            "X-SSL-Client-Not-After": "true",
        },
        l7policies=[
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[0]),
                action="REJECT",
                position=1,
                rules=[
                    _rule(0, "SSL_CONN_HAS_CERT", "EQUAL_TO", "True"),
                    _rule(1, "SSL_VERIFY_RESULT", "EQUAL_TO", "0", invert=True),
                ],
            ),
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[1]),
                action="REDIRECT_TO_POOL",
                position=2,
                redirect_pool_id=ADMIN_POOL_ID,
                rules=[_rule(2, "SSL_DN_FIELD", "EQUAL_TO", ADMIN_CN, key="CN")],
            ),
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[2]),
                action="REDIRECT_TO_POOL",
                position=3,
                redirect_pool_id=ADMIN_POOL_ID,
                rules=[_rule(3, "SSL_DN_FIELD", "REGEX", "^ops-[0-9]+$", key="OU")],
            ),
        ],
    )
    redirect_listener = graph_pb2.Listener(
        meta=meta(REDIRECT_LISTENER_ID),
        protocol="HTTP",
        protocol_port=http_port,
        connection_limit=-1,
        l7policies=[
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[3]),
                action="REDIRECT_PREFIX",
                position=1,
                redirect_prefix=redirect_to,
                redirect_http_code=301,
                rules=[_rule(4, "PATH", "STARTS_WITH", "/")],
            )
        ],
    )
    pools = [
        graph_pb2.Pool(
            meta=meta(WEB_POOL_ID),
            protocol="HTTP",
            lb_algorithm="ROUND_ROBIN",
            members=_members(MEMBER_IDS[0:1], web),
        ),
        graph_pb2.Pool(
            meta=meta(ADMIN_POOL_ID),
            protocol="HTTP",
            lb_algorithm="ROUND_ROBIN",
            members=_members(MEMBER_IDS[1:2], admin),
        ),
    ]
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="203.0.113.10"),
        topology="SINGLE",
        listeners=[tls_listener, redirect_listener],
        pools=pools,
    )


def reencrypt_lb(
    *,
    port: int = 443,
    reenc: Sequence[tuple[str, int]] = (("192.0.2.31", 8443), ("192.0.2.32", 8443)),
) -> graph_pb2.LoadBalancer:
    """A TERMINATED_HTTPS listener with OPTIONAL client authentication in front of a verified
    re-encrypting pool (client certificate, CRL, versions, ciphers, ALPN, HTTPS monitor), plus
    an HTTP listener whose L7 policies reach an unverified re-encrypting pool (HEAD monitor) and
    a plain pool with an HTTPS monitor, members with weight 0, backup and a monitor address."""
    listener = graph_pb2.Listener(
        meta=meta(OPTIONAL_LISTENER_ID),
        protocol="TERMINATED_HTTPS",
        protocol_port=port,
        connection_limit=1000,
        default_pool_id=REENC_POOL_ID,
        default_tls_container_ref=DEFAULT_REF,
        client_authentication="OPTIONAL",
        client_ca_tls_container_ref=CLIENT_CA_REF,
        insert_headers={"X-SSL-Client-CN": "true", "X-Forwarded-Port": "true"},
    )
    http_listener = graph_pb2.Listener(
        meta=meta(REDIRECT_LISTENER_ID),
        protocol="HTTP",
        protocol_port=80,
        connection_limit=-1,
        default_pool_id=NOVERIFY_POOL_ID,
        l7policies=[
            graph_pb2.L7Policy(
                meta=meta(POLICY_IDS[4]),
                action="REDIRECT_TO_POOL",
                position=1,
                redirect_pool_id=PLAIN_POOL_ID,
                rules=[_rule(5, "PATH", "STARTS_WITH", "/plain")],
            )
        ],
    )
    reenc_pool = graph_pb2.Pool(
        meta=meta(REENC_POOL_ID),
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
        tls_enabled=True,
        tls_container_ref=BACKEND_CLIENT_REF,
        ca_tls_container_ref=BACKEND_CA_REF,
        crl_container_ref=BACKEND_CRL_REF,
        tls_versions=["TLSv1.2", "TLSv1.3"],
        tls_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256",
        alpn_protocols=["http/1.1"],
        healthmonitor=graph_pb2.HealthMonitor(
            meta=meta(HM_IDS[0]),
            type="HTTPS",
            delay=2,
            timeout=1,
            max_retries=2,
            max_retries_down=2,
            url_path="/health",
            expected_codes="200",
        ),
        members=_members(MEMBER_IDS[2 : 2 + len(reenc)], reenc),
    )
    noverify_pool = graph_pb2.Pool(
        meta=meta(NOVERIFY_POOL_ID),
        protocol="HTTP",
        lb_algorithm="LEAST_CONNECTIONS",
        tls_enabled=True,
        tls_container_ref="",
        ca_tls_container_ref="",
        healthmonitor=graph_pb2.HealthMonitor(
            meta=meta(HM_IDS[1]),
            type="HTTP",
            delay=5,
            timeout=3,
            max_retries=3,
            http_method="HEAD",
            url_path="/",
            expected_codes="200,204",
        ),
        members=[
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[6]), address="192.0.2.41", protocol_port=443, weight=0
            ),
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[7]),
                address="192.0.2.42",
                protocol_port=443,
                weight=5,
                backup=True,
                monitor_address="192.0.2.142",
                monitor_port=8443,
            ),
        ],
    )
    plain_pool = graph_pb2.Pool(
        meta=meta(PLAIN_POOL_ID),
        protocol="HTTP",
        lb_algorithm="ROUND_ROBIN",
        healthmonitor=graph_pb2.HealthMonitor(
            meta=meta(HM_IDS[2]),
            type="HTTPS",
            delay=5,
            timeout=3,
            max_retries=3,
            url_path="/",
            expected_codes="200-299",
        ),
        members=[
            graph_pb2.Member(
                meta=meta(MEMBER_IDS[8]), address="192.0.2.51", protocol_port=443, weight=1
            )
        ],
    )
    return graph_pb2.LoadBalancer(
        meta=meta(LB_ID),
        vip=graph_pb2.Vip(address="203.0.113.10"),
        topology="SINGLE",
        listeners=[listener, http_listener],
        pools=[reenc_pool, noverify_pool, plain_pool],
    )
