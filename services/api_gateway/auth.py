"""Who is calling: authentication (tokens file, Keystone, noauth) and the policy decision.

`LBAAS_AUTH_STRATEGY` picks how a request becomes a `Principal`:

* `tokens` (default): `X-Auth-Token` looked up in the tokens file
  (`tokens: {<token>: {project_id, roles, [user_id], [system_scope]}}`).
* `keystone`: `X-Auth-Token` validated with Keystone v3 (`GET /v3/auth/tokens`,
  `X-Subject-Token`) through keystoneauth1, with the service's admin token, service user
  credentials, or (neither set) the token itself; results cached for at most
  `LBAAS_TOKEN_CACHE_TTL` seconds and never past the token's expiry.
* `noauth`: trusts `X-Project-Id` / `X-Roles` (/ `X-User-Id`); development only.

The `authenticate` dependency then asks the policy engine (services.api_gateway.policy)
whether the matched route is allowed and whether the caller acts across projects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

import yaml
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.faults import ApiFault

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Auth-Token"
STRATEGIES = ("tokens", "keystone", "noauth")
UNAUTHENTICATED = "The request you have made requires authentication."


@dataclass(frozen=True)
class AuthSettings:
    """Authentication and policy settings, read once from the environment."""

    strategy: str = "tokens"
    keystone_url: str = ""
    keystone_admin_token: str = ""
    keystone_username: str = ""
    keystone_password: str = ""
    keystone_project_name: str = ""
    keystone_user_domain_name: str = "Default"
    keystone_project_domain_name: str = "Default"
    keystone_timeout: float = 5.0
    token_cache_ttl: float = 300.0
    policy_file: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env
        strategy = (env.get("LBAAS_AUTH_STRATEGY") or "tokens").strip().lower()
        if strategy not in STRATEGIES:
            raise ValueError(f"LBAAS_AUTH_STRATEGY must be one of {STRATEGIES}, not {strategy!r}")
        return cls(
            strategy=strategy,
            keystone_url=env.get("LBAAS_KEYSTONE_URL") or "",
            keystone_admin_token=env.get("LBAAS_KEYSTONE_ADMIN_TOKEN") or "",
            keystone_username=env.get("LBAAS_KEYSTONE_USERNAME") or "",
            keystone_password=env.get("LBAAS_KEYSTONE_PASSWORD") or "",
            keystone_project_name=env.get("LBAAS_KEYSTONE_PROJECT_NAME") or "",
            keystone_user_domain_name=env.get("LBAAS_KEYSTONE_USER_DOMAIN_NAME") or "Default",
            keystone_project_domain_name=(
                env.get("LBAAS_KEYSTONE_PROJECT_DOMAIN_NAME") or "Default"
            ),
            keystone_timeout=float(env.get("LBAAS_KEYSTONE_TIMEOUT") or 5.0),
            token_cache_ttl=float(env.get("LBAAS_TOKEN_CACHE_TTL") or 300.0),
            policy_file=env.get("LBAAS_POLICY_FILE") or "",
        )


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's project, roles and scope.

    `all_projects` is the per-request decision of the policy engine (does the caller act
    on other projects' objects for this endpoint?). Before policy it is "has role admin".
    """

    project_id: str
    roles: tuple[str, ...]
    user_id: str = ""
    system_scope: str = ""
    all_projects: bool | None = None

    @property
    def is_admin(self) -> bool:
        """May act on (list, create in, show) other projects for the current endpoint."""
        if self.all_projects is None:
            return "admin" in self.roles
        return self.all_projects

    def scope(self) -> pb.Scope:
        if self.is_admin:
            return pb.Scope(all_projects=True)
        return pb.Scope(project_id=self.project_id)

    def credentials(self) -> dict[str, Any]:
        """The oslo.policy credentials (what oslo.context's to_policy_values gives)."""
        return {
            "roles": list(self.roles),
            "project_id": self.project_id or None,
            "user_id": self.user_id or None,
            "system_scope": self.system_scope or None,
        }

    def with_scope(self, all_projects: bool) -> Principal:
        return dataclasses.replace(self, all_projects=all_projects)


class Authenticator(Protocol):
    def principal_for(self, request: Request) -> Principal | None: ...

    async def principal(self, request: Request) -> Principal | None:
        """principal_for, on the event loop: what may block is sent to the threadpool."""
        ...


# ---------------------------------------------------------------------------- tokens file


