"""What tests/integration/test_hostile_strings.py sends: the base bodies (an HTTP and a TLS load
balancer, fully populated, with what each backend can render), every string field of the API with
its place in them, the hostile values (payloads, hypothesis' mixtures, each field's odd values),
and how a field is set by a create and by an update."""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

BACKENDS = ("haproxy", "nginx")
PAYLOADS = [
    "\n    server evil 6.6.6.6:80",
    "}\nserver { listen 9999; }",
    "\r\nX-Evil: 1",
    "' evil '",
    '" evil "',
    " evil",
    ";evil",
    "#evil",
    "${EVIL}",
    "$evil",
    "%[src]",
    "[exec evil]",
    "\\",
    "{evil}",
    "\n",
    "\x00",
]
SPECIALS = st.text(alphabet=" \n\r\t\"'\\#{};%$[]`<>&|*?~,:/=@!", max_size=4)
# Seeds: a value some field accepts, so that the hostile part is what makes the difference.
SEEDS = ["", "x", "/p", "X-Key", "example.com", "https://example.com/a", "200", "GET",
         "10.0.0.0/8", "TLSv1.2", "http/1.1", "HTTP", "CN", "192.0.2.10"]  # fmt: skip
MIXTURES_PER_FIELD = 8


def http_base(subnet_id: str) -> dict:
    """Everything an HTTP load balancer can carry that renders (haproxy; nginx: for_backend)."""
    return {"loadbalancer": {
        "name": "base", "description": "base lb", "vip_subnet_id": subnet_id, "tags": ["t1"],
        "listeners": [
            {"name": "web", "description": "d", "protocol": "HTTP", "protocol_port": 80,
             "connection_limit": 100, "default_pool": {"name": "web"}, "tags": ["t"],
             "insert_headers": {"X-Forwarded-For": "true"}, "allowed_cidrs": ["10.0.0.0/8"],
             "l7policies": [
                 {"name": "p1", "description": "d", "action": "REDIRECT_TO_URL", "position": 1,
                  "redirect_url": "https://example.com/x", "tags": ["t"],
                  "rules": [{"type": "HEADER", "compare_type": "EQUAL_TO", "key": "X-Key",
                             "value": "v1", "tags": ["t"]}]},
                 {"action": "REDIRECT_PREFIX", "redirect_prefix": "https://example.com",
                  "position": 2,
                  "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/p"},
                            {"type": "PATH", "compare_type": "REGEX", "value": "^/r[0-9]+$"}]},
                 {"action": "REJECT", "position": 3,
                  "rules": [{"type": "COOKIE", "compare_type": "CONTAINS", "key": "c",
                             "value": "v"},
                            {"type": "HOST_NAME", "compare_type": "ENDS_WITH",
                             "value": ".example.com"},
                            {"type": "FILE_TYPE", "compare_type": "EQUAL_TO", "value": "jpg"}]},
             ]},
            {"name": "db", "protocol": "TCP", "protocol_port": 5432,
             "default_pool": {"name": "db"}},
        ],
        "pools": [
            {"name": "web", "description": "d", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
             "tags": ["t"], "session_persistence": {"type": "APP_COOKIE", "cookie_name": "sid"},
             "healthmonitor": {"name": "hm", "type": "HTTP", "delay": 5, "timeout": 3,
                               "max_retries": 3, "http_method": "GET", "url_path": "/health",
                               "expected_codes": "200", "domain_name": "example.com",
                               "http_version": 1.1, "tags": ["t"]},
             "members": [{"name": "m1", "address": "192.0.2.10", "protocol_port": 80,
                          "monitor_address": "192.0.2.11", "monitor_port": 8080,
                          "tags": ["t"]}]},
            {"name": "db", "protocol": "TCP", "lb_algorithm": "LEAST_CONNECTIONS",
             "session_persistence": {"type": "SOURCE_IP"},
             "members": [{"address": "192.0.2.20", "protocol_port": 5432}]},
        ],
    }}  # fmt: skip


