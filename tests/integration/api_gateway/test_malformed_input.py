"""Malformed input at every write endpoint: never a 5xx, never a write.

The write operations (POST/PUT/PATCH/DELETE) come from the app's own route table (its OpenAPI
document), so a new route is covered without touching this file; only a valid sample body per
body-taking route is written here (without one, `{root: {}}` stands in). Each operation gets
broken JSON, non-JSON content types, an oversized body, bodies nested tens of thousands deep,
lone surrogates, then every documented body field replaced in turn by a nested list, an object,
a lone surrogate, integers beyond 32 and 64 bits and a too-deep value; bad path ids and bad
query strings with an otherwise valid request. Every answer must be a 4xx Octavia fault; no
write may reach the orchestrator and its store must be unchanged after each request.

The gateway runs in-process over the in-memory orchestrator and health fakes (MemoryAdmin), as
the gateway's unit tests run it: cheap enough to send a few thousand requests in seconds. The
last test sends endless bodies to a real uvicorn server in front of a real gRPC orchestrator.
"""

from __future__ import annotations

import json
import select
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient
from google.protobuf.message import Message
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from tests.integration.api_gateway.conftest import USER_TOKEN
from tests.support.certs import make_ca, make_leaf
from tests.support.memory_admin import MemoryAdmin

pytestmark = pytest.mark.timeout(120)

TOKEN = "malformed-admin"
NET_ID, SUBNET_ID = str(uuid.UUID(int=21)), str(uuid.UUID(int=22))
MAX_BODY = 256 * 1024
WRITE_METHODS = ("post", "put", "patch", "delete")
JSON = {"Content-Type": "application/json"}
EXISTING_MEMBER = {"address": "192.0.2.1", "protocol_port": 80}


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


# Each replaces one body field. JSON-encoded with ensure_ascii, so "\ud800" travels as the
# escape a hostile client would send.
BAD_VALUES: dict[str, Any] = {
    "nested list": [[[["x"]]]],
    "object": {"a": {"b": [1]}},
    "lone surrogate": "\ud800",
    "surrogate in a list": ["ok", "\udfff"],
    "2**31": 2**31,
    "2**64": 2**64,
    "-2**63-1": -(2**63) - 1,
    "10**400": 10**400,
    "deep": _deep(40),
}
BROKEN_BODIES: dict[str, bytes] = {
    "truncated": b'{"a": ',
    "single quotes": b"{'a': 1}",
    "trailing comma": b'{"a": [1,]}',
    "invalid utf-8": b'{"a": "\xff\xfe"}',
    "NaN": b'{"a": NaN}',
    "nested 50000 deep": b"[" * 50_000 + b"]" * 50_000,
    "objects 5000 deep": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "surrogate key": b'{"\\ud800": 1}',
    "huge integer": b'{"a": ' + b"9" * 5_000 + b"}",
}
NOT_JSON_TYPES = ("text/plain", "application/x-www-form-urlencoded", "application/xml")
# Invalid as any path segment (an id, a name or a project id).
BAD_SEGMENTS = ("%00", "a%0Ab", "%ED%A0%80", "%FF%FE", "%ZZ", "%C0%AF", "9" * 300)
BAD_QUERIES = (
    "%ZZ",
    "name=%FF",
    "name=%ED%A0%80",
    "x=a%00",
    "limit=1&limit=2",
    "marker=a&marker=b",
    "limit=lots",
    "sort=name:sideways",
    "sort_key=id&sort_dir=up",
    "page_reverse=perhaps",
    "cascade=maybe",
    "cascade=true&cascade=false",
)
# The object a path parameter names, by the collection segment before it.
COLLECTIONS = {
    "loadbalancers": "lb",
    "listeners": "listener",
    "pools": "pool",
    "members": "member",
    "healthmonitors": "hm",
    "l7policies": "l7policy",
    "rules": "l7rule",
    "certificates": "certificate",
    "quotas": "project",
    "flavors": "flavor",
    "flavorprofiles": "flavorprofile",
    "availabilityzones": "az",
    "availabilityzoneprofiles": "azprofile",
    "amphorae": "amphora",
}


