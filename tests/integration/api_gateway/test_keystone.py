"""keystone auth strategy against a fake Keystone v3 (real HTTP on loopback, port 0)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.app import create_app
from services.api_gateway.auth import AuthSettings, KeystoneAuthenticator, TokenStore
from tests.support.memory_orchestrator import MemoryOrchestrator

SERVICE_TOKEN = "service-admin-token"
SUBNET_ID = str(uuid.UUID(int=2))


def _iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


class FakeKeystone:
    """GET /v3/auth/tokens (X-Auth-Token + X-Subject-Token) and POST for the service user."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict] = {}
        self.validations: list[str] = []
        self.password_logins = 0
        ks = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: ANN002, D102
                pass

            def _send(self, status: int, body: dict | None, headers: dict | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                if self.path.rstrip("/") != "/v3/auth/tokens":
                    return self._send(404, {"error": {"code": 404}})
                caller = self.headers.get("X-Auth-Token")
                subject = self.headers.get("X-Subject-Token", "")
                if caller not in (SERVICE_TOKEN, "password-issued") and caller != subject:
                    return self._send(401, {"error": {"code": 401}})
                ks.validations.append(subject)
                body = ks.tokens.get(subject)
                if body is None:
                    return self._send(404, {"error": {"code": 404, "title": "Not Found"}})
                return self._send(200, {"token": body}, {"X-Subject-Token": subject})

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                req = json.loads(self.rfile.read(length) or b"{}")
                pw = req["auth"]["identity"]["password"]["user"]
                if pw.get("name") != "octavia" or pw.get("password") != "secret":
                    return self._send(401, {"error": {"code": 401}})
                ks.password_logins += 1
                body = {
                    "expires_at": _iso(dt.timedelta(hours=1)),
                    "issued_at": _iso(dt.timedelta()),
                    "methods": ["password"],
                    "user": {"id": "svc", "name": "octavia", "domain": {"id": "default"}},
                    "project": {"id": "service", "name": "service", "domain": {"id": "default"}},
                    "roles": [{"id": "r", "name": "service"}],
                    "catalog": [],
                }
                return self._send(201, {"token": body}, {"X-Subject-Token": "password-issued"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(
        self,
        token: str,
        project: str,
        roles: list[str],
        *,
        expires=dt.timedelta(hours=1),
        system: bool = False,
    ) -> None:
        body = {
            "expires_at": _iso(expires),
            "issued_at": _iso(dt.timedelta()),
            "methods": ["password"],
            "user": {"id": f"user-{token}", "name": token, "domain": {"id": "default"}},
            "roles": [{"id": r, "name": r} for r in roles],
        }
        if system:
            body["system"] = {"all": True}
        else:
            body["project"] = {"id": project, "name": project, "domain": {"id": "default"}}
        self.tokens[token] = body


@pytest.fixture
def keystone() -> Iterator[FakeKeystone]:
    ks = FakeKeystone()
    ks.thread.start()
    yield ks
    ks.server.shutdown()
    ks.server.server_close()


@pytest.fixture
def orch() -> MemoryOrchestrator:
    fake = MemoryOrchestrator()
    fake.subnets.append(
        pb.Subnet(id=SUBNET_ID, name="s", network_id="n", cidr="127.0.0.0/8", ip_version=4)
    )
    return fake


def _client(orch, tmp_path: Path, keystone: FakeKeystone, **kw) -> TestClient:
    settings = AuthSettings(strategy="keystone", keystone_url=keystone.url, **kw)
    return TestClient(create_app(orch, TokenStore(tmp_path / "none.yaml"), settings))


def test_valid_token_is_accepted_and_cached(orch, tmp_path, keystone):
    keystone.add("tok-a", "project-a", ["member"])
    with _client(orch, tmp_path, keystone, keystone_admin_token=SERVICE_TOKEN) as api:
        h = {"X-Auth-Token": "tok-a"}
        body = {"loadbalancer": {"vip_subnet_id": SUBNET_ID}}
        r = api.post("/v2/lbaas/loadbalancers", json=body, headers=h)
        assert r.status_code == 201, r.text
        assert r.json()["loadbalancer"]["project_id"] == "project-a"
        assert api.get("/v2/lbaas/loadbalancers", headers=h).status_code == 200
        assert api.get("/v2.0/lbaas/loadbalancers", headers=h).status_code == 200
    assert keystone.validations == ["tok-a"]  # one round trip for three requests


def test_invalid_or_missing_token_is_401(orch, tmp_path, keystone):
    with _client(orch, tmp_path, keystone, keystone_admin_token=SERVICE_TOKEN) as api:
        r = api.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "bogus"})
        assert r.status_code == 401
        assert r.json()["faultstring"] == "The request you have made requires authentication."
        assert api.get("/v2/lbaas/loadbalancers").status_code == 401
        # failures are not cached: a token Keystone learns about later works
        keystone.add("bogus", "project-a", ["reader"])
        r = api.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "bogus"})
        assert r.status_code == 200
    assert keystone.validations == ["bogus", "bogus"]


