"""The five routes every Octavia child resource has (create, list, show, update, delete), made
from a declaration of the resource; its module adds its own extra routes to the same router.

By convention a resource named `noun` (e.g. "L7Policy") has the RPCs `Create<noun>`,
`List<plural>`, `Get<noun>`, `Update<noun>`, `Delete<noun>`; the messages
`List<plural>Request`, `Get<noun>Request`, `Delete<noun>Request` (scope, id and the parent's id);
answers carrying `<noun>` / `<plural>` in lower case; and a schema module with `view`,
`create_request(*parent_id, body, who)`, `update_request(*parent_id, id, body, who)` and the
models `<noun>Create`, `<noun>Update`, `<noun>View`, `<noun>Root`, `<noun>List`,
`<noun>CreateRoot`, `<noun>UpdateRoot`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from lbaas.orchestrator.v1 import orchestrator_service_pb2 as pb

from services.api_gateway.auth import Caller
from services.api_gateway.routes.common import ERRORS, call, list_response, respond, show_response
from services.api_gateway.schemas.body import parse_body, request_body

Items = list[dict[str, Any]]


def single(request: Request, name: str) -> str:
    """The query parameter `name` if given exactly once, else "" (no filter)."""
    values = request.query_params.getlist(name)
    return values[0] if len(values) == 1 else ""


def query_filter(name: str) -> Callable[[Request], dict[str, str]]:
    """A list hook passing Octavia's `?<name>=` filter to the orchestrator (given once)."""
    return lambda request: {name: single(request, name)}


def _no_fields(request: Request) -> dict[str, str]:
    return {}


def _all(request: Request, items: Items) -> Items:
    return items


@dataclass(frozen=True)
class Resource:
    """What differs between the Octavia child resources."""

    prefix: str  # the collection's URL, e.g. "/lbaas/pools/{pool_id}/members"
    tag: str
    root: str  # the envelope of one object ("pool")
    collection: str  # the name of a list ("pools")
    schema: ModuleType
    noun: str  # RPCs, proto fields and model names ("Pool")
    id_param: str  # the path parameter naming one object ("pool_id")
    plural: str = ""  # default: noun + "s"
    parent: str = ""  # a path parameter of `prefix`: the parent's id, a field of every request
    create_responses: Mapping[int | str, dict[str, Any]] = field(default_factory=dict)
    # List hooks: extra fields of the List request, from the query; views kept of its answer;
    # query parameters they applied that are not attributes of the view.
    list_fields: Callable[[Request], dict[str, str]] = _no_fields
    list_narrow: Callable[[Request, Items], Items] = _all
    list_ignore: tuple[str, ...] = ()

    def model(self, suffix: str) -> Any:
        return getattr(self.schema, f"{self.noun}{suffix}")

    @property
    def many(self) -> str:
        return self.plural or f"{self.noun}s"

    @property
    def parents(self) -> tuple[str, ...]:
        return (self.parent,) if self.parent else ()

    def where(self, who: Caller, ids: Mapping[str, str]) -> dict[str, Any]:
        """The scope and the parent's id: the fields every Get, List and Delete starts with."""
        return {"scope": who.scope(), **{p: ids[p] for p in self.parents}}

    def view(self, resp: Any) -> dict[str, Any]:
        return self.schema.view(getattr(resp, self.noun.lower()))

    async def get(self, request: Request, who: Caller, **ids: str) -> dict[str, Any]:
        """The view of one object; `ids`: the path parameters (the parent's id, if any)."""
        req = getattr(pb, f"Get{self.noun}Request")(**self.where(who, ids), id=ids[self.id_param])
        return self.view(await call(request, f"Get{self.noun}", req))


def _signed(handler: Callable[..., Any], path: tuple[str, ...], returns: type) -> Any:
    """The handler, taking its path parameters by these names (what FastAPI reads)."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter(name, kind, annotation=str) for name in path]
    params += [
        inspect.Parameter("request", kind, annotation=Request),
        inspect.Parameter("who", kind, annotation=Caller),
    ]
    handler.__signature__ = inspect.Signature(params, return_annotation=returns)
    return handler


def crud_router(r: Resource) -> APIRouter:
    """A router at r.prefix with create, list, show, update and delete (in that order).

    Every name the convention derives is looked up here: a declaration that does not fit
    fails on import, not on a request."""
    s = r.schema
    parents = r.parents
    item = (*parents, r.id_param)
    create_model, update_model, view_model = (r.model(x) for x in ("Create", "Update", "View"))
    list_request = getattr(pb, f"List{r.many}Request")
    delete_request = getattr(pb, f"Delete{r.noun}Request")
    getattr(pb, f"Get{r.noun}Request")  # what Resource.get asks with
    many = r.many.lower()
    router = APIRouter(prefix=r.prefix, tags=[r.tag])

    # No docstrings on the handlers: they would become the operations' descriptions.
    async def create(request: Request, who: Caller, **ids: str) -> JSONResponse:
        body = await parse_body(request, create_model, r.root)
        req = s.create_request(*(ids[p] for p in parents), body, who)
        resp = await call(request, f"Create{r.noun}", req)
        return respond({r.root: r.view(resp)}, 201)

    async def list_(request: Request, who: Caller, **ids: str) -> Response:
        req = list_request(**r.where(who, ids), **r.list_fields(request))
        resp = await call(request, f"List{r.many}", req)
        items = r.list_narrow(request, [s.view(x) for x in getattr(resp, many)])
        return list_response(request, r.collection, items, view_model, ignore=r.list_ignore)

    async def show(request: Request, who: Caller, **ids: str) -> JSONResponse:
        return show_response(request, r.root, await r.get(request, who, **ids))

    async def update(request: Request, who: Caller, **ids: str) -> JSONResponse:
        body = await parse_body(request, update_model, r.root)
        req = s.update_request(*(ids[p] for p in item), body, who)
        resp = await call(request, f"Update{r.noun}", req)
        return respond({r.root: r.view(resp)})

    async def delete(request: Request, who: Caller, **ids: str) -> Response:
        req = delete_request(**r.where(who, ids), id=ids[r.id_param])
        await call(request, f"Delete{r.noun}", req)
        return Response(status_code=204)

    one = r.model("Root")
    router.post(
        "",
        status_code=201,
        response_model=one,
        responses={**ERRORS, **r.create_responses},
        openapi_extra=request_body(r.model("CreateRoot")),
    )(_signed(create, parents, JSONResponse))
    router.get("", response_model=r.model("List"), responses=ERRORS)(
        _signed(list_, parents, JSONResponse)
    )
    path = f"/{{{r.id_param}}}"
    router.get(path, response_model=one, responses=ERRORS)(_signed(show, item, JSONResponse))
    router.put(
        path,
        response_model=one,
        responses=ERRORS,
        openapi_extra=request_body(r.model("UpdateRoot")),
    )(_signed(update, item, JSONResponse))
    router.delete(path, status_code=204, response_class=Response, responses=ERRORS)(
        _signed(delete, item, Response)
    )
    return router
