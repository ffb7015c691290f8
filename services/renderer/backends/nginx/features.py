"""What the nginx renderer can render, and from which nginx version each construct works.

Open-source nginx has no active health checks, no cookie insertion and cannot learn a cookie
from a response, so HTTP_COOKIE, APP_COOKIE and every health monitor type are left out; the
API refuses them on an nginx-flavored load balancer with a 400 naming the feature.
"""

from __future__ import annotations

from services.common.errors import Precondition
from services.renderer.domain.versions import FeatureTable, Version, format_version

RENDERER_VERSION = "nginx-1.3.0"
# Who nginx's workers run as when the agent prepares for it (domain/privileges.py): Debian's
# www-data (base-passwd), as Debian's own nginx.conf has it; the master stays root. Without the
# directive a root master starts its workers as nobody.
WORKER_USER = "www-data"
WORKER_GROUP = "www-data"

# nginx constructs the template uses, keyed by the first nginx version that has them.
# "base": stream hash/least_conn/proxy_protocol, map with regex keys, TLSv1.3 (all <= 1.15.x);
# 1.18 is the oldest release still shipped by the distributions this is tested against.
# "http2.directive": `http2 on;` replaced the `listen ... http2` parameter in 1.25.1.
# "ssl_conf_command": OpenSSL settings nginx has no directive for (TLS 1.3 Ciphersuites), 1.19.4.
NGINX_FEATURES = FeatureTable(
    software="nginx",
    minimums={
        "base": (1, 18, 0),
        "ssl_conf_command": (1, 19, 4),
        "http2.directive": (1, 25, 1),
    },
)
# TLS 1.3 cipher suites: OpenSSL takes them apart from the older ciphers (ssl_ciphers ignores
# them, and refuses a list of nothing else).
TLS13_CIPHERSUITES = frozenset({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                "TLS_AES_128_CCM_8_SHA256"})  # fmt: skip

# Listener protocol -> nginx context. HTTPS is TLS pass-through: nginx never decrypts it.
LISTENER_PROTOCOLS = {
    "HTTP": "http",
    "TERMINATED_HTTPS": "http",
    "HTTPS": "stream",
    "TCP": "stream",
}
# Pool protocols and what the members are sent; PROXY (v1) only from stream listeners (the http
# proxy module cannot send a PROXY header), PROXYV2 not at all (nginx sends v1 only).
POOL_PROTOCOLS = {"HTTP", "HTTPS", "TCP", "PROXY"}
HTTP_POOL_PROTOCOLS = {"HTTP"}
LB_ALGORITHMS = {"ROUND_ROBIN": None, "LEAST_CONNECTIONS": "least_conn", "SOURCE_IP": "source"}
PERSISTENCE_TYPES = {"SOURCE_IP"}
L7_RULE_TYPES = {"HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE"}
L7_COMPARE_TYPES = {"REGEX", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO"}
L7_ACTIONS = {"REJECT", "REDIRECT_TO_URL", "REDIRECT_PREFIX", "REDIRECT_TO_POOL"}
INSERT_HEADERS = {"X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"}
# Octavia's TLS versions, oldest first. SSLv3 is not here (OpenSSL 3 builds leave it out), and a
# set with a hole is refused: OpenSSL >= 1.1 turns nginx's ssl_protocols into one min-max range.
TLS_VERSION_ORDER = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
TLS_VERSIONS = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
# Octavia's default when a TERMINATED_HTTPS listener names none.
DEFAULT_TLS_VERSIONS = ("TLSv1.2", "TLSv1.3")

# Octavia's full vocabularies: a value outside them is invalid input, a value inside them that
# this renderer cannot do is a failed precondition naming the feature.
OCTAVIA_LISTENER_PROTOCOLS = {
    "HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS",
}  # fmt: skip
OCTAVIA_POOL_PROTOCOLS = {"HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP"}
OCTAVIA_LB_ALGORITHMS = {"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"}
OCTAVIA_PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
OCTAVIA_L7_RULE_TYPES = {*L7_RULE_TYPES, "SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT", "SSL_DN_FIELD"}
OCTAVIA_INSERT_HEADERS = {
    *INSERT_HEADERS,
    "X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN", "X-SSL-Client-CN",
    "X-SSL-Issuer", "X-SSL-Client-SHA1", "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After",
}  # fmt: skip

SUPPORTED_FEATURES: tuple[str, ...] = (
    *(f"listener.protocol.{p}" for p in sorted(LISTENER_PROTOCOLS)),
    "listener.admin_state_up",
    "listener.connection_limit",
    "listener.timeouts",
    *(f"listener.insert_headers.{h}" for h in sorted(INSERT_HEADERS)),
    "listener.allowed_cidrs",
    "listener.sni",
    "listener.tls_versions",
    "listener.tls_ciphers",
    "listener.alpn_protocols",
    "listener.hsts",
    *(f"l7policy.action.{a}" for a in sorted(L7_ACTIONS)),
    *(f"l7rule.type.{t}" for t in sorted(L7_RULE_TYPES)),
    *(f"l7rule.compare_type.{c}" for c in sorted(L7_COMPARE_TYPES)),
    "l7rule.invert",
    *(f"pool.protocol.{p}" for p in sorted(POOL_PROTOCOLS)),
    *(f"pool.lb_algorithm.{a}" for a in sorted(LB_ALGORITHMS)),
    *(f"pool.session_persistence.{t}" for t in sorted(PERSISTENCE_TYPES)),
    "member.admin_state_up",
    "member.backup",
    "member.weight",
    "loadbalancer.admin_state_up",
)


def unsupported(feature: str, field: str, why: str = "") -> Precondition:
    detail = f": {why}" if why else ""
    return Precondition(
        f"feature {feature} not supported by renderer {RENDERER_VERSION}{detail}", field=field
    )


def require(feature: str, version: Version) -> None:
    """Precondition naming the feature and the target's nginx version when it is too old."""
    if not NGINX_FEATURES.supports(feature, version):
        minimum = NGINX_FEATURES.minimums[feature]
        raise Precondition(
            f"feature {feature} requires nginx >= {format_version(minimum)}, "
            f"target runs nginx {format_version(version)}",
            field="target.nginx_version",
        )
