"""Octavia's validation rules, in one place: option lists, protocol pairs, TLS and L7 constraints.
The gateway checks only a request's shape; the orchestrator applies these and names the field."""

from __future__ import annotations

import copy
import ipaddress
import re
import ssl
from collections.abc import Iterable
from typing import Any

LISTENER_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS")
POOL_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "PROXY", "PROXYV2", "UDP", "SCTP")
LB_ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
HEALTH_MONITOR_TYPES = ("HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP")
HTTP_METHODS = ("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")
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


def not_one_of(value: object, options: Iterable[object]) -> str | None:
    """Octavia's (WSME's) message for a value outside an option list, or None when it is one."""
    allowed = tuple(options)
    if value in allowed:
        return None
    return f"Value: '{value}'. Value should be one of: {', '.join(str(o) for o in allowed)}"


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

# Octavia's patterns (octavia.common.constants), then what every renderer can write into a config
# line: where Octavia takes more than a config line can carry, the value is refused here with a
# 400 instead of failing later in the renderer (the load balancer in ERROR). Those departures are
# listed in docs/compat.md.
_HEADER_VALUE = re.compile(r"\A[a-zA-Z0-9!\"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~\\]+\Z")
_QUOTED_HEADER_VALUE = re.compile(r"\A\"[a-zA-Z0-9 \t!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]*\"\Z")
_COOKIE_VALUE = re.compile(r"\A[a-zA-Z0-9!#$%&'()*+\-./:<=>?@\[\]^_`{|}~]+\Z")
# Header and cookie names: Octavia takes any RFC 7230 token; the renderers name them in sample
# fetches (haproxy) and variables (nginx), where only these characters are safe.
_HTTP_NAME = re.compile(r"\A[A-Za-z0-9_.-]{1,255}\Z")
# A distinguished-name attribute as the client certificate's subject names it (CN, OU,
# emailAddress): Octavia's shape without '-', which no attribute name has.
_DN_FIELD = re.compile(r"\A[A-Za-z][A-Za-z0-9]{0,63}\Z")
# A literal compared value: printable ASCII without spaces, quotes or backslashes (the renderers
# quote it without escapes). Octavia also takes a double-quoted header value with spaces.
_PLAIN_VALUE = re.compile(r"\A[!#-&(-\[\]-~]{1,255}\Z")
# A regular expression: printable ASCII without spaces or quotes (a space is written \x20).
_REGEX_VALUE = re.compile(r"\A[!#-&(-~]{1,255}\Z")
_PLAIN_COMPARES = ("STARTS_WITH", "ENDS_WITH", "CONTAINS", "EQUAL_TO")
MAX_VERIFY_RESULT = 2147483647

Problem = tuple[str, str]  # (field, user message)


def _regex_problem(value: str) -> Problem | None:
    if not _REGEX_VALUE.match(value):
        return "value", (
            "Invalid regular expression: 1-255 printable ASCII characters without spaces or "
            "quotes (write a space as \\x20)."
        )
    try:
        re.compile(value)
    except re.error as err:
        return "value", f"Invalid regular expression: {err}."
    return None


def _plain_value_problem(value: str) -> Problem | None:
    if _PLAIN_VALUE.match(value):
        return None
    return "value", (
        "Invalid characters in the comparison value: 1-255 printable ASCII characters without "
        "spaces, quotes or backslashes."
    )


def _value_problem(compare_type: str, value: str, pattern: re.Pattern[str]) -> Problem | None:
    if compare_type == "REGEX":
        return _regex_problem(value)
    if compare_type not in _PLAIN_COMPARES:
        return "compare_type", f"Invalid comparison type {compare_type} for this rule type."
    if pattern.match(value) or (pattern is _HEADER_VALUE and _QUOTED_HEADER_VALUE.match(value)):
        return _plain_value_problem(value)
    return "value", "Invalid characters in the comparison value."


def _name_problem(key: str) -> Problem | None:
    if _HTTP_NAME.match(key):
        return None
    return "key", (
        "Invalid characters in the key: a header or cookie name of letters, digits, "
        "'_', '.' and '-'."
    )


