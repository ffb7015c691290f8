"""The BIG-IP AS3 adapter against a fake AS3 endpoint on 127.0.0.1: per-application and whole
declarations, async task polling, basic and token authentication, and error mapping."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from services.common.errors import InvalidInput, Precondition, Unavailable
from services.orchestrator.adapters.bigip_as3 import BigIpAs3Client
from services.renderer.backends.f5_as3.renderer import As3Renderer
from tests.unit.renderer import test_as3_samples as samples

pytestmark = pytest.mark.timeout(60)
BASIC = "Basic " + base64.b64encode(b"admin:secret").decode()


class FakeAs3:
    """Scripted answers keyed by (method, path without query); records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self.tokens = {"tok-1"}

    def script(self, method: str, path: str, *answers: tuple[int, Any]) -> None:
        self.answers[(method, path)] = list(answers)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length)) if length else None
        path, _, query = handler.path.partition("?")
        self.requests.append({
            "method": handler.command, "path": path, "query": query, "body": body,
            "auth": handler.headers.get("Authorization"),
            "token": handler.headers.get("X-F5-Auth-Token"),
        })  # fmt: skip
        if path == "/mgmt/shared/authn/login":
            status, answer = (200, {"token": {"token": sorted(self.tokens)[0]}})
        elif handler.headers.get("Authorization") != BASIC and (
            handler.headers.get("X-F5-Auth-Token") not in self.tokens
        ):
            status, answer = 401, {"code": 401, "message": "Authorization failed"}
        else:
            queue = self.answers.get((handler.command, path)) or [(500, {"message": "unscripted"})]
            status, answer = queue.pop(0) if len(queue) > 1 else queue[0]
        raw = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)


@pytest.fixture
def fake() -> Iterator[tuple[FakeAs3, str]]:
    state = FakeAs3()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.handle(self)

        do_POST = do_DELETE = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(url: str, **kw: Any) -> BigIpAs3Client:
    options = {"username": "admin", "password": "secret", "poll_interval": 0.01, "timeout": 5}
    options.update(kw)
    return BigIpAs3Client(url, **options)


def _declaration() -> bytes:
    rendering = As3Renderer().render(samples.tls_l7_lb(), samples.target(), samples.materials())
    return rendering.files[0].content


TENANT = f"Project_{samples.PROJECT_ID}"
APP = f"lb_{samples.LB_ID}"
APPS_PATH = f"/mgmt/shared/appsvcs/declare/{TENANT}/applications"


def test_per_application_deploy_polls_the_task(fake) -> None:
    state, url = fake
    state.script("POST", APPS_PATH, (202, {"id": "task-1", "results": [{"code": 0}]}))
    state.script(
        "GET", "/mgmt/shared/appsvcs/task/task-1",
        (200, {"id": "task-1", "results": [{"code": 0, "message": "in progress"}]}),
        (200, {"id": "task-1", "results": [{"code": 200, "message": "success", "tenant": TENANT}]}),
    )  # fmt: skip
    result = _client(url).deploy(_declaration())
    assert result.task_id == "task-1" and result.results[0]["message"] == "success"
    post = state.requests[0]
    assert (post["method"], post["path"], post["query"]) == ("POST", APPS_PATH, "async=true")
    assert post["auth"] == BASIC
    # Only this load balancer's application travels, not the whole tenant.
    assert sorted(post["body"]) == [APP, "schemaVersion"]
    assert post["body"][APP]["class"] == "Application"
    assert [r["method"] for r in state.requests] == ["POST", "GET", "GET"]


def test_whole_declaration_and_synchronous_answer(fake) -> None:
    state, url = fake
    state.script("POST", "/mgmt/shared/appsvcs/declare",
                 (200, {"results": [{"code": 200, "message": "no change"}]}))  # fmt: skip
    result = _client(url).deploy(_declaration(), per_application=False)
    assert result.results == [{"code": 200, "message": "no change"}]
    assert state.requests[0]["body"]["class"] == "ADC"


def test_token_login_and_relogin_after_expiry(fake) -> None:
    state, url = fake
    state.script("POST", APPS_PATH, (200, {"results": [{"code": 200, "message": "success"}]}))
    client = _client(url, use_token=True)
    client.deploy(_declaration())
    assert [r["path"] for r in state.requests] == ["/mgmt/shared/authn/login", APPS_PATH]
    assert state.requests[0]["body"]["loginProviderName"] == "tmos"
    assert state.requests[1]["token"] == "tok-1" and state.requests[1]["auth"] is None
    state.tokens = {"tok-2"}  # the old token expired
    client.deploy(_declaration())
    assert [r["path"] for r in state.requests[2:]] == [
        APPS_PATH,
        "/mgmt/shared/authn/login",
        APPS_PATH,
    ]
    assert state.requests[-1]["token"] == "tok-2"


def test_delete_application(fake) -> None:
    state, url = fake
    path = f"{APPS_PATH}/{APP}"
    state.script("DELETE", path, (200, {"results": [{"code": 200, "message": "success"}]}))
    _client(url).delete_application(TENANT, APP)
    assert state.requests[0]["method"] == "DELETE" and state.requests[0]["path"] == path


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        ((422, {"code": 422, "message": "declaration is invalid", "errors": ["/x: bad"]}),
         InvalidInput, "/x: bad"),
        ((503, {"code": 503, "message": "Configuration operation in progress on device"}),
         Unavailable, "in progress on device"),
        ((404, {"code": 404, "message": "Public URI path not registered"}),
         Precondition, "not registered"),
        ((500, {"message": "boom"}), Unavailable, "boom"),
    ],
)  # fmt: skip
def test_http_errors_are_mapped(fake, answer, error, text) -> None:
    state, url = fake
    state.script("POST", APPS_PATH, answer)
    with pytest.raises(error) as err:
        _client(url).deploy(_declaration())
    assert text in err.value.operator_detail


def test_failed_task_and_bad_credentials(fake) -> None:
    state, url = fake
    state.script("POST", APPS_PATH, (202, {"id": "t2"}))
    state.script("GET", "/mgmt/shared/appsvcs/task/t2", (200, {"results": [
        {"code": 422, "message": "declaration failed", "tenant": TENANT,
         "errors": ["01070734:3: Configuration error: invalid pool member"]}]}))  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        _client(url).deploy(_declaration())
    assert "invalid pool member" in err.value.operator_detail
    with pytest.raises(Precondition):
        _client(url, password="wrong").deploy(_declaration())


def test_poll_timeout_and_unreachable_device(fake) -> None:
    state, url = fake
    state.script("POST", APPS_PATH, (202, {"id": "t3"}))
    state.script("GET", "/mgmt/shared/appsvcs/task/t3",
                 (200, {"results": [{"code": 0, "message": "in progress"}]}))  # fmt: skip
    with pytest.raises(Unavailable):
        _client(url, poll_timeout=0.05).deploy(_declaration())
    with pytest.raises(Unavailable):
        _client("http://127.0.0.1:9", timeout=2).deploy(_declaration())
    with pytest.raises(InvalidInput):
        _client(url).deploy({"class": "ADC", "schemaVersion": "3.56.0"})
