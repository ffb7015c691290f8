"""What the haproxy renderer can render, and from which haproxy version each construct works."""

from __future__ import annotations

import re

from services.common.errors import Precondition
from services.renderer.domain.versions import FeatureTable

RENDERER_VERSION = "haproxy-1.7.0"
# Who haproxy's workers run as when the agent prepares for it (domain/privileges.py): Debian's
# haproxy package creates this user and group; the master stays root.
WORKER_USER = "haproxy"
WORKER_GROUP = "haproxy"

# haproxy constructs the templates use, keyed by the first haproxy version that has them.
# "base" is everything this renderer emits unconditionally (http-check send/expect came in 2.2).
HAPROXY_FEATURES = FeatureTable(
    software="haproxy",
    minimums={
        "base": (2, 2, 0),
        "healthmonitor.http-check.send": (2, 2, 0),
        # TLS termination and re-encryption. All older than "base"; listed so the template's
        # requirements stay written down if "base" is ever lowered.
        "bind.crt-list.sni-filters": (1, 5, 0),
        "bind.ssl-min-ver": (1, 8, 0),
        "bind.ciphersuites": (1, 9, 0),
        "server.ssl.alpn": (1, 9, 0),
        "http-response.set-header": (1, 5, 0),
        # PING monitors: external checks, allowed to fork only with insecure-fork-wanted (2.2).
        "healthmonitor.external-check": (2, 2, 0),
        # Target.size (global nbthread, maxconn). Older than "base", listed like the TLS ones.
        "global.nbthread": (1, 8, 0),
        # Log offload over TCP: a ring section forwarding to TCP servers (logs.py).
        "log.ring": (2, 2, 0),
        # Runtime plans (runtime_plan.py): add/del server, verified on 2.6; below it, a reload.
        "runtime.member_changes": (2, 6, 0),
    },
)

# OpenSSL constructs, keyed by the first OpenSSL release that has them. A target that does not
# report its OpenSSL version is not gated (its `haproxy -c` still is).
OPENSSL_FEATURES = FeatureTable(
    software="openssl",
    minimums={
        "tls.TLSv1.3": (1, 1, 1),
        "tls.ciphersuites": (1, 1, 1),
    },
)

# Listener protocol -> haproxy mode. HTTPS is TLS pass-through: haproxy never decrypts it;
# TERMINATED_HTTPS decrypts and speaks HTTP.
LISTENER_PROTOCOLS = {"HTTP": "http", "HTTPS": "tcp", "PROMETHEUS": "http", "TCP": "tcp",
                      "TERMINATED_HTTPS": "http"}  # fmt: skip
