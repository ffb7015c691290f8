"""The input guard (services/api_gateway/input_guard.py), one guard at a time: the JSON
decoder, paths, query strings, Content-Type, the body size limit, a body sent to a write that
takes none; with the per-field integer bounds, token comparison and secrets kept out of errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api_gateway import auth, input_guard
from services.api_gateway.bootstrap import bootstrap
from services.api_gateway.config import Settings
from services.api_gateway.input_guard import MAX_DEPTH, JsonInputError, loads
from services.api_gateway.schemas.certificate import MAX_PEM_LENGTH
from tests.support.memory_orchestrator import MemoryOrchestrator
from tests.unit.api_gateway.conftest import ADMIN, SUBNET_ID, USER

LB_URL = "/v2/lbaas/loadbalancers"
AS_ADMIN = {"X-Auth-Token": ADMIN}  # failover is an admin's


def _nest(depth: int) -> str:
    return "[" * (depth - 1) + "{}" + "]" * (depth - 1)


def _refusal(raw: bytes | str) -> JsonInputError:
    with pytest.raises(JsonInputError) as err:
        loads(raw)
    return err.value


# ------------------------------------------------------------------------------ decoder


def test_decoder_accepts_ordinary_json_at_the_limits():
    doc = {
        "a": [1, -1, 2**63 - 1, -(2**63), 1.5, True, None],
        "emoji": "\U0001f600 caf\u00e9",  # a surrogate pair (escaped below) is one character
        "deep": json.loads(_nest(MAX_DEPTH - 1)),
    }
    text = json.dumps(doc)  # ensure_ascii: the emoji travels as "\ud83d\ude00"
    assert "\\ud83d\\ude00" in text
    assert loads(text.encode()) == doc


@pytest.mark.parametrize(
    "raw",
    [b'{"a": ', b"{'a': 1}", b'{"a": [1,]}', b'{"a": "\xff"}', b'{"a": NaN}', b"Infinity"],
)
def test_broken_json_is_refused_without_a_field(raw):
    err = _refusal(raw)
    assert err.path is None and err.reason == input_guard.NOT_JSON


def test_nesting_deeper_than_the_limit_names_the_field():
    err = _refusal('{"listener": {"tags": ' + _nest(MAX_DEPTH - 1) + "}}")
    assert err.path == ("listener", "tags") and "nested more than 32" in err.reason


def test_nesting_beyond_the_interpreter_recursion_limit_is_refused():
    err = _refusal("[" * 50_000 + "]" * 50_000)
    assert err.path is None and "nested more than 32" in err.reason


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ('{"pool": {"name": "\\ud800"}}', ("pool", "name")),
        ('{"pool": {"tags": ["a", "x\\udfff"]}}', ("pool", "tags")),
        ('{"pool": {"\\udc00": 1}}', ("pool",)),  # in a key: the object holding it
        ('{"pool": {"name": "\\ude00\\ud83d"}}', ("pool", "name")),  # a pair in the wrong order
    ],
)
def test_lone_surrogates_anywhere_are_refused(raw, path):
    err = _refusal(raw)
    assert err.path == path and "surrogate" in err.reason


@pytest.mark.parametrize("number", [str(2**63), str(-(2**63) - 1), "9" * 5000, "-" + "1" * 30])
def test_integers_outside_64_bits_are_refused(number):
    err = _refusal('{"member": {"weight": ' + number + "}}")
    assert err.path == ("member", "weight") and "9223372036854775807" in err.reason


# ------------------------------------------------------------------ through the gateway


def test_body_errors_name_the_field_without_the_envelope(client):
    body = '{"loadbalancer": {"vip_subnet_id": "' + SUBNET_ID + '", "name": "\\ud800"}}'
    r = client.post(LB_URL, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {
        "faultcode": "Client",
        "faultstring": "Invalid input for field/attribute name. "
        "Value holds a lone UTF-16 surrogate.",
        "debuginfo": None,
    }


def test_deep_body_is_a_400_not_a_500(client, orch):
    r = client.post(LB_URL, content=b"[" * 40_000 + b"]" * 40_000)
    assert r.status_code == 400 and "nested" in r.json()["faultstring"]
    assert orch.writes == []


@pytest.mark.parametrize("limit", [2**31, 2**40, 2**63 - 1, 2**64])
def test_connection_limit_is_an_int32(client, orch, lb, limit):
    body = {"listener": {"loadbalancer_id": lb["id"], "protocol": "HTTP", "protocol_port": 80}}
    body["listener"]["connection_limit"] = limit
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["faultstring"].startswith("Invalid input for field/attribute connection_limit.")
    body["listener"]["connection_limit"] = 2**31 - 1
    r = client.post("/v2/lbaas/listeners", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["listener"]["connection_limit"] == 2**31 - 1


@pytest.mark.parametrize("version", ["10" * 200, "1e400", "2**70", "1.2", '"1.1"'])
def test_http_version_is_1_0_or_1_1(client, pool, version):
    version = str(2**70) if version == "2**70" else version
    body = (
        '{"healthmonitor": {"pool_id": "' + pool["id"] + '", "type": "HTTP", "delay": 5,'
        ' "timeout": 3, "max_retries": 3, "http_version": ' + version + "}}"
    )
    r = client.post(
        "/v2/lbaas/healthmonitors", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert "http_version" in r.json()["faultstring"]


def test_flavor_data_is_decoded_by_the_same_guard(tokens_file):
    from tests.support.memory_admin import MemoryAdmin

    app = bootstrap(Settings(tokens_file=tokens_file), orchestrator=MemoryAdmin())
    with TestClient(app, headers={"X-Auth-Token": ADMIN}) as api:
        for data in ('{"a": "\\ud800"}', '{"a": ' + _nest(40) + "}", "[" * 2000 + "]" * 2000):
            body = {"flavorprofile": {"name": "p", "provider_name": "amphora", "flavor_data": data}}
            r = api.post("/v2/lbaas/flavorprofiles", json=body)
            assert r.status_code == 400, r.text
            assert "flavor_data" in r.json()["faultstring"]


# ---------------------------------------------------------------------- paths and queries


@pytest.mark.parametrize(
    "segment", ["%00", "a%0Ab", "%ED%A0%80", "%FF%FE", "%ZZ", "abc%", "x" * 256, "%7F"]
)
def test_bad_path_segments_are_404(client, orch, segment):
    for method in ("GET", "PUT", "DELETE"):
        r = client.request(method, f"{LB_URL}/{segment}", json={"loadbalancer": {"name": "x"}})
        assert r.status_code == 404, (method, r.text)
        assert r.json()["faultstring"] == "The resource could not be found."
    assert orch.calls == []


def test_bad_path_segment_on_a_network_route_gets_a_neutron_body(client):
    r = client.get("/v2.0/networks/%00")
    assert r.status_code == 404 and r.json()["NeutronError"]["type"] == "NotFound"


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("name=%ZZ", "not valid percent-encoded"),
        ("name=%ED%A0%80", "field/attribute name. Value is not valid UTF-8"),
        ("%FF=1", "not valid percent-encoded UTF-8"),
        ("name=a%00", "field/attribute name. Value must not contain control characters"),
        ("limit=1&limit=2", "field/attribute limit. It may be given only once"),
        ("marker=a&marker=b", "field/attribute marker. It may be given only once"),
        ("sort_key=name&sort_key=id", "field/attribute sort_key. It may be given only once"),
        ("limit=ten", "Supplied pagination limit 'ten' is not valid."),
        ("sort=name:sideways", "Supplied sort direction 'sideways' is not valid."),
        ("sort_key=name&sort_dir=up", "Supplied sort direction 'up' is not valid."),
        ("page_reverse=perhaps", "field/attribute page_reverse. Value: 'perhaps'."),
        ("cascade=maybe", "field/attribute cascade. Value: 'maybe'."),
    ],
)
def test_bad_query_strings_are_400_naming_the_parameter(client, orch, query, text):
    for method, body in (("GET", None), ("POST", {"loadbalancer": {"vip_subnet_id": SUBNET_ID}})):
        r = client.request(method, f"{LB_URL}?{query}", json=body)
        assert r.status_code == 400, (method, r.text)
        assert text in r.json()["faultstring"]
    assert orch.calls == []


def test_ordinary_query_strings_pass(client, lb):
    for query in ("name=lb1&name=lb2", "fields=id&fields=name", "limit=infinite", "sort=name"):
        assert client.get(f"{LB_URL}?{query}").status_code == 200, query
    for query in ("page_reverse=", "page_reverse=TRUE", "tags=a,b&tags=c", "name=%C3%A9"):
        assert client.get(f"{LB_URL}?{query}").status_code == 200, query
    assert client.get(f"{LB_URL}?page_reverse=True&name=a+b%20c").status_code == 200


# ---------------------------------------------------------------------- Content-Type


@pytest.mark.parametrize(
    "kind", ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/x"]
)
def test_a_body_that_is_not_json_by_its_content_type_is_415(client, orch, kind):
    body = json.dumps({"loadbalancer": {"vip_subnet_id": SUBNET_ID}})
    r = client.post(LB_URL, content=body, headers={"Content-Type": kind})
    assert r.status_code == 415
    assert r.json()["faultstring"] == f"Unknown mimetype: {kind}"
    assert orch.calls == []


@pytest.mark.parametrize("kind", ["application/json; charset=utf-8", "Application/JSON", None])
def test_json_content_types_and_none_are_read_as_json(client, kind):
    body = json.dumps({"loadbalancer": {"vip_subnet_id": SUBNET_ID}})
    headers = {"Content-Type": kind} if kind else {}
    r = client.post(LB_URL, content=body, headers=headers)
    assert r.status_code == 201, r.text


def test_openapi_documents_the_body_refusals(client):
    paths = client.app.openapi()["paths"]
    for path, method in (
        ("/v2/lbaas/loadbalancers", "post"),
        ("/v2/lbaas/quotas/{project_id}", "put"),
    ):
        assert {"413", "415"} <= set(paths[path][method]["responses"]), path
    assert "413" not in paths["/v2/lbaas/loadbalancers/{lb_id}"]["delete"]["responses"]


# --------------------------------------------------------------------- body size limit


def test_the_default_limit_fits_the_largest_certificate_bundle():
    line = "A" * 64 + "\n"
    pem = line * (MAX_PEM_LENGTH // len(line))
    bundle = {"certificate": {"certificate": pem, "private_key": pem, "intermediates": pem}}
    assert len(json.dumps(bundle)) < input_guard.DEFAULT_MAX_BODY


def test_limit_comes_from_the_environment():
    assert Settings.from_env({}).max_request_body == input_guard.DEFAULT_MAX_BODY
    assert Settings.from_env({"LBAAS_MAX_REQUEST_BODY": "4096"}).max_request_body == 4096
    with pytest.raises(ValueError):
        Settings.from_env({"LBAAS_MAX_REQUEST_BODY": "0"})


def _small_app(tokens_file: Path, orch: MemoryOrchestrator, limit: int = 10_000):
    return bootstrap(Settings(tokens_file=tokens_file, max_request_body=limit), orchestrator=orch)


def test_a_body_over_the_limit_is_413(tokens_file, orch):
    app = _small_app(tokens_file, orch)
    with TestClient(app, headers={"X-Auth-Token": USER}) as c:
        big = {"loadbalancer": {"vip_subnet_id": SUBNET_ID, "description": "x" * 10_000}}
        r = c.post(LB_URL, json=big)
        assert r.status_code == 413
        assert r.json()["faultstring"].startswith("Request is too large")
        r = c.post(LB_URL, json={"loadbalancer": {"vip_subnet_id": SUBNET_ID}})
        assert r.status_code == 201
    assert len(orch.writes) == 1


def _asgi_post(app, headers: list[tuple[bytes, bytes]], receive) -> tuple[int, dict]:  # noqa: ANN001
    """One POST /v2/lbaas/loadbalancers straight through the ASGI interface."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": LB_URL,
        "raw_path": LB_URL.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"x-auth-token", USER.encode()), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    sent: list[dict] = []

    async def send(message):  # noqa: ANN001, ANN202
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