def tls_base(subnet_id: str, refs: dict[str, str]) -> dict:
    """A TERMINATED_HTTPS listener with every TLS option, re-encrypting to its members."""

    def tls() -> dict:  # a fresh one each time: a value put in one list must not show in another
        return {"tls_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256", "tls_versions": ["TLSv1.2"],
                "alpn_protocols": ["http/1.1"]}  # fmt: skip

    return {"loadbalancer": {
        "name": "tls", "vip_subnet_id": subnet_id,
        "listeners": [
            {"name": "tls", "protocol": "TERMINATED_HTTPS", "protocol_port": 443,
             "default_pool": {"name": "web"},
             "default_tls_container_ref": refs["default"], "sni_container_refs": [refs["sni"]],
             "client_authentication": "OPTIONAL", "client_ca_tls_container_ref": refs["ca"],
             "client_crl_container_ref": refs["crl"], **tls(),
             "insert_headers": {"X-SSL-Client-CN": "true"},
             "l7policies": [
                 {"action": "REJECT", "position": 1,
                  "rules": [{"type": "SSL_DN_FIELD", "compare_type": "EQUAL_TO", "key": "CN",
                             "value": "client"}]}]},
        ],
        "pools": [
            {"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
             "tls_enabled": True, "tls_container_ref": refs["default"],
             "ca_tls_container_ref": refs["ca"], "crl_container_ref": refs["crl"], **tls(),
             "members": [{"address": "192.0.2.10", "protocol_port": 443}]},
        ],
    }}  # fmt: skip


def for_backend(body: dict, backend: str) -> dict:
    """The body without what open-source nginx refuses up front (501): health monitors, cookie
    persistence, monitor addresses, client certificates, re-encryption."""
    body = copy.deepcopy(body)
    if backend == "haproxy":
        return body
    lb = body["loadbalancer"]
    for pool in lb["pools"]:
        pool.pop("healthmonitor", None)
        if pool.get("session_persistence", {}).get("type") != "SOURCE_IP":
            pool.pop("session_persistence", None)
        for name in [k for k in pool if k.startswith(("tls_", "ca_tls", "crl_", "alpn"))]:
            del pool[name]
        for member in pool["members"]:
            member.pop("monitor_address", None)
            member.pop("monitor_port", None)
    for listener in lb["listeners"]:
        if listener["protocol"] == "TERMINATED_HTTPS":
            for name in ("client_authentication", "client_ca_tls_container_ref",
                         "client_crl_container_ref", "insert_headers", "l7policies"):  # fmt: skip
                listener.pop(name, None)
    return body


@dataclass(frozen=True)
class Field:
    """A string field: the base body it is tried in, where the value goes (more than one path:
    the value goes to each, as a pool's name and the listener's reference to it), and odd values
    of its own tried as they are, besides the hostile ones every field gets. Odd values look
    legitimate and probe what the renderers can express: one may change which directives a
    config has (a TLS 1.3 cipher suite has a directive of its own), so only its load balancer's
    state and the backend's checker judge it; a hostile value must not change the shape."""

    base: str
    paths: tuple[tuple, ...]
    odd: tuple[str, ...] = ()
    updatable: bool = True


L0, P0 = ("loadbalancer", "listeners", 0), ("loadbalancer", "pools", 0)
POL = (*L0, "l7policies")
HM, M0, SP = (*P0, "healthmonitor"), (*P0, "members", 0), (*P0, "session_persistence")
URLS = ("HTTPS://example.com/a", "https://[2001:db8::1]/a", "https://user@example.com/a",
        "https://example.com/%zz", "https://example.com/a[b]", "https://exa$mple.com/a",
        "https://example.com/a$b", "https://example.com:99999/a")  # fmt: skip
CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256::AES128-SHA",
    ":AES128-SHA",
    "AES128-SHA,",
    "A" * 129,
    "BOGUS",
    "TLS_AES_128_GCM_SHA256",
)


LONG_DOMAIN = ("a" * 63 + ".") * 3 + "a" * 62  # 254 characters: the gateway takes 255


def _f(base: str, *paths: tuple, odd: tuple[str, ...] = (), updatable: bool = True) -> Field:
    return Field(base, paths, odd, updatable)


