"""A minimal, read-only Keystone v3 identity view of the projects the tokens file names.

The local stack has no Keystone: its clouds.yaml uses `auth_type: admin_token` with this gateway
as the `endpoint`, so the openstack CLI sends its identity look-ups here (python-octaviaclient's
`loadbalancer quota set|show|unset|reset <project>` resolves the project with
`GET <endpoint>/projects/<name or id>` and then `GET <endpoint>/projects?name=<name>`). Served at
the endpoint root and under /v3, in Keystone's response shapes, authenticated like every route.
An admin sees every project; anyone else sees their own project only (Keystone answers 403 to a
member reading another project, and lists only what the caller may see).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.api_gateway.auth import Caller, Principal, authenticate

router = APIRouter(tags=["identity"], dependencies=[Depends(authenticate)])

DEFAULT_DOMAIN = "default"
_ERROR_TITLES = {403: "Forbidden", 404: "Not Found"}
_DOCUMENTED = {
    401: {"description": "Authentication required."},
    403: {"description": "Keystone-shaped error: {error: {code, message, title}}"},
    404: {"description": "Keystone-shaped error: {error: {code, message, title}}"},
}


def _keystone_error(status: int, message: str) -> JSONResponse:
    body = {"error": {"code": status, "message": message, "title": _ERROR_TITLES[status]}}
    return JSONResponse(body, status_code=status)


def _base(request: Request, prefix: str) -> str:
    return str(request.base_url).rstrip("/") + prefix


def _project(project_id: str, name: str, base: str) -> dict[str, Any]:
    return {
        "id": project_id,
        "name": name,
        "domain_id": DEFAULT_DOMAIN,
        "description": "",
        "enabled": True,
        "parent_id": DEFAULT_DOMAIN,
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": {"self": f"{base}/projects/{project_id}"},
    }


def _visible(request: Request, who: Principal) -> dict[str, str]:
    projects = request.app.state.tokens.projects()
    if "admin" in who.roles:
        return projects
    return {pid: name for pid, name in projects.items() if pid == who.project_id}


_BOOLS = {"true": True, "1": True, "false": False, "0": False}


def _register(prefix: str) -> None:
    async def list_projects(request: Request, who: Caller) -> JSONResponse:
        base = _base(request, prefix)
        items = [_project(pid, name, base) for pid, name in _visible(request, who).items()]
        query = request.query_params
        for key in ("name", "id", "domain_id", "parent_id"):
            if key in query:
                items = [p for p in items if p[key] == query[key]]
        for key in ("enabled", "is_domain"):
            if key in query:
                wanted = _BOOLS.get(query[key].lower())
                items = [p for p in items if p[key] is wanted]
        items.sort(key=lambda p: p["name"])
        links = {"self": str(request.url), "previous": None, "next": None}
        return JSONResponse({"projects": items, "links": links})

    async def show_project(project_id: str, request: Request, who: Caller) -> JSONResponse:
        projects = request.app.state.tokens.projects()
        if project_id not in projects:
            return _keystone_error(404, f"Could not find project: {project_id}.")
        if project_id not in _visible(request, who):
            return _keystone_error(
                403, "You are not authorized to perform the requested action: identity:get_project."
            )
        base = _base(request, prefix)
        return JSONResponse({"project": _project(project_id, projects[project_id], base)})

    router.add_api_route(
        f"{prefix}/projects",
        list_projects,
        methods=["GET"],
        name=f"identity{prefix}-projects-list",
        responses={200: {"description": "Keystone v3 project list"}, 401: _DOCUMENTED[401]},
    )
    router.add_api_route(
        f"{prefix}/projects/{{project_id}}",
        show_project,
        methods=["GET"],
        name=f"identity{prefix}-projects-show",
        responses={200: {"description": "Keystone v3 project"}, **_DOCUMENTED},
    )


for _prefix in ("/v3", ""):
    _register(_prefix)
