"""Pushes an f5-as3 rendering (`as3.json`) to a BIG-IP's AS3 endpoint and waits for the result.

Not wired into the reconcile pass: nothing builds this adapter yet (docs/f5.md). It speaks the
AS3 REST API over HTTPS with the standard library:

- `POST /mgmt/shared/appsvcs/declare?async=true` (the whole ADC declaration), or, by default,
  `POST /mgmt/shared/appsvcs/declare/<tenant>/applications?async=true` with only this load
  balancer's application (AS3's per-application API), because a whole-tenant declaration
  replaces every application of the tenant and one project's tenant holds all its load
  balancers;
- a 202 answer carries a task id, polled at `GET /mgmt/shared/appsvcs/task/<id>` until no
  result says "in progress";
- `DELETE /mgmt/shared/appsvcs/declare/<tenant>/applications/<application>` removes one.

Authentication is HTTP basic or a token from `POST /mgmt/shared/authn/login`
(`X-F5-Auth-Token`). Errors map to domain errors: rejected declarations are InvalidInput, bad
credentials or a missing AS3 are Precondition, a busy or unreachable device is Unavailable.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.common.errors import InvalidInput, Precondition, Unavailable

DECLARE = "/mgmt/shared/appsvcs/declare"
TASK = "/mgmt/shared/appsvcs/task"
LOGIN = "/mgmt/shared/authn/login"
IN_PROGRESS = "in progress"
# Result messages of a tenant or application that converged.
DONE = {"success", "no change"}


@dataclass(frozen=True)
class DeployResult:
    task_id: str
    results: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BigIpAs3Client:
    """One BIG-IP (or HA pair's floating management address). base_url: "https://host[:port]"."""

    base_url: str
    username: str
    password: str
    use_token: bool = False
    ssl_context: ssl.SSLContext | None = None
    timeout: float = 30.0
    poll_interval: float = 1.0
    poll_timeout: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    _token: str = ""

    # -- public -------------------------------------------------------------------------------

    def deploy(
        self, declaration: bytes | dict[str, Any], per_application: bool = True
    ) -> DeployResult:
        """Applies a rendered declaration and waits until AS3 reports every result done."""
        doc = json.loads(declaration) if isinstance(declaration, bytes) else declaration
        if per_application:
            tenant, app_name, app = _single_application(doc)
            path = f"{DECLARE}/{_seg(tenant)}/applications"
            body: dict[str, Any] = {"schemaVersion": doc["schemaVersion"], app_name: app}
        else:
            path, body = DECLARE, doc
        status, answer = self._request("POST", path + "?async=true", body)
        return self._finish(status, answer)

    def delete_application(self, tenant: str, application: str) -> DeployResult:
        path = f"{DECLARE}/{_seg(tenant)}/applications/{_seg(application)}?async=true"
        status, answer = self._request("DELETE", path)
        return self._finish(status, answer)

    # -- protocol -----------------------------------------------------------------------------

    def _finish(self, status: int, answer: dict[str, Any]) -> DeployResult:
        if status == 202 and answer.get("id"):
            return self._poll(str(answer["id"]))
        return DeployResult(str(answer.get("id", "")), _checked(answer))

    def _poll(self, task_id: str) -> DeployResult:
        deadline = time.monotonic() + self.poll_timeout
        while True:
            _, answer = self._request("GET", f"{TASK}/{_seg(task_id)}")
            results = answer.get("results") or []
            if results and not any(r.get("message") == IN_PROGRESS for r in results):
                return DeployResult(task_id, _checked(answer))
            if time.monotonic() >= deadline:
                raise Unavailable(
                    "the BIG-IP did not finish applying the configuration in time",
                    operator_detail=f"AS3 task {task_id} still in progress after "
                    f"{self.poll_timeout} s",
                )
            self.sleep(self.poll_interval)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.use_token:
            if not self._token:
                self._token = self._login()
            headers["X-F5-Auth-Token"] = self._token
        else:
            raw = f"{self.username}:{self.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        return headers

    def _login(self) -> str:
        body = {"username": self.username, "password": self.password, "loginProviderName": "tmos"}
        _, answer = self._send("POST", LOGIN, body, {"Content-Type": "application/json"})
        token = (answer.get("token") or {}).get("token")
        if not token:
            raise Precondition("the BIG-IP login returned no token", operator_detail=str(answer))
        return str(token)

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        try:
            return self._send(method, path, body, self._headers())
        except _Expired:
            self._token = ""  # tokens expire (20 minutes by default): log in once more
            return self._send(method, path, body, self._headers())

    def _send(
        self, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body, sort_keys=True).encode()
        request = urllib.request.Request(
            self.base_url.rstrip("/") + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout, context=self.ssl_context
            ) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as err:
            answer = _json(err.read())
            if err.code == 401 and self.use_token and path != LOGIN:
                raise _Expired() from None
            raise _mapped(err.code, answer, f"{method} {path}") from None
        except (urllib.error.URLError, OSError) as err:
            raise Unavailable(
                "the BIG-IP is unreachable", operator_detail=f"{method} {path}: {err}"
            ) from None


class _Expired(Exception):
    pass


def _seg(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {"message": raw[:500].decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"results": value}


def _single_application(doc: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    tenants = [(k, v) for k, v in doc.items() if isinstance(v, dict) and v.get("class") == "Tenant"]
    if len(tenants) != 1:
        raise InvalidInput("an AS3 declaration must hold exactly one tenant", field="declaration")
    tenant, body = tenants[0]
    apps = [
        (k, v) for k, v in body.items() if isinstance(v, dict) and v.get("class") == "Application"
    ]
    if len(apps) != 1:
        raise InvalidInput("an AS3 tenant must hold exactly one application", field="declaration")
    return tenant, apps[0][0], apps[0][1]


def _messages(answer: dict[str, Any]) -> str:
    parts = [str(answer.get("message", ""))]
    for result in answer.get("results") or []:
        parts.append(f"{result.get('tenant', '')}: {result.get('message', '')}")
        parts.extend(str(e) for e in result.get("errors") or [])
    parts.extend(str(e) for e in answer.get("errors") or [])
    return "; ".join(p for p in parts if p and p != ": ")[:2000]


def _checked(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Results of a finished task; a failed tenant or application raises."""
    results = list(answer.get("results") or [])
    failed = [r for r in results if r.get("message") not in DONE or int(r.get("code", 200)) >= 300]
    if failed:
        codes = {int(r.get("code", 0)) for r in failed}
        raise _mapped(max(codes) if codes else 422, answer, "AS3 task")
    return results


def _mapped(code: int, answer: dict[str, Any], what: str) -> Exception:
    detail = f"{what}: HTTP {code}: {_messages(answer)}"
    if code in (401, 403):
        return Precondition(
            "the BIG-IP refused the controller's credentials", operator_detail=detail
        )
    if code == 404:
        return Precondition("AS3 is not installed on the BIG-IP", operator_detail=detail)
    if code in (400, 422):
        return InvalidInput("the BIG-IP rejected the configuration", operator_detail=detail)
    # 503: AS3 busy with another declaration; 5xx: device trouble. Both are worth a retry.
    return Unavailable("the BIG-IP could not apply the configuration now", operator_detail=detail)