# label -> field; a path ending in "*key" puts the value in a map's key.
FIELDS: dict[str, Field] = {
    "loadbalancer.name": _f("http", ("loadbalancer", "name")),
    "loadbalancer.description": _f("http", ("loadbalancer", "description")),
    "loadbalancer.tags": _f("http", ("loadbalancer", "tags", 0)),
    "loadbalancer.vip_address": _f("http", ("loadbalancer", "vip_address"),
                                   odd=("fe80::1%lo", "::ffff:127.0.9.9"), updatable=False),
    "loadbalancer.availability_zone": _f("http", ("loadbalancer", "availability_zone"),
                                         updatable=False),
    "loadbalancer.project_id": _f("http", ("loadbalancer", "project_id"), updatable=False),
    "listener.name": _f("http", (*L0, "name")),
    "listener.description": _f("http", (*L0, "description")),
    "listener.tags": _f("http", (*L0, "tags", 0)),
    "listener.protocol": _f("http", (*L0, "protocol"), updatable=False),
    "listener.insert_headers.value": _f("http", (*L0, "insert_headers", "X-Forwarded-For"),
                                        odd=("TRUE", "True", "1")),
    "listener.insert_headers.key": _f("http", (*L0, "insert_headers", "*key"),
                                      odd=("x-forwarded-for", "X-SSL-Client-CN")),
    "listener.allowed_cidrs": _f("http", (*L0, "allowed_cidrs", 0),
                                 odd=("fe80::%eth0/64", "10.0.0.1/8", "0.0.0.0/0")),
    "l7policy.name": _f("http", (*POL, 0, "name")),
    "l7policy.description": _f("http", (*POL, 0, "description")),
    "l7policy.tags": _f("http", (*POL, 0, "tags", 0)),
    "l7policy.action": _f("http", (*POL, 2, "action")),
    "l7policy.redirect_url": _f("http", (*POL, 0, "redirect_url"), odd=URLS),
    "l7policy.redirect_prefix": _f("http", (*POL, 1, "redirect_prefix"), odd=URLS),
    "l7rule.header.key": _f("http", (*POL, 0, "rules", 0, "key"),
                            odd=("X_Key", "X.Key", "X!Key", "X~Key")),
    "l7rule.header.value": _f("http", (*POL, 0, "rules", 0, "value"), odd=('"a b"', "é")),
    "l7rule.tags": _f("http", (*POL, 0, "rules", 0, "tags", 0)),
    "l7rule.path.value": _f("http", (*POL, 1, "rules", 0, "value"), odd=("/é",)),
    "l7rule.regex.value": _f("http", (*POL, 1, "rules", 1, "value"),
                             odd=("^/é$", "^/a\\x20b$", "(?P<n>x)", "[[:alpha:]]")),
    "l7rule.cookie.key": _f("http", (*POL, 2, "rules", 0, "key"),
                            odd=("c_1", "c.1", "c-1", "c!1")),
    "l7rule.cookie.value": _f("http", (*POL, 2, "rules", 0, "value")),
    "l7rule.host.value": _f("http", (*POL, 2, "rules", 1, "value")),
    "l7rule.file_type.value": _f("http", (*POL, 2, "rules", 2, "value")),
    "l7rule.type": _f("http", (*POL, 2, "rules", 1, "type")),
    "l7rule.compare_type": _f("http", (*POL, 2, "rules", 1, "compare_type")),
    "pool.name": _f("http", (*P0, "name"), (*L0, "default_pool", "name")),
    "pool.description": _f("http", (*P0, "description")),
    "pool.tags": _f("http", (*P0, "tags", 0)),
    "pool.protocol": _f("http", (*P0, "protocol"), updatable=False),
    "pool.lb_algorithm": _f("http", (*P0, "lb_algorithm")),
    "pool.session_persistence.type": _f("http", (*SP, "type")),
    "pool.session_persistence.cookie_name": _f("http", (*SP, "cookie_name")),
    "pool.session_persistence.persistence_granularity": _f(
        "http", ("loadbalancer", "pools", 1, "session_persistence", "persistence_granularity")),
    "member.name": _f("http", (*M0, "name")),
    "member.tags": _f("http", (*M0, "tags", 0)),
    "member.address": _f("http", (*M0, "address"), odd=("2001:db8::1", "::ffff:192.0.2.1"),
                         updatable=False),
    "member.monitor_address": _f("http", (*M0, "monitor_address")),
    "healthmonitor.name": _f("http", (*HM, "name")),
    "healthmonitor.tags": _f("http", (*HM, "tags", 0)),
    "healthmonitor.type": _f("http", (*HM, "type"), updatable=False),
    "healthmonitor.http_method": _f("http", (*HM, "http_method")),
    "healthmonitor.url_path": _f("http", (*HM, "url_path"),
                                 odd=("/a$b", "/%zz", "/" + "a" * 1500)),
    "healthmonitor.expected_codes": _f("http", (*HM, "expected_codes"),
                                       odd=("600", "099", "300-200", "200, 202")),
    "healthmonitor.domain_name": _f("http", (*HM, "domain_name"),
                                    odd=("_srv.example.com", LONG_DOMAIN)),
    "listener.default_tls_container_ref": _f("tls", (*L0, "default_tls_container_ref")),
    "listener.sni_container_refs": _f("tls", (*L0, "sni_container_refs", 0)),
    "listener.client_authentication": _f("tls", (*L0, "client_authentication")),
    "listener.client_ca_tls_container_ref": _f("tls", (*L0, "client_ca_tls_container_ref")),
    "listener.client_crl_container_ref": _f("tls", (*L0, "client_crl_container_ref")),
    "listener.tls_ciphers": _f("tls", (*L0, "tls_ciphers"), odd=CIPHERS),
    "listener.tls_versions": _f("tls", (*L0, "tls_versions", 0)),
    "listener.alpn_protocols": _f("tls", (*L0, "alpn_protocols", 0)),
    "l7rule.ssl_dn_field.key": _f("tls", (*POL, 0, "rules", 0, "key"),
                                  odd=("X-Y", "2.5.4.3", "A" * 65)),
    "l7rule.ssl_dn_field.value": _f("tls", (*POL, 0, "rules", 0, "value")),
    "pool.tls_container_ref": _f("tls", (*P0, "tls_container_ref")),
    "pool.ca_tls_container_ref": _f("tls", (*P0, "ca_tls_container_ref")),
    "pool.crl_container_ref": _f("tls", (*P0, "crl_container_ref")),
    "pool.tls_ciphers": _f("tls", (*P0, "tls_ciphers"), odd=CIPHERS),
    "pool.tls_versions": _f("tls", (*P0, "tls_versions", 0)),
    "pool.alpn_protocols": _f("tls", (*P0, "alpn_protocols", 0)),
}  # fmt: skip


