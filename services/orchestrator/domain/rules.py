"""Octavia's validation rules the orchestrator enforces itself (the gateway also checks enums)."""

from __future__ import annotations

LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS")
POOL_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP")
LB_ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
HEALTH_MONITOR_TYPES = ("HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP")
SESSION_PERSISTENCE_TYPES = ("", "SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE")
TOPOLOGIES = ("SINGLE", "ACTIVE_STANDBY")

# Octavia's VALID_LISTENER_POOL_PROTOCOL_MAP: which pool protocols a listener may forward to.
LISTENER_POOL_PROTOCOLS: dict[str, tuple[str, ...]] = {
    "TCP": ("TCP", "HTTP", "HTTPS", "PROXY", "PROXYV2"),
    "HTTP": ("HTTP", "PROXY", "PROXYV2"),
    "HTTPS": ("HTTPS", "PROXY", "PROXYV2", "TCP"),
    "TERMINATED_HTTPS": ("HTTP", "PROXY", "PROXYV2"),
    "UDP": ("UDP",),
    "SCTP": ("SCTP",),
    "PROMETHEUS": (),
}

# Health monitor types allowed per pool protocol (Octavia refuses e.g. UDP-CONNECT on a TCP pool).
_HM_FOR_POOL: dict[str, tuple[str, ...]] = {
    "UDP": ("UDP-CONNECT", "HTTP", "TCP", "SCTP"),
    "SCTP": ("SCTP", "HTTP", "TCP", "UDP-CONNECT"),
}
_HM_FOR_STREAM_POOL = ("HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO")


def pool_protocol_allowed(listener_protocol: str, pool_protocol: str) -> bool:
    return pool_protocol in LISTENER_POOL_PROTOCOLS.get(listener_protocol, ())


def health_monitor_allowed(pool_protocol: str, monitor_type: str) -> bool:
    return monitor_type in _HM_FOR_POOL.get(pool_protocol, _HM_FOR_STREAM_POOL)


def transport(protocol: str) -> str:
    """The L4 transport a listener protocol uses; two listeners on one LB may share a port only
    when their transports differ (a TCP and a UDP listener on port 53)."""
    if protocol == "UDP":
        return "udp"
    if protocol == "SCTP":
        return "sctp"
    return "tcp"


def valid_port(port: int) -> bool:
    return 1 <= port <= 65535