def sample_bodies(ids: dict[str, str]) -> dict[tuple[str, str], dict]:
    """A valid body per body-taking write, keyed by (method, path without /v2)."""
    ca = make_ca()
    leaf = make_leaf(ca, "www.example.com", ["www.example.com"])
    member = {"address": "192.0.2.10", "protocol_port": 80}
    return {
        ("post", "/lbaas/loadbalancers"): {
            "loadbalancer": {"name": "lb2", "vip_subnet_id": SUBNET_ID}
        },
        ("put", "/lbaas/loadbalancers/{lb_id}"): {"loadbalancer": {"name": "renamed"}},
        ("post", "/lbaas/listeners"): {
            "listener": {"loadbalancer_id": ids["lb"], "protocol": "HTTP", "protocol_port": 8080}
        },
        ("put", "/lbaas/listeners/{listener_id}"): {"listener": {"connection_limit": 100}},
        ("post", "/lbaas/pools"): {
            "pool": {
                "loadbalancer_id": ids["lb"],
                "protocol": "HTTP",
                "lb_algorithm": "ROUND_ROBIN",
            }
        },
        ("put", "/lbaas/pools/{pool_id}"): {"pool": {"name": "renamed"}},
        ("post", "/lbaas/pools/{pool_id}/members"): {"member": member},
        # The set the pool has already (a batch update deletes the members it does not name).
        ("put", "/lbaas/pools/{pool_id}/members"): {"members": [EXISTING_MEMBER]},
        ("put", "/lbaas/pools/{pool_id}/members/{member_id}"): {"member": {"weight": 5}},
        ("post", "/lbaas/healthmonitors"): {
            "healthmonitor": {
                "pool_id": ids["pool_without_hm"],
                "type": "HTTP",
                "delay": 5,
                "timeout": 3,
                "max_retries": 3,
                "http_version": 1.1,
            }
        },
        ("put", "/lbaas/healthmonitors/{hm_id}"): {"healthmonitor": {"delay": 10}},
        ("post", "/lbaas/l7policies"): {
            "l7policy": {"listener_id": ids["listener"], "action": "REJECT"}
        },
        ("put", "/lbaas/l7policies/{l7policy_id}"): {"l7policy": {"name": "renamed"}},
        ("post", "/lbaas/l7policies/{l7policy_id}/rules"): {
            "rule": {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/api"}
        },
        ("put", "/lbaas/l7policies/{l7policy_id}/rules/{l7rule_id}"): {"rule": {"value": "/v2"}},
        ("post", "/lbaas/certificates"): {
            "certificate": {
                "name": "web",
                "certificate": leaf.cert_pem.decode(),
                "private_key": leaf.key_pem.decode(),
            }
        },
        ("put", "/lbaas/quotas/{project_id}"): {"quota": {"loadbalancer": 10}},
        ("post", "/lbaas/flavors"): {
            "flavor": {"name": "f2", "flavor_profile_id": ids["flavorprofile"]}
        },
        ("put", "/lbaas/flavors/{flavor_id}"): {"flavor": {"description": "d"}},
        ("post", "/lbaas/flavorprofiles"): {
            "flavorprofile": {"name": "fp2", "provider_name": "amphora", "flavor_data": "{}"}
        },
        ("put", "/lbaas/flavorprofiles/{profile_id}"): {"flavorprofile": {"name": "renamed"}},
        ("post", "/lbaas/availabilityzones"): {
            "availability_zone": {
                "name": "az2",
                "availability_zone_profile_id": ids["azprofile"],
            }
        },
        ("put", "/lbaas/availabilityzones/{name}"): {"availability_zone": {"description": "d"}},
        ("post", "/lbaas/availabilityzoneprofiles"): {
            "availability_zone_profile": {
                "name": "azp2",
                "provider_name": "amphora",
                "availability_zone_data": json.dumps({"compute_zone": "az1"}),
            }
        },
        ("put", "/lbaas/availabilityzoneprofiles/{profile_id}"): {
            "availability_zone_profile": {"name": "renamed"}
        },
    }


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    client: TestClient
    fake: MemoryAdmin
    ids: dict[str, str]
    operations: list[tuple[str, str, dict]]  # (method, path template, OpenAPI operation)
    samples: dict[tuple[str, str], dict]


def _make_world(tmp: Path) -> Iterator[World]:
    (tmp / "tokens.yaml").write_text(
        yaml.safe_dump({"tokens": {TOKEN: {"project_id": "admin-project", "roles": ["admin"]}}})
    )
    fake = MemoryAdmin()
    fake.networks.append(pb.Network(id=NET_ID, name="n", subnet_ids=[SUBNET_ID]))
    fake.subnets.append(
        pb.Subnet(id=SUBNET_ID, network_id=NET_ID, cidr="127.0.0.0/8", ip_version=4)
    )
    settings = Settings(tokens_file=tmp / "tokens.yaml", max_request_body=MAX_BODY)
    app = bootstrap(settings, orchestrator=fake, health=fake)
    # A 500 is a response to count, not an exception in the test.
    with TestClient(app, headers={"X-Auth-Token": TOKEN}, raise_server_exceptions=False) as client:
        ids = _populate(client, fake)
        operations = [
            (method, path, op)
            for path, item in app.openapi()["paths"].items()
            if path.startswith("/v2/")  # /v2.0 mounts the same routers
            for method, op in item.items()
            if method in WRITE_METHODS
        ]
        yield World(client, fake, ids, operations, sample_bodies(ids))


def _created(client: TestClient, url: str, body: dict) -> dict:
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    return next(iter(r.json().values()))


def _populate(client: TestClient, fake: MemoryAdmin) -> dict[str, str]:
    """One object of every kind a write path can name."""
    v2 = "/v2/lbaas"
    lb = _created(client, f"{v2}/loadbalancers", {"loadbalancer": {"vip_subnet_id": SUBNET_ID}})
    listener = {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80}
    listener = _created(client, f"{v2}/listeners", {"listener": listener})
    pool = {"loadbalancer_id": lb["id"], "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}
    pool_with_hm = _created(client, f"{v2}/pools", {"pool": pool})
    pool_without_hm = _created(client, f"{v2}/pools", {"pool": pool})
    member = {"member": EXISTING_MEMBER}
    member = _created(client, f"{v2}/pools/{pool_with_hm['id']}/members", member)
    hm = {"pool_id": pool_with_hm["id"], "type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}
    hm = _created(client, f"{v2}/healthmonitors", {"healthmonitor": hm})
    policy = {"listener_id": listener["id"], "action": "REJECT"}
    policy = _created(client, f"{v2}/l7policies", {"l7policy": policy})
    rule = {"type": "PATH", "compare_type": "STARTS_WITH", "value": "/x"}
    rule = _created(client, f"{v2}/l7policies/{policy['id']}/rules", {"rule": rule})
    ca = make_ca()
    cert = {"certificate": {"type": "CA", "certificate": ca.cert_pem.decode()}}
    cert = _created(client, f"{v2}/certificates", cert)
    profile = {"name": "fp", "provider_name": "amphora", "flavor_data": "{}"}
    profile = _created(client, f"{v2}/flavorprofiles", {"flavorprofile": profile})
    flavor = {"name": "f", "flavor_profile_id": profile["id"]}
    flavor = _created(client, f"{v2}/flavors", {"flavor": flavor})
    az_profile = {"name": "azp", "provider_name": "amphora", "availability_zone_data": "{}"}
    az_profile = _created(
        client, f"{v2}/availabilityzoneprofiles", {"availability_zone_profile": az_profile}
    )
    az = {"name": "az1", "availability_zone_profile_id": az_profile["id"]}
    az = _created(client, f"{v2}/availabilityzones", {"availability_zone": az})
    r = client.put(f"{v2}/quotas/project-a", json={"quota": {"loadbalancer": 5}})
    assert r.status_code in (200, 202), r.text
    return {
        "lb": lb["id"],
        "listener": listener["id"],
        "pool": pool_with_hm["id"],
        "pool_without_hm": pool_without_hm["id"],
        "member": member["id"],
        "hm": hm["id"],
        "l7policy": policy["id"],
        "l7rule": rule["id"],
        "certificate": cert["id"],
        "flavorprofile": profile["id"],
        "flavor": flavor["id"],
        "azprofile": az_profile["id"],
        "az": az["name"],
        "amphora": fake.add_amphora(lb["id"]).id,
        "project": "project-a",
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _make_world(tmp_path_factory.mktemp("malformed"))


def _snapshot(value: Any) -> Any:
    """The fake's state as plain data (protos as bytes), to compare before and after."""
    if isinstance(value, Message):
        return value.SerializeToString(deterministic=True)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_snapshot(v) for v in value]
    if hasattr(value, "__dict__") and not callable(value):
        return _snapshot(vars(value))
    return value


def store(fake: MemoryAdmin) -> Any:
    skip = {"calls", "_admin", "fail_next"}
    return {k: _snapshot(v) for k, v in vars(fake).items() if k not in skip}


# ---------------------------------------------------------------------------- the cases


@dataclass
class Case:
    label: str
    method: str
    url: str
    content: bytes | None = None
    headers: dict[str, str] | None = None
    # A well-formed request for an object that does not exist: the orchestrator's 404 may come
    # from a write RPC it was asked to do (as Octavia looks the id up), but nothing changes.
    reaches_orchestrator: bool = False


def _url(template: str, ids: dict[str, str], replace: str | None = None, by: str = "") -> str:
    parts = template.split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            collection = parts[i - 1]
            assert collection in COLLECTIONS, f"no test object for {template}: add it to _populate"
            parts[i] = by if part == replace else ids[COLLECTIONS[collection]]
    return "/".join(parts)


def _body_schema(op: dict) -> tuple[str, list[str], bool] | None:
    """(root, field names, root is a list) of a documented request body, or None."""
    body = op.get("requestBody")
    if body is None:
        return None
    schema = body["content"]["application/json"]["schema"]
    ((root, inner),) = schema["properties"].items()
    is_list = inner.get("type") == "array"
    fields = (inner.get("items", {}) if is_list else inner).get("properties", {})
    return root, sorted(fields), is_list


def cases(world: World, method: str, template: str, op: dict) -> Iterator[Case]:
    url = _url(template, world.ids)
    shape = _body_schema(op)
    sample = None
    if shape is not None:
        root, fields, is_list = shape
        sample = world.samples.get((method, template.removeprefix("/v2")))
        if sample is None:  # a new route: its fields are still fed every bad value
            sample = {root: [{}] if is_list else {}}
    valid = json.dumps(sample).encode() if sample is not None else b""

    for label, raw in BROKEN_BODIES.items():
        yield Case(f"body {label}", method, url, raw, JSON)
    for kind in NOT_JSON_TYPES:
        yield Case(f"content type {kind}", method, url, valid or b"{}", {"Content-Type": kind})
    yield Case("oversized body", method, url, b" " * (MAX_BODY + 1), JSON)

    if shape is not None:
        root, fields, is_list = shape
        for label, doc in {
            "a list": [sample],
            "a string": "x",
            "null": None,
            "root a nested list": {root: [[["x"]]]},
            "root a string": {root: "\ud800"},
            "root too deep": {root: _deep(40)},
            "surrogate key in root": {root: {"\udc00": 1}},
            "unknown envelope key": {**sample, "\ud800": 1},
        }.items():
            yield Case(f"body {label}", method, url, json.dumps(doc).encode(), JSON)
        for field in fields:
            for label, value in BAD_VALUES.items():
                doc = json.loads(valid)
                target = doc[root][0] if is_list else doc[root]
                target[field] = value
                body = json.dumps(doc).encode()
                yield Case(f"{field} = {label}", method, url, body, JSON)

    for name in (p.strip("{}") for p in template.split("/") if p.startswith("{")):
        for segment in BAD_SEGMENTS:
            bad = _url(template, world.ids, f"{{{name}}}", segment)
            yield Case(f"{name} = {segment[:12]}", method, bad, valid or None, JSON)
        if name.endswith("_id") and name != "project_id":  # ids are UUIDs; names are not
            bad = _url(template, world.ids, f"{{{name}}}", "not-a-uuid")
            yield Case(f"{name} unknown", method, bad, valid or None, JSON, True)

    for query in BAD_QUERIES:
        yield Case(f"query {query}", method, f"{url}?{query}", valid or None, JSON)


# ---------------------------------------------------------------------------- the tests


def test_the_route_table_has_the_write_endpoints(world: World):
    found = {(m, p.removeprefix("/v2")) for m, p, _ in world.operations}
    assert len(found) >= 40, sorted(found)  # fails if routes stop being found, not passes
    documented = {(m, p.removeprefix("/v2")) for m, p, op in world.operations if _body_schema(op)}
    assert set(world.samples) <= documented, set(world.samples) - documented


def test_every_sample_body_is_valid(tmp_path: Path):
    """So that each malformed case differs from an accepted request by one thing only."""
    for w in _make_world(tmp_path):
        for (method, path), body in w.samples.items():
            r = w.client.request(method, _url(f"/v2{path}", w.ids), json=body)
            assert r.status_code < 300, (method, path, r.text)


def test_malformed_requests_get_a_4xx_and_write_nothing(world: World):
    client, fake = world.client, world.fake
    before = store(fake)
    failures: list[str] = []
    sent = 0
    started = time.monotonic()
    for method, template, op in world.operations:
        for case in cases(world, method, template, op):
            writes = len(fake.writes)
            r = client.request(case.method, case.url, content=case.content, headers=case.headers)
            sent += 1
            where = f"{case.method.upper()} {template} [{case.label}]"
            if not 400 <= r.status_code < 500:
                failures.append(f"{where}: {r.status_code} {r.text[:200]}")
            elif r.json().keys() != {"faultcode", "faultstring", "debuginfo"}:
                failures.append(f"{where}: not an Octavia fault: {r.text[:200]}")
            written = [rpc for rpc, _ in fake.writes[writes:]]
            if written and not case.reaches_orchestrator:
                failures.append(f"{where}: reached the orchestrator with {written}")
            if store(fake) != before:
                failures.append(f"{where}: the store changed")
                before = store(fake)
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:60])
    assert store(fake) == before
    assert sent > 3000, sent
    assert time.monotonic() - started < 60


# --------------------------------------------------------- a real server, endless bodies


def _open(gateway_url: str) -> socket.socket:
    parts = urlsplit(gateway_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), json.loads(body[: _length(data)])


def _length(data: bytes) -> int:
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    for line in head.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


def test_a_real_server_cuts_endless_bodies_off(gateway_url: str):
    head = (
        "POST /v2/lbaas/loadbalancers HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        f"X-Auth-Token: {USER_TOKEN}\r\n"
    )
    # Declared: answered at once, before a byte of the body is sent.
    with _open(gateway_url) as sock:
        sock.sendall(f"{head}Content-Length: {10**12}\r\n\r\n".encode())
        status, body = _response(sock)
        assert status == 413 and body["faultstring"].startswith("Request is too large")

    # Streamed: answered once the limit is passed, while the client is still sending.
    with _open(gateway_url) as sock:
        sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        sent = 0
        try:
            while sent < 256 * 1024 * 1024:  # far past the limit: the server must not wait
                sock.sendall(chunk)
                sent += 65536
                if select.select([sock], [], [], 0)[0]:
                    break
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            pass
        status, body = _response(sock)
        assert status == 413, body
        assert sent < 64 * 1024 * 1024, sent