# Accepted-then-ERROR values whose fix lies outside the rules module and the renderers, by
# field: {backend: values}, and why. Such a value failing makes the field's test an xfail; one
# that no longer fails makes it fail (take it off the list).
KNOWN: dict[str, tuple[dict[str, set[str]], str]] = {}


def _parent(body: dict, path: tuple) -> Any:
    node: Any = body
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError):
            return None
    return node


def _has(body: dict, path: tuple) -> bool:
    node = _parent(body, path)
    if node is None:
        return False
    if isinstance(node, list) or path[-1] == "*key":
        return True
    return path[-1] in node


def applies(full: dict, reduced: dict, field: Field) -> bool:
    """Whether a field exists in a backend's body (a field the haproxy body sets that the
    backend's body left out is one the backend cannot use)."""
    path = field.paths[0]
    return _parent(reduced, path) is not None and (_has(reduced, path) or not _has(full, path))


def with_value(base: dict, field: Field, value: str) -> dict:
    body = copy.deepcopy(base)
    for path in field.paths:
        node = _parent(body, path)
        if path[-1] == "*key":
            node.clear()
            node[value] = "true"
        else:
            node[path[-1]] = value
    return body


# Where an object is updated, by the list its path goes through: (URL, request root).
RESOURCES = {
    "listeners": ("/v2/lbaas/listeners/{id}", "listener"),
    "l7policies": ("/v2/lbaas/l7policies/{id}", "l7policy"),
    "rules": ("/v2/lbaas/l7policies/{parent}/rules/{id}", "rule"),
    "pools": ("/v2/lbaas/pools/{id}", "pool"),
    "members": ("/v2/lbaas/pools/{parent}/members/{id}", "member"),
    "healthmonitor": ("/v2/lbaas/healthmonitors/{id}", "healthmonitor"),
    "loadbalancer": ("/v2/lbaas/loadbalancers/{id}", "loadbalancer"),
}


