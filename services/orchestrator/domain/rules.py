"""Octavia's validation rules the orchestrator enforces itself (the gateway also checks enums)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS")
POOL_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP")
LB_ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
HEALTH_MONITOR_TYPES = ("HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP")
SESSION_PERSISTENCE_TYPES = ("", "SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE")
TOPOLOGIES = ("SINGLE", "ACTIVE_STANDBY")
# Backends whose renderer renders keepalived and haproxy peers (an ACTIVE_STANDBY half).
ACTIVE_STANDBY_BACKENDS = ("haproxy",)

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


# -- listener TLS (Octavia's listener validation) ------------------------------------------------

CLIENT_AUTHENTICATION_MODES = ("NONE", "OPTIONAL", "MANDATORY")
TLS_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
ALPN_PROTOCOLS = ("http/1.0", "http/1.1", "h2")
VNIC_TYPES = ("normal", "direct")
# Listener protocols that take no pools and no L7 policies.
LISTENERS_WITHOUT_POOLS = ("PROMETHEUS",)

# -- L7 (Octavia's constants and octavia.common.validate) ---------------------------------------

L7POLICY_ACTIONS = ("REJECT", "REDIRECT_TO_URL", "REDIRECT_TO_POOL", "REDIRECT_PREFIX")
# Actions answered with an HTTP redirect (they carry redirect_http_code).
L7_HTTP_REDIRECTS = ("REDIRECT_TO_URL", "REDIRECT_PREFIX")
L7_REDIRECT_HTTP_CODES = (301, 302, 303, 307, 308)
DEFAULT_REDIRECT_HTTP_CODE = 302
L7_LISTENER_PROTOCOLS = ("HTTP", "TERMINATED_HTTPS")
L7RULE_TYPES = (
    "HOST_NAME",
    "PATH",
    "FILE_TYPE",
    "HEADER",
    "COOKIE",
    "SSL_CONN_HAS_CERT",
    "SSL_VERIFY_RESULT",
    "SSL_DN_FIELD",
)
L7RULE_COMPARE_TYPES = ("REGEX", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO")
MAX_L7RULES_PER_POLICY = 50
MAX_POLICY_POSITION = 2147483647

_HEADER_NAME = re.compile(r"\A[a-zA-Z0-9!#$%&'*+\-.^_`|~]+\Z")
_HEADER_VALUE = re.compile(r"\A[a-zA-Z0-9!\"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~\\]+\Z")
_QUOTED_HEADER_VALUE = re.compile(r"\A\"[a-zA-Z0-9 \t!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]*\"\Z")
_COOKIE_VALUE = re.compile(r"\A[a-zA-Z0-9!#$%&'()*+\-./:<=>?@\[\]^_`{|}~]+\Z")
_DN_FIELD = re.compile(r"\A[a-zA-Z][A-Za-z0-9-]*\Z")
_PLAIN_COMPARES = ("STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO")

Problem = tuple[str, str]  # (field, user message)


def _regex_problem(value: str) -> Problem | None:
    try:
        re.compile(value)
    except re.error as err:
        return "value", f"Invalid regular expression: {err}."
    return None


def _value_problem(compare_type: str, value: str, pattern: re.Pattern[str]) -> Problem | None:
    if compare_type == "REGEX":
        return _regex_problem(value)
    if compare_type not in _PLAIN_COMPARES:
        return "compare_type", f"Invalid comparison type {compare_type} for this rule type."
    if pattern.match(value) or (pattern is _HEADER_VALUE and _QUOTED_HEADER_VALUE.match(value)):
        return None
    return "value", "Invalid characters in the comparison value."


def l7rule_problem(rule_type: str, compare_type: str, key: str, value: str) -> Problem | None:
    """What is wrong with an L7 rule, following octavia.common.validate.l7rule_data (None: ok)."""
    if rule_type not in L7RULE_TYPES:
        return "type", f"Invalid L7 rule type {rule_type!r}."
    if compare_type not in L7RULE_COMPARE_TYPES:
        return "compare_type", f"Invalid L7 rule compare_type {compare_type!r}."
    if rule_type == "SSL_CONN_HAS_CERT":
        if key:
            return "key", "L7 rule type SSL_CONN_HAS_CERT does not use the key field."
        if value.lower() != "true":
            return "value", "L7 rule type SSL_CONN_HAS_CERT needs the value 'True'."
        if compare_type != "EQUAL_TO":
            return "compare_type", "L7 rule type SSL_CONN_HAS_CERT only supports EQUAL_TO."
        return None
    if rule_type == "SSL_VERIFY_RESULT":
        if key:
            return "key", "L7 rule type SSL_VERIFY_RESULT does not use the key field."
        if not value.isdigit():
            return "value", "L7 rule type SSL_VERIFY_RESULT needs an integer value >= 0."
        if compare_type != "EQUAL_TO":
            return "compare_type", "L7 rule type SSL_VERIFY_RESULT only supports EQUAL_TO."
        return None
    if rule_type == "SSL_DN_FIELD":
        if not key or not value:
            return (
                "key" if not key else "value",
                "L7 rule type SSL_DN_FIELD needs a key and a value.",
            )
        if not _DN_FIELD.match(key):
            return "key", "Invalid L7 rule distinguished name field."
        return _regex_problem(value) if compare_type == "REGEX" else None
    if not value:
        return "value", "L7 rule type requires a value."
    if rule_type in ("HEADER", "COOKIE"):
        if not key:
            return "key", f"L7 rule type {rule_type} requires a key."
        if not _HEADER_NAME.match(key):
            return "key", "Invalid characters in the key."
        return _value_problem(
            compare_type, value, _HEADER_VALUE if rule_type == "HEADER" else _COOKIE_VALUE
        )
    if rule_type == "FILE_TYPE" and compare_type not in ("REGEX", "EQUAL_TO"):
        return "compare_type", "L7 rule type FILE_TYPE supports only REGEX and EQUAL_TO."
    return _value_problem(compare_type, value, _HEADER_VALUE)


def redirect_url_problem(url: str, field: str) -> Problem | None:
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return field, f"{field} must be an absolute http or https URL."
    return None


def listener_tls_problem(v: dict[str, Any]) -> Problem | None:
    """Octavia's listener TLS checks over the listener's complete (merged) values."""
    terminated = v.get("protocol") == "TERMINATED_HTTPS"
    if terminated and not v.get("default_tls_container_ref") and not v.get("sni_container_refs"):
        # Octavia's rule: either will do; without a default, the first SNI certificate answers
        # clients that send no name or one no certificate has.
        return (
            "default_tls_container_ref",
            "An SNI or default certificate container reference must be provided for "
            "TERMINATED_HTTPS listeners.",
        )
    if not terminated:
        for name in (
            "default_tls_container_ref",
            "sni_container_refs",
            "client_ca_tls_container_ref",
            "client_crl_container_ref",
            "tls_versions",
            "tls_ciphers",
            "alpn_protocols",
        ):
            if v.get(name):
                return name, f"{name} is only allowed on TERMINATED_HTTPS listeners."
        if v.get("client_authentication", "NONE") != "NONE":
            return (
                "client_authentication",
                "client_authentication is only allowed on TERMINATED_HTTPS listeners.",
            )
        if v.get("hsts_max_age") is not None:
            return "hsts_max_age", "HSTS can only be used on TERMINATED_HTTPS listeners."
    mode = v.get("client_authentication", "NONE")
    if mode not in CLIENT_AUTHENTICATION_MODES:
        return "client_authentication", f"Invalid client_authentication {mode!r}."
    if mode != "NONE" and not v.get("client_ca_tls_container_ref"):
        return (
            "client_ca_tls_container_ref",
            f"Client authentication {mode} requires a client_ca_tls_container_ref.",
        )
    if v.get("client_crl_container_ref") and not v.get("client_ca_tls_container_ref"):
        return (
            "client_crl_container_ref",
            "A client_crl_container_ref requires a client_ca_tls_container_ref.",
        )
    if (v.get("hsts_include_subdomains") or v.get("hsts_preload")) and v.get(
        "hsts_max_age"
    ) is None:
        return (
            "hsts_max_age",
            "hsts_include_subdomains and hsts_preload need hsts_max_age to be set.",
        )
    if v.get("hsts_max_age") is not None and v["hsts_max_age"] < 0:
        return "hsts_max_age", "hsts_max_age must not be negative."
    return tls_lists_problem(v)


def tls_lists_problem(v: dict[str, Any]) -> Problem | None:
    for version in v.get("tls_versions") or ():
        if version not in TLS_VERSIONS:
            return "tls_versions", f"Invalid TLS version {version!r}."
    for proto in v.get("alpn_protocols") or ():
        if proto not in ALPN_PROTOCOLS:
            return "alpn_protocols", f"Invalid ALPN protocol {proto!r}."
    return None


def pool_tls_problem(v: dict[str, Any]) -> Problem | None:
    if v.get("crl_container_ref") and not v.get("ca_tls_container_ref"):
        return "crl_container_ref", "A crl_container_ref requires a ca_tls_container_ref."
    return tls_lists_problem(v)


def allowed_cidrs_problem(cidrs: Iterable[str], vip_addresses: Iterable[str]) -> str | None:
    """Octavia's rule: each allowed CIDR must be of the IP version of one of the load balancer's
    VIPs (an IPv6 CIDR on an IPv4-only load balancer would never match a client)."""
    addresses = [a for a in vip_addresses if a]
    versions = {ipaddress.ip_address(a).version for a in addresses}
    if not versions:
        return None
    for cidr in cidrs:
        if ipaddress.ip_network(cidr, strict=False).version not in versions:
            return (
                f"CIDR {cidr} IP version incompatible with all VIPs "
                f"{', '.join(addresses)} IP version."
            )
    return None
