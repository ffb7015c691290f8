"""Injection property test (issue 4 item 8) for the f5-as3 renderer, and the shape helpers' own
tests.

No flavor selects f5-as3 yet, so no load balancer renders with it and nothing here can end in
ERROR: tests/integration/test_hostile_strings.py holds the whole property (a 400 naming the
field, or ACTIVE with a config of the benign shape that `haproxy -c` / `nginx -t` take) for the
backends load balancers run on, through the real gateway and orchestrator. Here each hostile
value goes through the gateway's own request handling (the FastAPI app over the in-memory
orchestrator) and the graph it builds is rendered as an AS3 declaration: either the renderer
refuses it (a domain error), or the declaration has exactly the JSON shape of the benign one
(injection_checks) and passes the AS3 schema. Hypothesis runs derandomized.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lbaas.common.v1 import graph_pb2
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb
from lbaas.renderer.v1 import renderer_service_pb2

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.common.errors import DomainError
from services.renderer.backends.f5_as3.renderer import As3Renderer
from tests.integration.hostile_cases import PAYLOADS, SEEDS, SPECIALS
from tests.support.as3_schema import errors as as3_errors
from tests.support.memory_orchestrator import MemoryOrchestrator
from tests.unit import injection_checks as checks

pytestmark = pytest.mark.timeout(240)
NET_ID, SUBNET_ID = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))
TLS_DIR = Path(__file__).parent / "renderer" / "golden_as3" / "tls"
# The same hostile values as the whole-system test (tests/integration/hostile_cases.py).
HOSTILE = st.builds(
    lambda seed, payload, extra: seed + payload + extra + "zqx",
    st.sampled_from(SEEDS),
    st.sampled_from(PAYLOADS),
    SPECIALS,
)

PLAIN = {
    "loadbalancer": {
        "name": "base", "description": "base lb", "vip_subnet_id": SUBNET_ID, "tags": ["t1"],
        "listeners": [
            {"name": "web", "description": "d", "protocol": "HTTP", "protocol_port": 80,
             "connection_limit": 100, "default_pool": {"name": "web"}, "tags": ["t"],
             "insert_headers": {"X-Forwarded-For": "true"}, "allowed_cidrs": ["10.0.0.0/8"],
             "l7policies": [
                 {"name": "p1", "description": "d", "action": "REDIRECT_TO_URL", "position": 1,
                  "redirect_url": "https://example.com/x",
                  "rules": [{"type": "HEADER", "compare_type": "EQUAL_TO", "key": "X-Key",
                             "value": "v1"}]},
                 {"action": "REDIRECT_PREFIX", "redirect_prefix": "https://example.com",
                  "position": 2,
                  "rules": [{"type": "PATH", "compare_type": "STARTS_WITH", "value": "/p"}]},
                 {"action": "REJECT", "position": 3,
                  "rules": [{"type": "COOKIE", "compare_type": "CONTAINS", "key": "c",
                             "value": "v"},
                            {"type": "HOST_NAME", "compare_type": "ENDS_WITH",
                             "value": ".example.com"}]},
             ]},
            {"name": "db", "protocol": "TCP", "protocol_port": 5432,
             "default_pool": {"name": "db"}},
        ],
        "pools": [
            {"name": "web", "description": "d", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
             "session_persistence": {"type": "APP_COOKIE", "cookie_name": "sid"},
             "healthmonitor": {"name": "hm", "type": "HTTP", "delay": 5, "timeout": 3,
                               "max_retries": 3, "http_method": "GET", "url_path": "/health",
                               "expected_codes": "200", "domain_name": "example.com",
                               "http_version": 1.1},
             "members": [{"name": "m1", "address": "192.0.2.10", "protocol_port": 80}]},
            {"name": "db", "protocol": "TCP", "lb_algorithm": "LEAST_CONNECTIONS",
             "session_persistence": {"type": "SOURCE_IP"},
             "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3},
             "members": [{"address": "192.0.2.20", "protocol_port": 5432}]},
        ],
    }
}  # fmt: skip
TLS = {
    "loadbalancer": {
        "name": "tls", "vip_subnet_id": SUBNET_ID,
        "listeners": [
            {"name": "tls", "protocol": "TERMINATED_HTTPS", "protocol_port": 443,
             "default_pool": {"name": "web"},
             "default_tls_container_ref": "https://kms.example/v1/containers/a",
             "sni_container_refs": ["https://kms.example/v1/containers/b"],
             "client_authentication": "OPTIONAL",
             "client_ca_tls_container_ref": "https://kms.example/v1/secrets/ca",
             "tls_ciphers": "ECDHE-RSA-AES128-GCM-SHA256", "tls_versions": ["TLSv1.2"],
             "alpn_protocols": ["http/1.1"]},
        ],
        "pools": [
            {"name": "web", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
             "members": [{"address": "192.0.2.10", "protocol_port": 80}]},
        ],
    }
}  # fmt: skip
L0, P0 = ("loadbalancer", "listeners", 0), ("loadbalancer", "pools", 0)
POL = (*L0, "l7policies")
# (base body, path to the string); a final "*key" puts the value in a map's key.
FIELDS: dict[str, tuple[dict, tuple]] = {
    "loadbalancer.name": (PLAIN, ("loadbalancer", "name")),
    "loadbalancer.description": (PLAIN, ("loadbalancer", "description")),
    "loadbalancer.tags": (PLAIN, ("loadbalancer", "tags", 0)),
    "loadbalancer.vip_address": (PLAIN, ("loadbalancer", "vip_address")),
    "listener.name": (PLAIN, (*L0, "name")),
    "listener.description": (PLAIN, (*L0, "description")),
    "listener.tags": (PLAIN, (*L0, "tags", 0)),
    "listener.protocol": (PLAIN, (*L0, "protocol")),
    "listener.insert_headers.value": (PLAIN, (*L0, "insert_headers", "X-Forwarded-For")),
    "listener.insert_headers.key": (PLAIN, (*L0, "insert_headers", "*key")),
    "listener.allowed_cidrs": (PLAIN, (*L0, "allowed_cidrs", 0)),
    "l7policy.name": (PLAIN, (*POL, 0, "name")),
    "l7policy.description": (PLAIN, (*POL, 0, "description")),
    "l7policy.redirect_url": (PLAIN, (*POL, 0, "redirect_url")),
    "l7policy.redirect_prefix": (PLAIN, (*POL, 1, "redirect_prefix")),
    "l7rule.header.key": (PLAIN, (*POL, 0, "rules", 0, "key")),
    "l7rule.header.value": (PLAIN, (*POL, 0, "rules", 0, "value")),
    "l7rule.path.value": (PLAIN, (*POL, 1, "rules", 0, "value")),
    "l7rule.cookie.key": (PLAIN, (*POL, 2, "rules", 0, "key")),
    "l7rule.cookie.value": (PLAIN, (*POL, 2, "rules", 0, "value")),
    "l7rule.host.value": (PLAIN, (*POL, 2, "rules", 1, "value")),
    "l7rule.type": (PLAIN, (*POL, 2, "rules", 1, "type")),
    "l7rule.compare_type": (PLAIN, (*POL, 2, "rules", 1, "compare_type")),
    "pool.name": (PLAIN, (*P0, "name")),
    "pool.description": (PLAIN, (*P0, "description")),
    "pool.lb_algorithm": (PLAIN, (*P0, "lb_algorithm")),
    "pool.session_persistence.cookie_name": (PLAIN, (*P0, "session_persistence", "cookie_name")),
    "member.name": (PLAIN, (*P0, "members", 0, "name")),
    "member.address": (PLAIN, (*P0, "members", 0, "address")),
    "healthmonitor.name": (PLAIN, (*P0, "healthmonitor", "name")),
    "healthmonitor.type": (PLAIN, (*P0, "healthmonitor", "type")),
    "healthmonitor.http_method": (PLAIN, (*P0, "healthmonitor", "http_method")),
    "healthmonitor.url_path": (PLAIN, (*P0, "healthmonitor", "url_path")),
    "healthmonitor.expected_codes": (PLAIN, (*P0, "healthmonitor", "expected_codes")),
    "healthmonitor.domain_name": (PLAIN, (*P0, "healthmonitor", "domain_name")),
    "listener.default_tls_container_ref": (TLS, (*L0, "default_tls_container_ref")),
    "listener.sni_container_refs": (TLS, (*L0, "sni_container_refs", 0)),
    "listener.client_ca_tls_container_ref": (TLS, (*L0, "client_ca_tls_container_ref")),
    "listener.tls_ciphers": (TLS, (*L0, "tls_ciphers")),
    "listener.tls_versions": (TLS, (*L0, "tls_versions", 0)),
    "listener.alpn_protocols": (TLS, (*L0, "alpn_protocols", 0)),
}


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Any:
    path = tmp_path_factory.mktemp("tokens") / "tokens.yaml"
    path.write_text(yaml.safe_dump({"tokens": {"tok": {"project_id": "p", "roles": ["member"]}}}))
    orch = MemoryOrchestrator()
    orch.networks.append(
        pb.Network(id=NET_ID, name="n", subnet_ids=[SUBNET_ID], admin_state_up=True)
    )
    orch.subnets.append(pb.Subnet(id=SUBNET_ID, name="s", network_id=NET_ID, cidr="192.0.2.0/24",
                                  ip_version=4))  # fmt: skip
    with TestClient(bootstrap(Settings(tokens_file=path), orchestrator=orch),
                    headers={"X-Auth-Token": "tok"}) as client:  # fmt: skip
        yield client, orch


def _with(base: dict, path: tuple, value: str) -> dict:
    body = copy.deepcopy(base)
    node = body
    for step in path[:-1]:
        node = node[step]
    if path[-1] == "*key":
        node.clear()
        node[value] = "true"
    else:
        node[path[-1]] = value
    return body


def _benign(base: dict, path: tuple) -> str:
    node: Any = base
    for step in path[:-1]:
        node = node[step]
    if path[-1] == "*key":
        return next(iter(node))
    return node[path[-1]] if isinstance(node, list) else node.get(path[-1], "")


def _accepted_graph(api, body: dict) -> graph_pb2.LoadBalancer | None:
    """The graph the gateway sent the orchestrator, made render-ready (ids, VIP, pool ids), or
    None when the API answered 400."""
    client, orch = api
    before = len(orch.calls)
    response = client.post("/v2/lbaas/loadbalancers", json=body)
    if response.status_code == 400:
        return None
    assert response.status_code in (201, 202), response.text
    creates = [req for rpc, req in orch.calls[before:] if rpc == "CreateLoadBalancer"]
    lb = graph_pb2.LoadBalancer()
    lb.CopyFrom(creates[-1].loadbalancer)
    counter = iter(range(1, 1000))
    ident = lambda: str(uuid.UUID(int=next(counter)))  # noqa: E731
    lb.meta.id, lb.meta.project_id = ident(), "p"
    lb.vip.address = lb.vip.address or "192.0.2.100"
    pool_ids = {}
    for pool in lb.pools:
        pool.meta.id = ident()
        pool_ids[pool.meta.name] = pool.meta.id
        for member in pool.members:
            member.meta.id = ident()
        if pool.HasField("healthmonitor"):
            pool.healthmonitor.meta.id = ident()
    for listener in lb.listeners:
        listener.meta.id = ident()
        listener.default_pool_id = pool_ids.get(listener.default_pool_id, listener.default_pool_id)
        for policy in listener.l7policies:
            policy.meta.id = ident()
            policy.redirect_pool_id = pool_ids.get(policy.redirect_pool_id, policy.redirect_pool_id)
            for rule in policy.rules:
                rule.meta.id = ident()
    return lb


def _materials(lb: graph_pb2.LoadBalancer) -> list[renderer_service_pb2.TlsMaterial]:
    read = lambda name: (TLS_DIR / name).read_bytes()  # noqa: E731
    out = []
    for listener in lb.listeners:
        for ref in [listener.default_tls_container_ref, *listener.sni_container_refs]:
            if ref:
                out.append(renderer_service_pb2.TlsMaterial(
                    ref=ref, certificate_pem=read("www.crt"), private_key_pem=read("www.key")))  # fmt: skip
        if listener.client_ca_tls_container_ref:
            out.append(renderer_service_pb2.TlsMaterial(
                ref=listener.client_ca_tls_container_ref, certificate_pem=read("client-ca.crt")))  # fmt: skip
    return out


TARGET = renderer_service_pb2.Target(
    amphora_id=str(uuid.UUID(int=99)), haproxy_version="2.6.12", runtime_dir="/run/lbaas",
    vip_address="192.0.2.100",
)  # fmt: skip


def _render(graph: graph_pb2.LoadBalancer) -> str | DomainError:
    """The AS3 declaration, or the domain error that refused the graph. AS3 has no ALPN: a
    listener's is left out, so the renderer still sees every other hostile value."""
    lb = graph_pb2.LoadBalancer()
    lb.CopyFrom(graph)
    for listener in lb.listeners:
        del listener.alpn_protocols[:]
    try:
        rendering = As3Renderer().render(lb, TARGET, _materials(lb))
    except DomainError as err:
        return err
    [declaration] = [f.content for f in rendering.files if f.path == "as3.json"]
    return declaration.decode()