def l7rule_problem(rule_type: str, compare_type: str, key: str, value: str) -> Problem | None:
    """What is wrong with an L7 rule, following octavia.common.validate.l7rule_data and held to
    what the renderers can express (None: ok)."""
    for field, given, options in (
        ("type", rule_type, L7RULE_TYPES),
        ("compare_type", compare_type, L7RULE_COMPARE_TYPES),
    ):
        message = not_one_of(given, options)
        if message is not None:
            return field, message
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
        # isdigit() alone takes other scripts' digits ("١"); the limit is the config's int32.
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_VERIFY_RESULT:
            return "value", (
                f"L7 rule type SSL_VERIFY_RESULT needs an integer value from 0 to "
                f"{MAX_VERIFY_RESULT}."
            )
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
            return "key", (
                "Invalid L7 rule distinguished name field: a letter, then up to 63 letters or "
                "digits (CN, OU, emailAddress)."
            )
        if compare_type == "REGEX":
            return _regex_problem(value)
        return _plain_value_problem(value)
    if not value:
        return "value", "L7 rule type requires a value."
    if rule_type in ("HEADER", "COOKIE"):
        if not key:
            return "key", f"L7 rule type {rule_type} requires a key."
        problem = _name_problem(key)
        if problem is not None:
            return problem
        return _value_problem(
            compare_type, value, _HEADER_VALUE if rule_type == "HEADER" else _COOKIE_VALUE
        )
    if rule_type == "FILE_TYPE":
        if compare_type not in ("REGEX", "EQUAL_TO"):
            return "compare_type", "L7 rule type FILE_TYPE supports only REGEX and EQUAL_TO."
        if compare_type == "EQUAL_TO" and len(value) > 254:
            # Compared as the path's end, "." + value: 255 characters at most.
            return "value", "An L7 rule file type has at most 254 characters."
    return _value_problem(compare_type, value, _HEADER_VALUE)


# A redirect target every renderer can write (RFC 3986, strictly): http or https in lower case,
# a host name or IPv4 address (Octavia also takes user info and IPv6 literals, which the
# renderers cannot write), an optional port, then path, query and fragment characters ('%' only
# as %XX; no quotes, spaces, '\', '{', '}', '|', '^', '`', '<', '>', which Octavia's parser lets
# through although RFC 3986 does not).
_URL_CHAR = r"(?:[A-Za-z0-9._~!$&()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_REDIRECT_URL = re.compile(
    rf"\Ahttps?://[A-Za-z0-9._~-]+(?::(?P<port>[0-9]{{1,5}}))?"
    rf"(?:/(?:{_URL_CHAR}|/)*)?(?:\?(?:{_URL_CHAR}|[/?])*)?(?:#(?:{_URL_CHAR}|[/?])*)?\Z"
)
MAX_REDIRECT_URL = 2048


def redirect_url_problem(url: str, field: str) -> Problem | None:
    found = _REDIRECT_URL.match(url) if len(url) <= MAX_REDIRECT_URL else None
    if found is None or int(found["port"] or 1) > 65535:
        return field, (
            f"{field} must be an http:// or https:// URL (lower case) with a host name or IPv4 "
            "address, an optional port, then RFC 3986 path, query and fragment characters "
            "('%' only as %XX; no spaces, quotes, '\\', '{', '}', '|', '^' or '`')."
        )
    return None


# The field each redirecting action needs.
L7_ACTION_TARGETS = {
    "REDIRECT_TO_POOL": "redirect_pool_id",
    "REDIRECT_TO_URL": "redirect_url",
    "REDIRECT_PREFIX": "redirect_prefix",
}
L7_REDIRECT_FIELDS = (*L7_ACTION_TARGETS.values(), "redirect_http_code")


