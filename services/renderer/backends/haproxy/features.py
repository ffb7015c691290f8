"""What the haproxy renderer can render, and from which haproxy version each construct works."""

from __future__ import annotations

from services.common.errors import Precondition
from services.renderer.domain.versions import FeatureTable

RENDERER_VERSION = "haproxy-1.1.0"

# haproxy constructs the templates use, keyed by the first haproxy version that has them.
# "base" is everything this renderer emits unconditionally (http-check send/expect came in 2.2).
HAPROXY_FEATURES = FeatureTable(
    software="haproxy",
    minimums={
        "base": (2, 2, 0),
        "healthmonitor.http-check.send": (2, 2, 0),
    },
)

# Listener protocol -> haproxy mode. HTTPS is TLS pass-through: haproxy never decrypts it.
LISTENER_PROTOCOLS = {"HTTP": "http", "HTTPS": "tcp", "PROMETHEUS": "http", "TCP": "tcp"}
# Pool protocol -> what the servers are sent: PROXY protocol v1/v2 header or nothing. The backend
# speaks its listener's mode; an HTTPS pool (no tls_enabled) is relayed as bytes (mode tcp).
POOL_PROTOCOLS = {"HTTP": None, "HTTPS": None, "PROXY": "send-proxy", "PROXYV2": "send-proxy-v2",
                  "TCP": None}  # fmt: skip
# Pool protocols an HTTP-mode listener may forward to (Octavia's listener/pool compatibility).
HTTP_POOL_PROTOCOLS = {"HTTP", "PROXY", "PROXYV2"}
LB_ALGORITHMS = {
    "ROUND_ROBIN": "roundrobin",
    "LEAST_CONNECTIONS": "leastconn",
    "SOURCE_IP": "source",
}
# PING is not here: Octavia runs an external ping script (insecure-fork-wanted + external-check),
# and no built-in haproxy 2.6 check tests reachability of the host rather than of the port.
MONITOR_TYPES = {"HTTP", "HTTPS", "TCP", "TLS-HELLO"}
PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
L7_RULE_TYPES = {"HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE"}
L7_COMPARE_TYPES = {"REGEX": "reg", "STARTS_WITH": "beg", "ENDS_WITH": "end", "CONTAINS": "sub",
                    "EQUAL_TO": "str"}  # fmt: skip
L7_ACTIONS = {"REJECT", "REDIRECT_TO_URL", "REDIRECT_PREFIX", "REDIRECT_TO_POOL"}
REDIRECT_CODES = {301, 302, 303, 307, 308}
# Octavia's insert_headers for HTTP listeners; the X-SSL-* ones need TERMINATED_HTTPS.
HTTP_INSERT_HEADERS = {"X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"}
SSL_INSERT_HEADERS = {
    "X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN", "X-SSL-Client-CN",
    "X-SSL-Issuer", "X-SSL-Client-SHA1", "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After",
}  # fmt: skip

# Octavia's full vocabularies: a value outside them is invalid input, a value inside them that
# this renderer cannot do is a failed precondition (the gateway accepted it; the target cannot).
OCTAVIA_LISTENER_PROTOCOLS = {
    "HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS",
}  # fmt: skip
OCTAVIA_POOL_PROTOCOLS = {"HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP"}
OCTAVIA_LB_ALGORITHMS = {"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"}
OCTAVIA_MONITOR_TYPES = {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP"}
OCTAVIA_PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
OCTAVIA_L7_RULE_TYPES = {*L7_RULE_TYPES, "SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT", "SSL_DN_FIELD"}

SUPPORTED_FEATURES: tuple[str, ...] = (
    *(f"listener.protocol.{p}" for p in sorted(LISTENER_PROTOCOLS)),
    "listener.admin_state_up",
    "listener.connection_limit",
    "listener.timeouts",
    *(f"listener.insert_headers.{h}" for h in sorted(HTTP_INSERT_HEADERS)),
    "listener.allowed_cidrs",
    *(f"l7policy.action.{a}" for a in sorted(L7_ACTIONS)),
    *(f"l7rule.type.{t}" for t in sorted(L7_RULE_TYPES)),
    *(f"l7rule.compare_type.{c}" for c in sorted(L7_COMPARE_TYPES)),
    "l7rule.invert",
    *(f"pool.protocol.{p}" for p in sorted(POOL_PROTOCOLS)),
    *(f"pool.lb_algorithm.{a}" for a in sorted(LB_ALGORITHMS)),
    *(f"pool.session_persistence.{t}" for t in sorted(PERSISTENCE_TYPES)),
    "member.admin_state_up",
    "member.backup",
    "member.monitor_address",
    "member.weight",
    *(f"healthmonitor.type.{t}" for t in sorted(MONITOR_TYPES)),
    "healthmonitor.http_version",
    "healthmonitor.domain_name",
    "loadbalancer.admin_state_up",
)


def unsupported(feature: str, field: str) -> Precondition:
    return Precondition(
        f"feature {feature} not supported by renderer {RENDERER_VERSION}", field=field
    )