def _problems(baseline: str, text: str) -> list[str]:
    return checks.json_problems(baseline, text) or as3_errors(json.loads(text))


@pytest.fixture(scope="module")
def baselines(api) -> dict[int, str]:
    """Per base body: its benign declaration."""
    out = {}
    for base in (PLAIN, TLS):
        lb = _accepted_graph(api, base)
        assert lb is not None
        rendered = _render(lb)
        assert not isinstance(rendered, DomainError), rendered
        assert as3_errors(json.loads(rendered)) == []
        out[id(base)] = rendered
    return out


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_hostile_value_is_rejected_or_inert(api, baselines, field: str) -> None:
    base, path = FIELDS[field]
    benign = baselines[id(base)]

    def check_value(value: str) -> None:
        lb = _accepted_graph(api, _with(base, path, value))
        if lb is None:
            return  # 400: rejected by the API
        rendered = _render(lb)
        if isinstance(rendered, DomainError):
            return  # refused by the renderer (no flavor selects f5-as3: no load balancer fails)
        problems = _problems(benign, rendered)
        assert not problems, f"{value!r} smuggled: {problems}"

    # Every payload once after the field's own benign value, then hypothesis' mixtures.
    seed = _benign(base, path)
    for payload in PAYLOADS:
        check_value(seed + payload + "zqx")

    @settings(max_examples=10, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(value=HOSTILE)
    def check(value: str) -> None:
        check_value(value)

    check()


def test_the_checks_catch_smuggling() -> None:
    """The assertion helpers fail on what an unfiltered template value would produce."""
    base = "backend b\n    server s1 192.0.2.1:80 check\n    http-check send meth GET uri /x\n"
    value = "/x\n    server evil 6.6.6.6:80"
    assert checks.text_problems(base, base.replace("/x", value), checks.haproxy_tokens)
    assert checks.text_problems(base, base.replace("/x", "/x evil"), checks.haproxy_tokens)
    assert checks.text_problems(base, base.replace("/x", "/x#c"), checks.haproxy_tokens)
    assert not checks.text_problems(base, base.replace("/x", "'/a b'"), checks.haproxy_tokens)
    nginx = "server {\n    location /x {\n        return 403;\n    }\n}\n"
    assert checks.text_problems(nginx, nginx.replace("/x", "/x; }"), checks.nginx_tokens)
    assert checks.text_problems(nginx, nginx.replace("/x", "/x {"), checks.nginx_tokens)
    assert not checks.text_problems(nginx, nginx.replace("/x", '"/x; }"'), checks.nginx_tokens)
    # Configs whose objects come in another order (other ids): only the shapes count.
    two = "backend b\n    server s1 192.0.2.1:80\n    server s2 192.0.2.2:80\nbackend c\n"
    swapped = "backend c\nbackend b\n    server s2 192.0.2.2:80\n    server s1 192.0.2.1:80\n"
    assert not checks.block_problems(two, swapped, checks.haproxy_tokens)
    assert checks.block_problems(two, two.replace(":80\n", ":80 evil\n", 1), checks.haproxy_tokens)
    assert checks.block_problems(two, two + "    server evil 6.6.6.6:80\n", checks.haproxy_tokens)
    moved = "backend b\n    server s1 192.0.2.1:80\nbackend c\n    server s2 192.0.2.2:80\n"
    assert checks.block_problems(two, moved, checks.haproxy_tokens)
    assert checks.block_problems(nginx, nginx.replace("/x", "/x; }"), checks.nginx_tokens)
    doc = '{"a": {"remark": "x"}}'
    assert checks.json_problems(doc, '{"a": {"remark": "x", "evil": 1}}')
    assert checks.json_problems(doc, '{"a": {"remark": "x"}, "b": {}}')
    assert not checks.json_problems(doc, '{"a": {"remark": "x\\"y"}}')


def test_an_unfiltered_value_in_a_real_declaration_is_caught(baselines) -> None:
    """The same helpers on the real benign declaration, with a value pasted in unfiltered."""
    as3 = baselines[id(PLAIN)]
    pasted = as3.replace('"label": "base"', '"label": "base", "evil": "x"', 1)
    assert pasted != as3 and _problems(as3, pasted)