def l7policy_action(sent: dict[str, Any], *, create: bool) -> tuple[dict[str, Any], Problem | None]:
    """Octavia's sanitize_l7policy_api_args over the fields a request sent (an update: only
    those its mask names): the action and redirect fields as they will be, or the problem.

    A redirect field given without an action decides the action; an action clears the redirect
    fields it does not use; HTTP redirects default to 302. An update that touches none of these
    fields resolves to {}; one that touches only redirect_http_code keeps the action."""
    touched = {k: sent[k] for k in ("action", *L7_REDIRECT_FIELDS) if k in sent}
    if not touched and not create:
        return {}, None
    targets = [f for f in L7_ACTION_TARGETS.values() if sent.get(f)]
    if len(targets) > 1:
        return {}, (targets[1], f"Cannot specify {targets[0]} and {targets[1]} at the same time.")
    action = sent.get("action") or None
    if action == "REJECT":
        targets = []
    elif action in L7_ACTION_TARGETS and L7_ACTION_TARGETS[action] not in targets:
        field = L7_ACTION_TARGETS[action]
        return {}, (field, f"{field} must not be None for action {action}.")
    elif action is None and targets:
        action = next(a for a, f in L7_ACTION_TARGETS.items() if f == targets[0])
    if action is None:
        if not create and touched.keys() == {"redirect_http_code"}:
            return {"redirect_http_code": touched["redirect_http_code"]}, None
        return {}, ("action", "Mandatory field missing.")
    out: dict[str, Any] = {"action": action, **dict.fromkeys(L7_REDIRECT_FIELDS)}
    for field in targets:
        out[field] = sent[field]
    if action in L7_HTTP_REDIRECTS:
        out["redirect_http_code"] = sent.get("redirect_http_code") or DEFAULT_REDIRECT_HTTP_CODE
    return out, None


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
    message = not_one_of(mode, CLIENT_AUTHENTICATION_MODES)
    if message is not None:
        return "client_authentication", message
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


# An OpenSSL cipher string as the renderers write it: names joined by ':' (or ','), each name
# non-empty and at most 128 characters, with OpenSSL's '!', '+', '-', '@' and '=' (Octavia
# takes any string of up to 2048 characters).
_CIPHERS = re.compile(r"\A[A-Za-z0-9_.+!@=-]{1,128}(?:[:,][A-Za-z0-9_.+!@=-]{1,128}){0,127}\Z")
MAX_CIPHERS = 2048


# TLS 1.3 cipher suites: the renderers configure them apart (OpenSSL's Ciphersuites).
TLS13_CIPHERSUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                      "TLS_AES_128_CCM_8_SHA256")  # fmt: skip


def _ciphers_problem(ciphers: str) -> Problem | None:
    if len(ciphers) > MAX_CIPHERS or not _CIPHERS.match(ciphers):
        return "tls_ciphers", (
            "tls_ciphers must be OpenSSL cipher names joined by ':', each name 1-128 letters, "
            "digits or '_.+!@=-'."
        )
    older = [n for n in re.split("[:,]", ciphers) if n not in TLS13_CIPHERSUITES]
    if older:
        # haproxy and nginx refuse to start on a list that selects no cipher (Octavia takes
        # it, and the listener goes to ERROR); OpenSSL here judges as theirs would.
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).set_ciphers(":".join(older))
        except ssl.SSLError:
            return "tls_ciphers", f"tls_ciphers {ciphers!r} selects no cipher OpenSSL knows."
    return None


def tls_lists_problem(v: dict[str, Any]) -> Problem | None:
    """The TLS options a listener and a pool share: versions, ALPN protocols, ciphers."""
    ciphers = v.get("tls_ciphers")
    problem = _ciphers_problem(ciphers) if ciphers else None
    if problem is not None:
        return problem
    for version in v.get("tls_versions") or ():
        if version not in TLS_VERSIONS:
            return "tls_versions", str(not_one_of(version, TLS_VERSIONS))
    for proto in v.get("alpn_protocols") or ():
        if proto not in ALPN_PROTOCOLS:
            return "alpn_protocols", str(not_one_of(proto, ALPN_PROTOCOLS))
    return None


def pool_tls_problem(v: dict[str, Any]) -> Problem | None:
    if v.get("crl_container_ref") and not v.get("ca_tls_container_ref"):
        return "crl_container_ref", "A crl_container_ref requires a ca_tls_container_ref."
    return tls_lists_problem(v)


# -- health monitors (Octavia's HealthMonitorPOST types) ---------------------------------------

# An absolute path and query of RFC 3986 characters, '%' only as %XX: what the gateway takes and
# every renderer writes (no quotes, spaces, '#' or '\').
_URL_PATH = re.compile(r"\A/(?:[A-Za-z0-9._~!$&()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*\Z")
MAX_URL_PATH = 2048  # Octavia's column
_EXPECTED_CODES = re.compile(r"\A(?:(?P<low>\d{3})-(?P<high>\d{3})|\d{3}(?:,\d{3})*)\Z")
_DOMAIN_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN_NAME = re.compile(rf"\A{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})*\.?\Z")
MAX_DOMAIN_NAME = 253