def _object_at(path: tuple) -> int:
    """How much of path leads to the object that holds the field (an updatable resource)."""
    for cut in range(len(path) - 1, 0, -1):
        last = path[cut - 1]
        if last in ("loadbalancer", "healthmonitor") or (
            isinstance(last, int) and path[cut - 2] in RESOURCES
        ):
            return cut
    raise ValueError(path)


def update_request(tree: dict, body: dict, field: Field, value: str) -> tuple[str, dict, str]:
    """The PUT that gives the field the value on the object holding it, in the tree a create
    answered with: its URL, its body and the field's name as the update names it."""
    path = field.paths[0]
    cut = _object_at(path)
    kind = path[cut - 1] if isinstance(path[cut - 1], str) else path[cut - 2]
    url, root = RESOURCES[kind]
    node = _parent(tree, (*path[:cut], None))
    parent = _parent(tree, (*path[: cut - 2], None)) if "{parent}" in url else {"id": ""}
    rest = path[cut:]
    current = copy.deepcopy({rest[0]: _parent(body, (*path[:cut], None)).get(rest[0])})
    changed = with_value(current, Field(field.base, (rest,)), value)
    target = url.format(id=node["id"], parent=parent["id"])
    return target, {root: changed}, field_name(("", *rest))


def benign_value(base: dict, field: Field) -> str:
    path = field.paths[0]
    node = _parent(base, path)
    if path[-1] == "*key":
        return next(iter(node))
    return node[path[-1]] if isinstance(node, list) else node.get(path[-1], "")


def field_name(path: tuple) -> str:
    """The field as the API names it: the path below the load balancer without list indexes;
    a map's keys are values, not fields (listeners.insert_headers)."""
    names: list[str] = []
    for step in path[1:]:
        if isinstance(step, str) and step != "*key":
            names.append(step)
        if step == "insert_headers":
            break
    return ".".join(names)


def fault_names(names: tuple[str, ...], fault: str) -> bool:
    """Whether a 400's faultstring names one of the field's names ("listeners[0].l7policies[1]
    .redirect_url" and the gateway's "listeners.l7policies.redirect_url" both name it)."""
    text = re.sub(r"\[\d+\]", "", fault)
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text) for name in names)


def mixtures(label: str, own_seed: str) -> list[str]:
    """Hypothesis' mixtures for one field: a seed (its own benign value or one another field
    takes), a payload, a few special characters. Derandomized: the same list every run."""
    found: list[str] = []

    @seed(int(hashlib.sha256(label.encode()).hexdigest()[:8], 16))
    @settings(max_examples=MIXTURES_PER_FIELD, database=None, phases=[Phase.generate],
              deadline=None, suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.sampled_from([own_seed, *SEEDS]), st.sampled_from(PAYLOADS), SPECIALS)
    def collect(start: str, payload: str, extra: str) -> None:
        found.append(start + payload + extra + "zqx")

    collect()
    return found


# What an update gets: the odd values and these payloads (an update costs a create as well).
# Names, descriptions and tags are only created: nothing checks them apart on update.
UPDATE_PAYLOADS = ["\n    server evil 6.6.6.6:80", "}\nserver { listen 9999; }", "' evil '",
                   "#evil", "${EVIL}", "\x00"]  # fmt: skip
FREE_TEXT = (".name", ".description", ".tags")


def update_values(label: str, own_seed: str) -> list[str]:
    values = [own_seed + payload + "zqx" for payload in UPDATE_PAYLOADS]
    return list(dict.fromkeys([*FIELDS[label].odd, *values]))


def hostile_values(label: str, own_seed: str) -> list[str]:
    """The field's odd values, every payload once after its benign value, then the mixtures."""
    values = [own_seed + payload + "zqx" for payload in PAYLOADS]
    return list(dict.fromkeys([*FIELDS[label].odd, *values, *mixtures(label, own_seed)]))
