"""Octavia's list query features on an in-memory list of JSON views.

Every list route calls `apply_list_query(request, items, "loadbalancers")` with the
objects the caller may see (already scoped to a project by the orchestrator) and gets
back `{"loadbalancers": [...], "loadbalancers_links": [...]}`.

Behaviour follows octavia/api/common/pagination.py:

* equality filters on any top-level attribute of the view (`?name=a&name=b` = any of);
  booleans as `true`/`false`; `<x>_id` also matches a `<x>s: [{"id": ...}]` list
  (`loadbalancer_id` on listeners/pools); a parameter that names no attribute is a 400
  ("One or more arguments are either duplicate or invalid"), as Octavia does with
  `enforce_valid_params`.
* `tags`, `tags-any`, `not-tags`, `not-tags-any` (comma separated and/or repeated).
* `sort=k1:asc,k2` or `sort_key=k1,k2&sort_dir=asc,desc`; default direction asc;
  `created_at` and `id` are appended as tie breakers; a bad key or direction is a 400.
* `limit` (absent = the maximum page size, capped at it; `infinite` or < 1 = no limit;
  not an integer = 400), `marker` (id of an object; unknown = 400 like Octavia's
  InvalidMarker), `page_reverse=True` (the page just before the marker).
* `<collection>_links`, with Octavia's relations: `next` when the page is full (limit
  reached), `previous` whenever a marker was given (page_reverse pages too); hrefs are full
  URLs keeping the query.
* `fields=a,b` (or repeated) keeps only the named attributes (Octavia does not force id).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from services.api_gateway.faults import BadRequest

try:  # optional: several times faster than json for a page of a thousand objects
    import orjson
except ImportError:  # pragma: no cover - the stdlib encoder then
    orjson = None  # type: ignore[assignment]

ASC, DESC = "asc", "desc"
DEFAULT_SORT_DIR = ASC
DEFAULT_SORT_KEYS = ("created_at", "id")
TAG_PARAMS = ("tags", "tags-any", "not-tags", "not-tags-any")
# Query parameters that are never equality filters.
AUXILIARY = frozenset(
    ("limit", "marker", "page_reverse", "sort", "sort_key", "sort_dir", "fields", *TAG_PARAMS)
)


def _max_limit_from_env() -> int | None:
    raw = os.environ.get("LBAAS_PAGINATION_MAX_LIMIT", "1000").strip().lower()
    if raw == "infinite":
        return None
    return int(raw)


# Octavia's [api_settings] pagination_max_limit (default 1000; "infinite" = no cap).
PAGINATION_MAX_LIMIT: int | None = _max_limit_from_env()


@dataclass(frozen=True)
class ListQuery:
    """The parsed, validated query of one list request."""

    filters: dict[str, list[str]]
    tags: dict[str, list[str]]
    sort: list[tuple[str, str]]
    limit: int | None
    marker: str | None
    page_reverse: bool
    fields: list[str] | None


# ---------------------------------------------------------------------------- parsing


def parse_limit(raw: str | None, max_limit: int | None = PAGINATION_MAX_LIMIT) -> int | None:
    if raw is None:
        return max_limit
    text = raw.strip()
    if text.lower() == "infinite":
        return None
    try:
        value = int(text)
    except ValueError as err:
        raise BadRequest(f"Supplied pagination limit '{raw}' is not valid.") from err
    if value < 1:
        return None
    return value if max_limit is None else min(value, max_limit)


def _sort_dir(raw: str) -> str:
    value = raw.strip().lower()
    if value not in (ASC, DESC):
        raise BadRequest(f"Supplied sort direction '{raw}' is not valid.")
    return value


def parse_sort(params: Mapping[str, str]) -> list[tuple[str, str]]:
    """`sort=k:dir,k2` wins over `sort_key=k,k2&sort_dir=d,d2` (missing dirs = asc)."""
    out: list[tuple[str, str]] = []
    sort = params.get("sort")
    sort_keys = params.get("sort_key")
    if sort:
        for part in sort.split(","):
            comps = part.split(":")
            if len(comps) == 1:
                out.append((comps[0].strip(), DEFAULT_SORT_DIR))
            elif len(comps) == 2:
                out.append((comps[0].strip(), _sort_dir(comps[1])))
            else:
                raise BadRequest(f"Supplied sort key '{part}' is not valid.")
    elif sort_keys:
        keys = [k.strip() for k in sort_keys.split(",")]
        raw_dirs = params.get("sort_dir")
        dirs = raw_dirs.split(",") if raw_dirs else []
        dirs += [DEFAULT_SORT_DIR] * (len(keys) - len(dirs))
        out = [(k, _sort_dir(d)) for k, d in zip(keys, dirs, strict=False)]
    for key, _ in out:
        if not key:
            raise BadRequest("Supplied sort key '' is not valid.")
    return out


def _split_all(values: Iterable[str]) -> list[str]:
    return [v for v in itertools.chain.from_iterable(x.split(",") for x in values) if v != ""]


def parse_query(
    request_params: Any,
    ignore: Iterable[str] = (),
    max_limit: int | None = PAGINATION_MAX_LIMIT,
) -> ListQuery:
    """`request_params` is a Starlette QueryParams (or any multi-dict with getlist)."""
    skip = AUXILIARY | frozenset(ignore)
    filters: dict[str, list[str]] = {}
    for key in dict.fromkeys(request_params.keys()):
        if key not in skip:
            filters[key] = request_params.getlist(key)
    tags = {k: _split_all(request_params.getlist(k)) for k in TAG_PARAMS if k in request_params}
    fields_raw = request_params.getlist("fields")
    fields = _split_all(fields_raw) if fields_raw else None
    page_reverse = str(request_params.get("page_reverse", "False")).strip().lower() == "true"
    return ListQuery(
        filters=filters,
        tags=tags,
        sort=parse_sort(request_params),
        limit=parse_limit(request_params.get("limit"), max_limit),
        marker=request_params.get("marker") or None,
        page_reverse=page_reverse,
        fields=fields,
    )


# ---------------------------------------------------------------------------- filtering

_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


def _scalar_matches(value: Any, wanted: Sequence[str]) -> bool:
    if isinstance(value, bool):
        for w in wanted:
            low = w.strip().lower()
            if (value and low in _TRUE) or (not value and low in _FALSE):
                return True
        return False
    if value is None:
        return False
    if isinstance(value, dict):
        return "id" in value and str(value["id"]) in wanted
    return str(value) in wanted


def _value_matches(value: Any, wanted: Sequence[str]) -> bool:
    if isinstance(value, list):
        return any(_scalar_matches(v, wanted) for v in value)
    return _scalar_matches(value, wanted)


def _resolve_filter_key(key: str, attributes: set[str]) -> str | None:
    """The attribute a filter names: itself, or `<x>s` (a list of {id}) for `<x>_id`."""
    if key in attributes:
        return key
    if key.endswith("_id") and f"{key[:-3]}s" in attributes:
        return f"{key[:-3]}s"
    return None


def _apply_filters(
    items: list[dict[str, Any]], filters: Mapping[str, list[str]], attributes: set[str] | None
) -> list[dict[str, Any]]:
    for key, wanted in filters.items():
        if attributes is None:
            # No object and no declared attributes: nothing to validate against or match.
            return []
        attr = _resolve_filter_key(key, attributes)
        if attr is None:
            raise BadRequest("One or more arguments are either duplicate or invalid")
        items = [i for i in items if attr in i and _value_matches(i[attr], wanted)]
    return items


def _apply_tags(items: list[dict[str, Any]], tags: Mapping[str, list[str]]) -> list[dict]:
    def keep(item: dict[str, Any]) -> bool:
        have = set(item.get("tags") or ())
        if "tags" in tags and not set(tags["tags"]) <= have:
            return False
        if "tags-any" in tags and not have & set(tags["tags-any"]):
            return False
        if "not-tags" in tags and tags["not-tags"] and set(tags["not-tags"]) <= have:
            return False
        return not ("not-tags-any" in tags and have & set(tags["not-tags-any"]))

    return [i for i in items if keep(i)] if tags else items


# ---------------------------------------------------------------------------- sorting


def _sortable(value: Any) -> tuple:
    # None first (as NULL does in ascending SQL order), then comparable values by type.
    if type(value) is str:  # the usual sort keys (created_at, id): tested first
        return (1, 2, value)
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        return (1, 0, int(value))
    if isinstance(value, int | float):
        return (1, 1, value)
    if isinstance(value, str):
        return (1, 2, value)
    return (1, 3, json.dumps(value, sort_keys=True, default=str))


def _comparator(sort: Sequence[tuple[str, str]]):  # type: ignore[no-untyped-def]
    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for key, direction in sort:
            va, vb = _sortable(a.get(key)), _sortable(b.get(key))
            if va != vb:
                result = -1 if va < vb else 1
                return -result if direction == DESC else result
        return 0

    return compare


def _sorted(items: list[dict[str, Any]], sort: Sequence[tuple[str, str]]) -> list[dict]:
    """sorted(items, key=cmp_to_key(_comparator(sort))) with key functions: one key per item
    instead of a comparator call per comparison. Keys sharing a direction sort together; runs
    of other directions are applied as successive stable sorts, least significant first, which
    orders exactly as the comparator does. Input already in order (the orchestrator returns
    the default order) costs a linear pass."""
    if not sort:
        return list(items)
    groups: list[tuple[list[str], str]] = []
    for key, direction in sort:
        if groups and groups[-1][1] == direction:
            groups[-1][0].append(key)
        else:
            groups.append(([key], direction))
    ordered = list(items)
    for keys, direction in reversed(groups):
        if len(keys) == 1:
            (k,) = keys
            ordered.sort(key=lambda i: _sortable(i.get(k)), reverse=direction == DESC)
        elif len(keys) == 2:  # the default tie breakers (created_at, id)
            k1, k2 = keys
            ordered.sort(
                key=lambda i: (_sortable(i.get(k1)), _sortable(i.get(k2))),
                reverse=direction == DESC,
            )
        else:
            ordered.sort(
                key=lambda i: tuple(_sortable(i.get(k)) for k in keys), reverse=direction == DESC
            )
    return ordered


def _full_sort(
    sort: list[tuple[str, str]], attributes: set[str] | None, id_key: str = "id"
) -> list[tuple[str, str]]:
    if attributes is not None:
        for key, _ in sort:
            if key not in attributes:
                raise BadRequest(f"Supplied sort key '{key}' is not valid.")
    keys = [k for k, _ in sort]
    out = list(sort)
    # Tie breakers, so that a marker positions a page unambiguously.
    for key in (*DEFAULT_SORT_KEYS, id_key):
        if key not in keys and (attributes is None or key in attributes):
            out.append((key, DEFAULT_SORT_DIR))
            keys.append(key)
    return out


# ---------------------------------------------------------------------------- links


def _href(request: Request, extra: list[tuple[str, str]], limit: int | None) -> str:
    kept: list[tuple[str, str]] = []
    for key, value in request.query_params.multi_items():
        if key in ("marker", "page_reverse", "limit"):
            continue
        kept.append((key, value))
    params = ([("limit", str(limit))] if limit is not None else []) + kept + extra
    base = str(request.url.replace(query=""))
    return f"{base.rstrip('?')}?{urlencode(params)}"


# ---------------------------------------------------------------------------- entry points


def _id_key(items: list[dict[str, Any]], id_key: str | None) -> str:
    if id_key:
        return id_key
    for candidate in ("id", "project_id", "name"):
        if any(candidate in i for i in items):
            return candidate
    return "id"


def select_fields(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields:
        return obj
    keep = set(fields)
    return {k: v for k, v in obj.items() if k in keep}


def apply_list_query(
    request: Request,
    items: list[dict[str, Any]],
    collection: str,
    *,
    ignore: Iterable[str] = (),
    attributes: Iterable[str] | None = None,
    id_key: str | None = None,
    max_limit: int | None = PAGINATION_MAX_LIMIT,
) -> dict[str, Any]:
    """Filters, sorts, pages and projects `items` (JSON views) as Octavia's list APIs do.

    `ignore`: query parameters the route already applied itself (e.g. passed to the
    orchestrator) and that are not attributes of the view.
    `attributes`: the view's attribute names; by default the keys of the objects (with no
    objects, filters then match nothing and sort keys are not validated).
    `id_key`: the attribute `marker` refers to (default `id`, else `project_id`/`name`).
    """
    query = parse_query(request.query_params, ignore, max_limit)
    attrs: set[str] | None
    if attributes is not None:
        attrs = set(attributes)
    elif items:
        attrs = set().union(*(i.keys() for i in items))
    else:
        attrs = None
    key = _id_key(items, id_key)
    sort = _full_sort(query.sort, attrs, key)
    compare = _comparator(sort)

    marker_obj: dict[str, Any] | None = None
    if query.marker is not None:
        marker_obj = next((i for i in items if str(i.get(key)) == query.marker), None)
        if marker_obj is None:
            raise BadRequest(f"Supplied pagination marker '{query.marker}' is not valid.")

    selected = _apply_tags(_apply_filters(items, query.filters, attrs), query.tags)
    ordered = _sorted(selected, sort)

    limit = query.limit
    if marker_obj is None:
        start, stop = 0, len(ordered) if limit is None else min(limit, len(ordered))
    elif query.page_reverse:
        stop = sum(1 for i in ordered if compare(i, marker_obj) < 0)
        start = 0 if limit is None else max(0, stop - limit)
    else:
        start = sum(1 for i in ordered if compare(i, marker_obj) <= 0)
        stop = len(ordered) if limit is None else min(len(ordered), start + limit)
    page = ordered[start:stop]

    # Octavia's relations, page_reverse pages included: `previous` whenever a marker was given,
    # `next` whenever the page is full (so a full last page has a `next` to an empty one).
    links: list[dict[str, str]] = []
    if page:
        if marker_obj is not None:
            extra = [("marker", str(page[0].get(key))), ("page_reverse", "True")]
            links.append({"rel": "previous", "href": _href(request, extra, limit)})
        if limit is not None and len(page) >= limit:
            extra = [("marker", str(page[-1].get(key)))]
            links.append({"rel": "next", "href": _href(request, extra, limit)})

    return {
        collection: [select_fields(i, query.fields) for i in page],
        f"{collection}_links": links,
    }


def apply_show_query(request: Request, obj: dict[str, Any]) -> dict[str, Any]:
    """`fields=` on a GET of one object (Octavia accepts it there too)."""
    fields = request.query_params.getlist("fields")
    return select_fields(obj, _split_all(fields) if fields else None)


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    """What JSONResponse(body) sends (compact UTF-8 JSON), encoded with orjson when present."""
    if orjson is not None:
        try:
            content = orjson.dumps(body)
        except TypeError:  # e.g. an integer beyond 64 bits: let the stdlib encoder decide
            pass
        else:
            return Response(content, status_code=status, media_type="application/json")
    return JSONResponse(body, status_code=status)