# Octavia's headers a listener may insert (SUPPORTED_HTTP_HEADERS and SUPPORTED_SSL_HEADERS),
# each with the value "true" or "false"; only HTTP and TERMINATED_HTTPS listeners insert
# headers, and the X-SSL-* ones describe a TLS session this listener terminates.
INSERT_HEADERS = (
    "X-Forwarded-For",
    "X-Forwarded-Port",
    "X-Forwarded-Proto",
    "X-SSL-Client-Verify",
    "X-SSL-Client-Has-Cert",
    "X-SSL-Client-DN",
    "X-SSL-Client-CN",
    "X-SSL-Issuer",
    "X-SSL-Client-SHA1",
    "X-SSL-Client-Not-Before",
    "X-SSL-Client-Not-After",
)
HEADER_INSERTING_PROTOCOLS = ("HTTP", "TERMINATED_HTTPS")


def insert_headers_problem(protocol: str, headers: dict[str, Any] | None) -> Problem | None:
    for key, value in (headers or {}).items():
        if key not in INSERT_HEADERS:
            return "insert_headers", f"Unsupported header: {key}"
        if not isinstance(value, str) or value.lower() not in ("true", "false"):
            return "insert_headers", f"Value for {key} must be 'true' or 'false'."
    if headers and protocol not in HEADER_INSERTING_PROTOCOLS:
        return "insert_headers", f"Headers cannot be inserted by {protocol} listeners."
    for key in headers or {}:
        if key.startswith("X-SSL-") and protocol != "TERMINATED_HTTPS":
            return "insert_headers", f"{key} needs a TERMINATED_HTTPS listener."
    return None


# Pools of datagram protocols: only SOURCE_IP persistence, which alone takes a timeout and a
# granularity.
DATAGRAM_PROTOCOLS = ("UDP", "SCTP")


def persistence_problem(protocol: str, sp: dict[str, Any] | None) -> Problem | None:
    """Octavia's session persistence rules for a pool of the protocol (field names relative to
    the pool)."""
    if not sp:
        return None
    kind = sp.get("type") or ""
    if kind == "APP_COOKIE" and not sp.get("cookie_name"):
        return "session_persistence.cookie_name", "A cookie name is required for APP_COOKIE."
    if kind != "APP_COOKIE" and sp.get("cookie_name"):
        return (
            "session_persistence.cookie_name",
            f"Cookie names are not supported for {kind} persistence.",
        )
    if protocol in DATAGRAM_PROTOCOLS and kind != "SOURCE_IP":
        return (
            "session_persistence.type",
            f"Only SOURCE_IP persistence is valid for {protocol} pools.",
        )
    if protocol and protocol not in DATAGRAM_PROTOCOLS:
        for name in ("persistence_timeout", "persistence_granularity"):
            if sp.get(name) not in (None, ""):
                return (
                    f"session_persistence.{name}",
                    f"{name} is only valid for UDP and SCTP pools.",
                )
    return None


# Monitors that send an HTTP request; only they take the request's fields.
HTTP_MONITOR_TYPES = ("HTTP", "HTTPS")
_HTTP_MONITOR_FIELDS = ("http_method", "url_path", "expected_codes", "http_version", "domain_name")


def monitor_fields_problem(v: dict[str, Any]) -> Problem | None:
    """Octavia's per-type monitor rules over the monitor as it will be: the HTTP request's
    fields only on HTTP(S) monitors, and a domain_name only with HTTP/1.1."""
    kind = v.get("type") or ""
    if kind and kind not in HTTP_MONITOR_TYPES:
        for name in _HTTP_MONITOR_FIELDS:
            if v.get(name):
                return name, f"{name} is not a valid option for health monitors of type {kind}"
    if v.get("domain_name") and str(v.get("http_version") or "") != "1.1":
        return "http_version", "http_version 1.1 is required when domain_name is set."
    return None