def test_roles_from_token_drive_policy(orch, tmp_path, keystone):
    keystone.add("reader", "project-a", ["reader"])
    keystone.add("sysadmin", "", ["admin", "reader", "member"], system=True)
    with _client(orch, tmp_path, keystone, keystone_admin_token=SERVICE_TOKEN) as api:
        body = {"loadbalancer": {"vip_subnet_id": SUBNET_ID}}
        r = api.post("/v2/lbaas/loadbalancers", json=body, headers={"X-Auth-Token": "reader"})
        assert r.status_code == 403
        assert (
            api.get("/v2/octavia/amphorae", headers={"X-Auth-Token": "reader"}).status_code == 403
        )
        r = api.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "sysadmin"})
        assert r.status_code == 200


def test_cache_ttl_bounded_by_token_expiry(tmp_path, keystone):
    keystone.add("short", "p", ["member"], expires=dt.timedelta(seconds=30))
    now = [dt.datetime.now(dt.UTC).timestamp()]
    auth = KeystoneAuthenticator(
        AuthSettings(
            strategy="keystone",
            keystone_url=keystone.url + "/v3",
            keystone_admin_token=SERVICE_TOKEN,
            token_cache_ttl=300,
        ),
        clock=lambda: now[0],
    )

    class Req:
        headers = {"X-Auth-Token": "short"}

    assert auth.principal_for(Req()).project_id == "p"
    assert auth.principal_for(Req()).roles == ("member",)
    assert len(keystone.validations) == 1
    now[0] += 31  # past the token's expiry (well before the 300 s TTL)
    assert auth.principal_for(Req()) is None  # Keystone says it expired
    assert len(keystone.validations) == 2


def test_cache_ttl(tmp_path, keystone):
    keystone.add("t", "p", ["member"])
    now = [dt.datetime.now(dt.UTC).timestamp()]
    auth = KeystoneAuthenticator(
        AuthSettings(
            strategy="keystone",
            keystone_url=keystone.url,
            keystone_admin_token=SERVICE_TOKEN,
            token_cache_ttl=10,
        ),
        clock=lambda: now[0],
    )

    class Req:
        headers = {"X-Auth-Token": "t"}

    auth.principal_for(Req())
    now[0] += 5
    auth.principal_for(Req())
    assert len(keystone.validations) == 1
    now[0] += 6
    auth.principal_for(Req())
    assert len(keystone.validations) == 2


def test_service_user_password_credentials(orch, tmp_path, keystone):
    keystone.add("tok-b", "project-b", ["load-balancer_member"])
    with _client(
        orch,
        tmp_path,
        keystone,
        keystone_username="octavia",
        keystone_password="secret",
        keystone_project_name="service",
    ) as api:
        r = api.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "tok-b"})
        assert r.status_code == 200, r.text
    assert keystone.password_logins == 1 and keystone.validations == ["tok-b"]


def test_self_validation_without_service_credentials(orch, tmp_path, keystone):
    keystone.add("tok-c", "project-c", ["member"])
    with _client(orch, tmp_path, keystone) as api:
        assert (
            api.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "tok-c"}).status_code == 200
        )
        assert (
            api.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "nope"}).status_code == 401
        )


def test_keystone_down_is_503(orch, tmp_path, keystone):
    keystone.server.shutdown()
    keystone.server.server_close()
    with _client(
        orch, tmp_path, keystone, keystone_admin_token=SERVICE_TOKEN, keystone_timeout=2
    ) as api:
        r = api.get("/v2/lbaas/loadbalancers", headers={"X-Auth-Token": "x"})
        assert r.status_code == 503


def test_settings_from_env():
    s = AuthSettings.from_env(
        {
            "LBAAS_AUTH_STRATEGY": "Keystone",
            "LBAAS_KEYSTONE_URL": "http://k:5000",
            "LBAAS_TOKEN_CACHE_TTL": "60",
            "LBAAS_POLICY_FILE": "/etc/p.yaml",
        }
    )
    assert (s.strategy, s.keystone_url, s.token_cache_ttl, s.policy_file) == (
        "keystone",
        "http://k:5000",
        60.0,
        "/etc/p.yaml",
    )
    assert AuthSettings.from_env({}).strategy == "tokens"
    with pytest.raises(ValueError):
        AuthSettings.from_env({"LBAAS_AUTH_STRATEGY": "magic"})