def test_a_streamed_body_is_cut_off_at_the_limit_without_reading_the_rest(tokens_file, orch):
    app = _small_app(tokens_file, orch, limit=100_000)
    chunks = 0

    async def endless():  # noqa: ANN202 - a client that never stops sending
        nonlocal chunks
        chunks += 1
        return {"type": "http.request", "body": b" " * 8192, "more_body": True}

    status, body = _asgi_post(app, [(b"transfer-encoding", b"chunked")], endless)
    assert status == 413 and body["faultcode"] == "Client"
    assert chunks == 100_000 // 8192 + 1  # read up to the limit, not one chunk more
    assert orch.calls == []


def test_a_declared_length_over_the_limit_is_413_before_any_read(tokens_file, orch):
    app = _small_app(tokens_file, orch)

    async def unread():  # noqa: ANN202
        raise AssertionError("the body was read")

    status, body = _asgi_post(app, [(b"content-length", str(10**12).encode())], unread)
    assert status == 413 and body["faultstring"].startswith("Request is too large")
    status, _ = _asgi_post(app, [(b"content-length", b"12x")], unread)
    assert status == 400


# ------------------------------------------------------------- writes that take no body


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b'{"a": ', "not valid JSON"),
        (b'{"cascade": true}', "Unknown argument: cascade"),
        (b"[[[1]]]", "This request takes no body."),
        (b'{"\\ud800": 1}', "surrogate"),
    ],
)
def test_a_body_sent_to_a_write_that_takes_none_is_refused(client, orch, lb, raw, text):
    for method, path in (("DELETE", ""), ("PUT", "/failover")):
        r = client.request(method, f"{LB_URL}/{lb['id']}{path}", content=raw, headers=AS_ADMIN)
        assert r.status_code == 400 and text in r.json()["faultstring"], r.text
    assert orch.writes[1:] == []  # only the load balancer's create


