"""Token authentication against the tokens file, and the orchestrator scope a caller gets."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from fastapi import Depends, Request
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.faults import ApiFault

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Auth-Token"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's project and roles."""

    project_id: str
    roles: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def scope(self) -> pb.Scope:
        if self.is_admin:
            return pb.Scope(all_projects=True)
        return pb.Scope(project_id=self.project_id)


class TokenStore:
    """Reads `tokens: {<token>: {project_id, roles}}`; re-reads when the file's mtime changes."""

    def __init__(self, path: Path):
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._tokens: dict[str, Principal] = {}

    def lookup(self, token: str) -> Principal | None:
        self._refresh()
        return self._tokens.get(token)

    def _refresh(self) -> None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            self._stamp, self._tokens = None, {}
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        with self._lock:
            try:
                data = yaml.safe_load(self._path.read_text()) or {}
                self._tokens = _parse(data)
            except (OSError, yaml.YAMLError, ValueError, TypeError) as err:
                # Keep the last good set: a half-written file must not lock everyone out.
                log.error("cannot read tokens file %s: %s", self._path, err)
                return
            self._stamp = stamp


def _parse(data: dict) -> dict[str, Principal]:
    tokens = data.get("tokens") or {}
    if not isinstance(tokens, dict):
        raise ValueError("'tokens' must be a mapping")
    out: dict[str, Principal] = {}
    for token, entry in tokens.items():
        entry = entry or {}
        roles = entry.get("roles") or []
        if isinstance(roles, str):
            roles = [roles]
        out[str(token)] = Principal(
            str(entry.get("project_id") or ""), tuple(str(r) for r in roles)
        )
    return out


def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller, or 401."""
    token = request.headers.get(TOKEN_HEADER)
    if not token:
        raise ApiFault(401, "The request you have made requires authentication.")
    principal = request.app.state.tokens.lookup(token)
    if principal is None:
        raise ApiFault(401, "The request you have made requires authentication.")
    return principal


# Route parameter type: the authenticated caller.
Caller = Annotated[Principal, Depends(authenticate)]