# Listener protocols haproxy handles in HTTP mode (L7 policies, insert_headers).
HTTP_LISTENER_PROTOCOLS = {"HTTP", "TERMINATED_HTTPS"}
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
# PING is an external check running a constant ping script (ping.py), as in Octavia; it makes
# the config enable `external-check` and `insecure-fork-wanted` globally (see haproxy.cfg.j2).
MONITOR_TYPES = {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO"}
PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
L7_RULE_TYPES = {"HOST_NAME", "PATH", "FILE_TYPE", "HEADER", "COOKIE"}
# Client-certificate rules: only on TERMINATED_HTTPS listeners.
SSL_L7_RULE_TYPES = {"SSL_CONN_HAS_CERT", "SSL_VERIFY_RESULT", "SSL_DN_FIELD"}
L7_COMPARE_TYPES = {"REGEX": "reg", "STARTS_WITH": "beg", "ENDS_WITH": "end", "CONTAINS": "sub",
                    "EQUAL_TO": "str"}  # fmt: skip
L7_ACTIONS = {"REJECT", "REDIRECT_TO_URL", "REDIRECT_PREFIX", "REDIRECT_TO_POOL"}
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
OCTAVIA_PERSISTENCE_TYPES = {"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
OCTAVIA_L7_RULE_TYPES = {*L7_RULE_TYPES, *SSL_L7_RULE_TYPES}
OCTAVIA_CLIENT_AUTH = {"NONE": "none", "OPTIONAL": "optional", "MANDATORY": "required"}
# Octavia's TLS versions, oldest first, and haproxy's names for them.
OCTAVIA_TLS_VERSIONS = {"SSLv3": "SSLv3", "TLSv1": "TLSv1.0", "TLSv1.1": "TLSv1.1",
                        "TLSv1.2": "TLSv1.2", "TLSv1.3": "TLSv1.3"}  # fmt: skip
# TLS 1.3 suites are configured apart from older ciphers (OpenSSL's set_ciphersuites).
TLS13_CIPHERSUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                      "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                      "TLS_AES_128_CCM_8_SHA256"}  # fmt: skip

SUPPORTED_FEATURES: tuple[str, ...] = (
    *(f"listener.protocol.{p}" for p in sorted(LISTENER_PROTOCOLS)),
    "listener.admin_state_up",
    "listener.connection_limit",
    "listener.timeouts",
    *(f"listener.insert_headers.{h}" for h in sorted(HTTP_INSERT_HEADERS | SSL_INSERT_HEADERS)),
    "listener.allowed_cidrs",
    # TERMINATED_HTTPS. Not advertised (so refused): "listener.tls_versions_sslv3" (no
    # supported OpenSSL build negotiates SSLv3) and "listener.tls_versions_noncontiguous"
    # (haproxy enables one contiguous range of versions; it cannot leave a hole).
    "listener.sni",
    "listener.client_authentication",
    "listener.client_crl",
    "listener.tls_versions",
    "listener.tls_ciphers",
    "listener.alpn_protocols",
    "listener.hsts",
    *(f"l7policy.action.{a}" for a in sorted(L7_ACTIONS)),
    *(f"l7rule.type.{t}" for t in sorted(L7_RULE_TYPES | SSL_L7_RULE_TYPES)),
    *(f"l7rule.compare_type.{c}" for c in sorted(L7_COMPARE_TYPES)),
    "l7rule.invert",
    "l7rule.key_punctuation",
    *(f"pool.protocol.{p}" for p in sorted(POOL_PROTOCOLS)),
    *(f"pool.lb_algorithm.{a}" for a in sorted(LB_ALGORITHMS)),
    *(f"pool.session_persistence.{t}" for t in sorted(PERSISTENCE_TYPES)),
    # Re-encryption; "pool.tls_versions_sslv3" and "pool.tls_versions_noncontiguous" are not
    # advertised, as for listeners.
    "pool.tls_enabled",
    "pool.tls_client_certificate",
    "pool.tls_verify",
    "pool.tls_crl",
    "pool.tls_versions",
    "pool.tls_ciphers",
    "pool.alpn_protocols",
    "member.admin_state_up",
    "member.backup",
    "member.monitor_address",
    "member.weight",
    *(f"healthmonitor.type.{t}" for t in sorted(MONITOR_TYPES)),
    "healthmonitor.http_version",
    "healthmonitor.domain_name",
    "loadbalancer.admin_state_up",
    # keepalived + haproxy peers when the target carries Target.vrrp (vrrp.py).
    "loadbalancer.topology.ACTIVE_STANDBY",
    # Target.log_offload with LOG_PROTOCOL_TCP (logs.py); UDP needs no feature: every renderer
    # that knows Target.log_offload sends it, and one that does not ignores it.
    "log_offload.tcp",
    # RenderRequest.applied_files: member changes answered as a runtime plan (runtime_plan.py).
    "runtime.member_changes",
)


def openssl_require(feature: str, reported: str) -> None:
    """Precondition when the target reports an OpenSSL too old for the feature."""
    found = _OPENSSL_VERSION.search(reported)
    if found is None:
        return
    version = (int(found[1]), int(found[2]), int(found[3]))
    if not OPENSSL_FEATURES.supports(feature, version):
        minimum = ".".join(str(p) for p in OPENSSL_FEATURES.minimums[feature])
        raise Precondition(
            f"feature {feature} requires openssl >= {minimum}, target runs openssl "
            f"{'.'.join(str(p) for p in version)}",
            field="target.openssl_version",
        )


# "3.0.19", "1.1.1w", "OpenSSL 3.0.2 15 Mar 2022": only the leading numbers matter.
_OPENSSL_VERSION = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})")


def unsupported(feature: str, field: str) -> Precondition:
    return Precondition(
        f"feature {feature} not supported by renderer {RENDERER_VERSION}", field=field
    )