class TokenStore:
    """Reads `tokens: {<token>: {project_id, roles}}`; re-reads when the file's mtime changes."""

    def __init__(self, path: Path):
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        # sha256(token) -> (token, principal): found by digest, then compared in constant time,
        # so how long a lookup takes says nothing about how much of a guess was right.
        self._tokens: dict[bytes, tuple[bytes, Principal]] = {}
        self._projects: dict[str, str] = {}

    def lookup(self, token: str) -> Principal | None:
        self._refresh()
        given = token.encode("utf-8", "surrogateescape")
        known, principal = self._tokens.get(hashlib.sha256(given).digest(), (b"", None))
        return principal if hmac.compare_digest(known, given) else None

    def projects(self) -> dict[str, str]:
        """project id -> name for every project a token names (the name is the optional
        `project_name` of a token's entry, else the id): the local identity view's catalog."""
        self._refresh()
        return dict(self._projects)

    def principal_for(self, request: Request) -> Principal | None:
        token = request.headers.get(TOKEN_HEADER)
        return self.lookup(token) if token else None

    async def principal(self, request: Request) -> Principal | None:
        return self.principal_for(request)  # a stat of the file unless it changed

    def _refresh(self) -> None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            self._stamp, self._tokens, self._projects = None, {}, {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        with self._lock:
            try:
                data = yaml.safe_load(self._path.read_text()) or {}
                self._tokens = _parse(data)
                self._projects = _project_names(data)
            except (OSError, yaml.YAMLError, ValueError, TypeError) as err:
                # Keep the last good set: a half-written file must not lock everyone out.
                log.error("cannot read tokens file %s: %s", self._path, err)
                return
            self._stamp = stamp


def _parse(data: dict) -> dict[bytes, tuple[bytes, Principal]]:
    tokens = data.get("tokens") or {}
    if not isinstance(tokens, dict):
        raise ValueError("'tokens' must be a mapping")
    out: dict[bytes, tuple[bytes, Principal]] = {}
    for token, entry in tokens.items():
        entry = entry or {}
        roles = entry.get("roles") or []
        if isinstance(roles, str):
            roles = [roles]
        secret = str(token).encode("utf-8", "surrogateescape")
        out[hashlib.sha256(secret).digest()] = (
            secret,
            Principal(
                str(entry.get("project_id") or ""),
                tuple(str(r) for r in roles),
                user_id=str(entry.get("user_id") or ""),
                system_scope=str(entry.get("system_scope") or ""),
            ),
        )
    return out


def _project_names(data: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in (data.get("tokens") or {}).values():
        entry = entry or {}
        project = str(entry.get("project_id") or "")
        if project:
            name = str(entry.get("project_name") or "")
            if name or project not in out:
                out[project] = name or project
    return out


# ---------------------------------------------------------------------------- noauth


class NoAuth:
    """Trusts the caller's headers. For development only."""

    def __init__(self) -> None:
        log.warning(
            "LBAAS_AUTH_STRATEGY=noauth: X-Project-Id and X-Roles are trusted as sent; "
            "this is for development only and must never face real users"
        )

    def principal_for(self, request: Request) -> Principal | None:
        h = request.headers
        project = h.get("X-Project-Id") or h.get("X-Tenant-Id") or ""
        roles = tuple(r.strip() for r in (h.get("X-Roles") or "").split(",") if r.strip())
        return Principal(project, roles, user_id=h.get("X-User-Id") or "")

    async def principal(self, request: Request) -> Principal | None:
        return self.principal_for(request)


# ---------------------------------------------------------------------------- keystone


class KeystoneUnavailable(Exception):
    pass


class KeystoneAuthenticator:
    """Validates X-Auth-Token with Keystone v3 and caches the answer (TTL <= expiry)."""

    MAX_CACHED = 10000

    def __init__(self, settings: AuthSettings, clock: Callable[[], float] = time.time):
        from keystoneauth1 import session as ks_session
        from keystoneauth1 import token_endpoint
        from keystoneauth1.identity import v3

        if not settings.keystone_url:
            raise ValueError("LBAAS_AUTH_STRATEGY=keystone needs LBAAS_KEYSTONE_URL")
        base = settings.keystone_url.rstrip("/")
        base = base.removesuffix("/v3")
        self._validate_url = f"{base}/v3/auth/tokens"
        auth: Any = None
        if settings.keystone_admin_token:
            auth = token_endpoint.Token(f"{base}/v3", settings.keystone_admin_token)
        elif settings.keystone_username:
            auth = v3.Password(
                auth_url=f"{base}/v3",
                username=settings.keystone_username,
                password=settings.keystone_password,
                project_name=settings.keystone_project_name or None,
                user_domain_name=settings.keystone_user_domain_name,
                project_domain_name=settings.keystone_project_domain_name,
            )
        else:
            log.info("keystone: no service credentials; tokens validate themselves")
        self._session = ks_session.Session(auth=auth, timeout=settings.keystone_timeout)
        self._self_validate = auth is None
        self._ttl = settings.token_cache_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def principal(self, request: Request) -> Principal | None:
        """A cached answer on the event loop; a call to Keystone in the threadpool."""
        return self.cached_principal(request) or await run_in_threadpool(
            self.principal_for, request
        )

    def cached_principal(self, request: Request) -> Principal | None:
        """The caller if its token's answer is cached and unexpired, else None; never blocks."""
        token = request.headers.get(TOKEN_HEADER)
        if not token:
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
        return hit[0] if hit is not None and hit[1] > self._clock() else None

    def principal_for(self, request: Request) -> Principal | None:
        token = request.headers.get(TOKEN_HEADER)
        if not token:
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                if hit[1] > now:
                    return hit[0]
                del self._cache[key]
        try:
            found = self._validate(token)
        except KeystoneUnavailable as err:
            log.error("keystone token validation failed: %s", err)
            raise ApiFault(503, "The authentication service is unavailable; retry later.") from err
        if found is None:
            return None
        principal, expires = found
        until = min(now + self._ttl, expires)
        if until > now and self._ttl > 0:
            with self._lock:
                self._cache[key] = (principal, until)
                while len(self._cache) > self.MAX_CACHED:
                    self._cache.popitem(last=False)
        return principal

    def _validate(self, token: str) -> tuple[Principal, float] | None:
        from keystoneauth1 import exceptions as ks_exc

        headers = {"X-Subject-Token": token, "Accept": "application/json"}
        if self._self_validate:
            headers[TOKEN_HEADER] = token
        try:
            resp = self._session.get(
                self._validate_url,
                headers=headers,
                authenticated=not self._self_validate,
                raise_exc=False,
            )
        except ks_exc.ClientException as err:
            raise KeystoneUnavailable(str(err)) from err
        if resp.status_code == 404 or (resp.status_code == 401 and self._self_validate):
            return None
        if resp.status_code != 200:
            raise KeystoneUnavailable(f"GET /v3/auth/tokens answered {resp.status_code}")
        try:
            return _principal_from_token(resp.json()["token"], self._clock())
        except (KeyError, TypeError, ValueError) as err:
            raise KeystoneUnavailable(f"unreadable token body: {err}") from err


def _principal_from_token(body: dict[str, Any], now: float) -> tuple[Principal, float] | None:
    expires_at = body.get("expires_at")
    expires = (
        dt.datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
        if expires_at
        else float("inf")
    )
    if expires <= now:
        return None
    system = body.get("system") or {}
    principal = Principal(
        project_id=str((body.get("project") or {}).get("id") or ""),
        roles=tuple(str(r["name"]) for r in body.get("roles") or ()),
        user_id=str((body.get("user") or {}).get("id") or ""),
        system_scope="all" if system.get("all") else "",
    )
    return principal, expires


# ---------------------------------------------------------------------------- wiring


def make_authenticator(settings: AuthSettings, tokens: TokenStore) -> Authenticator:
    if settings.strategy == "keystone":
        return KeystoneAuthenticator(settings)
    if settings.strategy == "noauth":
        return NoAuth()
    return tokens


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller (or 401), allowed by policy for this route (or 403).

    Runs on the event loop (a sync dependency costs a threadpool round trip per request); each
    authenticator sends to the threadpool only what may block.
    """
    state = request.app.state
    authenticator = getattr(state, "authenticator", None) or state.tokens
    principal = await authenticator.principal(request)
    if principal is None:
        raise ApiFault(401, UNAUTHENTICATED)
    engine = getattr(state, "policy", None)
    if engine is None:
        return principal
    return engine.authorize_request(request, principal)


# Route parameter type: the authenticated, authorized caller.
Caller = Annotated[Principal, Depends(authenticate)]
