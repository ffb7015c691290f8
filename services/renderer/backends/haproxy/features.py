"""What the haproxy renderer can render, and from which haproxy version each construct works."""

from __future__ import annotations

from services.common.errors import Precondition
from services.renderer.domain.versions import FeatureTable

RENDERER_VERSION = "haproxy-1.0.0"

# haproxy constructs the templates use, keyed by the first haproxy version that has them.
# "base" is everything this renderer emits unconditionally (http-check send/expect came in 2.2).
HAPROXY_FEATURES = FeatureTable(
    software="haproxy",
    minimums={
        "base": (2, 2, 0),
        "healthmonitor.http-check.send": (2, 2, 0),
    },
)

LISTENER_PROTOCOLS = {"HTTP": "http", "TCP": "tcp"}
POOL_PROTOCOLS = {"HTTP", "TCP"}
LB_ALGORITHMS = {
    "ROUND_ROBIN": "roundrobin",
    "LEAST_CONNECTIONS": "leastconn",
    "SOURCE_IP": "source",
}
MONITOR_TYPES = {"HTTP", "HTTPS", "TCP"}

# Octavia's full vocabularies: a value outside them is invalid input, a value inside them that
# this renderer cannot do is a failed precondition (the gateway accepted it; the target cannot).
OCTAVIA_LISTENER_PROTOCOLS = {
    "HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS",
}  # fmt: skip
OCTAVIA_POOL_PROTOCOLS = {"HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP"}
OCTAVIA_LB_ALGORITHMS = {"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"}
OCTAVIA_MONITOR_TYPES = {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP"}
OCTAVIA_PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}

SUPPORTED_FEATURES: tuple[str, ...] = (
    *(f"listener.protocol.{p}" for p in sorted(LISTENER_PROTOCOLS)),
    "listener.admin_state_up",
    "listener.connection_limit",
    "listener.timeouts",
    *(f"pool.protocol.{p}" for p in sorted(POOL_PROTOCOLS)),
    *(f"pool.lb_algorithm.{a}" for a in sorted(LB_ALGORITHMS)),
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