def health_monitor_problem(v: dict[str, Any]) -> Problem | None:
    """An HTTP(S) monitor's request path and expected answer (its values or the ones an update
    changes). Octavia also takes status codes outside 100-599 and a range from high to low (a
    monitor that can never succeed), and domain names the renderers refuse."""
    path = v.get("url_path")
    if path and (len(path) > MAX_URL_PATH or not _URL_PATH.match(path)):
        return "url_path", (
            f"url_path must be an absolute path ('/...') of at most {MAX_URL_PATH} RFC 3986 "
            "characters ('%' only as %XX; no spaces, quotes, '#' or '\\')."
        )
    codes = v.get("expected_codes")
    if codes:
        found = _EXPECTED_CODES.match(codes)
        numbers = [int(code) for code in re.findall(r"\d{3}", codes)]
        if (
            found is None
            or any(not 100 <= n <= 599 for n in numbers)
            or (found["low"] is not None and numbers[0] > numbers[1])
        ):
            return "expected_codes", (
                "expected_codes must be HTTP status codes from 100 to 599: one (200), a list "
                "(200,202) or a range from low to high (200-204)."
            )
    domain = v.get("domain_name")
    if domain and (len(domain) > MAX_DOMAIN_NAME or not _DOMAIN_NAME.match(domain)):
        return "domain_name", (
            f"domain_name must be a DNS name of at most {MAX_DOMAIN_NAME} characters: labels "
            "of letters, digits and '-' joined by '.'."
        )
    return None


def allowed_cidrs_problem(cidrs: Iterable[str], vip_addresses: Iterable[str]) -> str | None:
    """Octavia's rule: each allowed CIDR must be of the IP version of one of the load balancer's
    VIPs (an IPv6 CIDR on an IPv4-only load balancer would never match a client)."""
    addresses = [a for a in vip_addresses if a]
    versions = {ipaddress.ip_address(a).version for a in addresses}
    for cidr in cidrs:
        # Python reads "fe80::%eth0/64" as a network with a zone; Octavia (netaddr) refuses it
        # and no config can use one.
        if "%" in cidr:
            return f"CIDR {cidr} must not carry an IPv6 zone (%)."
    if not versions:
        return None
    for cidr in cidrs:
        if ipaddress.ip_network(cidr, strict=False).version not in versions:
            return (
                f"CIDR {cidr} IP version incompatible with all VIPs "
                f"{', '.join(addresses)} IP version."
            )
    return None


# -- Octavia's defaults ([api_settings] and the API's own), filled in where a create leaves a
# field empty and where an update empties it (a null resets to the default) ---------------------

TLS_CIPHERS_DEFAULT = (
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA256:"
    "ECDHE-RSA-AES128-SHA256"
)
LISTENER_TLS_DEFAULTS = {
    "tls_ciphers": TLS_CIPHERS_DEFAULT,
    "tls_versions": ["TLSv1.2", "TLSv1.3"],
    "alpn_protocols": ["h2", "http/1.1", "http/1.0"],
}
POOL_TLS_DEFAULTS = {
    "tls_ciphers": TLS_CIPHERS_DEFAULT,
    "tls_versions": ["TLSv1.2", "TLSv1.3"],
    "alpn_protocols": ["http/1.1", "http/1.0"],
}
HTTP_MONITOR_DEFAULTS = {"http_method": "GET", "url_path": "/", "expected_codes": "200"}


def _filled(
    values: dict[str, Any], defaults: dict[str, Any], names: Iterable[str]
) -> dict[str, Any]:
    out = dict(values)
    for name in names:
        if name in defaults and not out.get(name):
            out[name] = copy.copy(defaults[name])
    return out


def listener_defaults(
    values: dict[str, Any], protocol: str, names: Iterable[str] | None = None
) -> dict[str, Any]:
    """A TERMINATED_HTTPS listener's empty TLS fields (of `names`: an update's) get Octavia's
    defaults."""
    if protocol != "TERMINATED_HTTPS":
        return values
    return _filled(values, LISTENER_TLS_DEFAULTS, LISTENER_TLS_DEFAULTS if names is None else names)


def pool_defaults(values: dict[str, Any]) -> dict[str, Any]:
    """A new pool that re-encrypts (tls_enabled) gets Octavia's TLS defaults where it gave none
    (an update keeps what it is given, as Octavia's)."""
    if not values.get("tls_enabled"):
        return values
    return _filled(values, POOL_TLS_DEFAULTS, POOL_TLS_DEFAULTS)


def monitor_defaults(
    values: dict[str, Any], monitor_type: str, names: Iterable[str] | None = None
) -> dict[str, Any]:
    """An HTTP or HTTPS monitor's empty request fields (of `names`: an update's) get Octavia's
    defaults (GET / 200)."""
    if monitor_type not in HTTP_MONITOR_TYPES:
        return values
    return _filled(values, HTTP_MONITOR_DEFAULTS, HTTP_MONITOR_DEFAULTS if names is None else names)