def test_an_empty_object_is_no_body(client, orch, lb):
    for raw in (b"", b"{}", b"null", b" \n"):
        r = client.put(f"{LB_URL}/{lb['id']}/failover", content=raw, headers=AS_ADMIN)
        assert r.status_code == 202, (raw, r.text)


# ------------------------------------------------------------------- tokens and secrets


def test_tokens_are_compared_in_constant_time(tokens_file, monkeypatch):
    compared: list[tuple[bytes, bytes]] = []
    real = auth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    store = auth.TokenStore(tokens_file)
    assert store.lookup(USER).project_id == "project-a"
    assert compared == [(USER.encode(), USER.encode())]
    assert store.lookup(USER[:-1]) is None and store.lookup(USER + "x") is None
    assert store.lookup("") is None


SECRET = "SECRET-MATERIAL-4f1c"


@pytest.mark.parametrize(
    "field", ["certificate", "private_key", "intermediates", "crl", "passphrase", "pkcs12"]
)
@pytest.mark.parametrize("value", [f"{SECRET}\x01", [SECRET], {"x": SECRET}, f"\x00{SECRET}"])
def test_key_material_is_never_echoed(client, field, value):
    body = {"certificate": {"name": "c", field: value}}
    r = client.post("/v2/lbaas/certificates", json=body)
    assert r.status_code == 400, r.text
    assert SECRET not in r.text
    assert f"field/attribute {field}." in r.json()["faultstring"]


def test_ordinary_short_values_are_still_echoed_and_large_ones_are_not(client):
    r = client.post(LB_URL, json={"loadbalancer": {"vip_subnet_id": "nope"}})
    assert "Value: 'nope'." in r.json()["faultstring"]
    r = client.post(LB_URL, json={"loadbalancer": {"vip_subnet_id": [["nope-nested"]]}})
    assert r.status_code == 400 and "nope-nested" not in r.text
    r = client.post(LB_URL, json={"loadbalancer": {"vip_subnet_id": "n" * 300}})
    assert r.status_code == 400 and "n" * 300 not in r.text
