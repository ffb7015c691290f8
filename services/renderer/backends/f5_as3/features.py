"""What the f5-as3 renderer can render: the graph vocabulary it maps onto AS3 classes."""

from __future__ import annotations

from services.common.errors import Precondition

RENDERER_VERSION = "f5-as3-1.0.0"
# The AS3 schema version declarations are written for (and validated against in tests).
SCHEMA_VERSION = "3.56.0"

# Listener protocol -> AS3 service class. HTTPS is TLS pass-through (the BIG-IP never decrypts
# it); TERMINATED_HTTPS ends TLS on the BIG-IP with a TLS_Server profile.
LISTENER_CLASSES = {
    "HTTP": "Service_HTTP",
    "HTTPS": "Service_TCP",
    "TCP": "Service_TCP",
    "TERMINATED_HTTPS": "Service_HTTPS",
}
HTTP_LISTENERS = {"HTTP", "TERMINATED_HTTPS"}
POOL_PROTOCOLS = {"HTTP", "HTTPS", "TCP"}
# Pool protocols an HTTP or TERMINATED_HTTPS listener may forward to.
HTTP_POOL_PROTOCOLS = {"HTTP", "PROXY", "PROXYV2"}
# Octavia's algorithms are weighted; AS3's round-robin and least-connections ignore ratios.
LB_ALGORITHMS = {
    "ROUND_ROBIN": "ratio-member",
    "LEAST_CONNECTIONS": "ratio-least-connections-member",
}
MONITOR_TYPES = {"HTTP": "http", "HTTPS": "https", "PING": "icmp", "TCP": "tcp"}
PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
L7_RULE_TYPES = {"HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE"}
# Octavia compare type -> (operand, inverted operand) of an AS3 Policy_Compare_String. REGEX has
# no endpoint-policy form (it would need an iRule built from user text).
L7_COMPARE_TYPES = {
    "EQUAL_TO": ("equals", "does-not-equal"),
    "STARTS_WITH": ("starts-with", "does-not-start-with"),
    "ENDS_WITH": ("ends-with", "does-not-end-with"),
    "CONTAINS": ("contains", "does-not-contain"),
}
L7_ACTIONS = {"REJECT", "REDIRECT_TO_URL", "REDIRECT_PREFIX", "REDIRECT_TO_POOL"}
HTTP_INSERT_HEADERS = {"X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"}
TLS_VERSIONS = {
    "SSLv3": "ssl3Enabled",
    "TLSv1": "tls1_0Enabled",
    "TLSv1.1": "tls1_1Enabled",
    "TLSv1.2": "tls1_2Enabled",
    "TLSv1.3": "tls1_3Enabled",
}

# Octavia's full vocabularies: a value outside them is invalid input, a value inside them that
# this renderer cannot do is a failed precondition.
OCTAVIA_LISTENER_PROTOCOLS = {
    "HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS",
}  # fmt: skip
OCTAVIA_POOL_PROTOCOLS = {"HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP"}
OCTAVIA_LB_ALGORITHMS = {"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"}
OCTAVIA_PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
OCTAVIA_L7_RULE_TYPES = {*L7_RULE_TYPES, "SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT", "SSL_DN_FIELD"}
OCTAVIA_L7_COMPARE_TYPES = {*L7_COMPARE_TYPES, "REGEX"}

SUPPORTED_FEATURES: tuple[str, ...] = (
    *(f"listener.protocol.{p}" for p in sorted(LISTENER_CLASSES)),
    "listener.admin_state_up",
    "listener.connection_limit",
    *(f"listener.insert_headers.{h}" for h in sorted(HTTP_INSERT_HEADERS)),
    "listener.allowed_cidrs",
    "listener.client_authentication",
    "listener.sni",
    "listener.tls_versions",
    "listener.tls_versions_sslv3",
    "listener.tls_versions_noncontiguous",
    "listener.tls_ciphers",
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
    *(f"healthmonitor.type.{t}" for t in sorted(MONITOR_TYPES)),
    "healthmonitor.http_version",
    "healthmonitor.domain_name",
    "loadbalancer.admin_state_up",
)


def unsupported(feature: str, field: str, why: str = "") -> Precondition:
    detail = f" ({why})" if why else ""
    return Precondition(
        f"feature {feature} not supported by renderer {RENDERER_VERSION}{detail}", field=field
    )
