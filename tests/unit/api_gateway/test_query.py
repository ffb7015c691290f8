"""apply_list_query: Octavia's filters, tags, sorting, paging, links and fields (pure)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.requests import Request

from services.api_gateway.faults import BadRequest
from services.api_gateway.query import (
    apply_list_query,
    apply_show_query,
    parse_limit,
    parse_sort,
)


def req(query: str = "", path: str = "/v2/lbaas/loadbalancers") -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("lb.example", 9999),
        "path": path,
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"lb.example:9999")],
    }
    return Request(scope)


def obj(i: int, **kw) -> dict:
    base = {
        "id": f"id-{i:02d}",
        "name": f"lb{i}",
        "project_id": "p1",
        "admin_state_up": True,
        "created_at": f"2024-01-01T00:00:{i:02d}",
        "tags": [],
        "listeners": [],
        "vip_port_id": None,
        "connection_limit": -1,
    }
    return {**base, **kw}


ITEMS = [obj(i) for i in range(1, 8)]


def ids(out: dict, coll: str = "loadbalancers") -> list[str]:
    return [x["id"] for x in out[coll]]


def run(query: str, items=None, **kw) -> dict:
    return apply_list_query(req(query), ITEMS if items is None else items, "loadbalancers", **kw)


def link(out: dict, rel: str) -> dict[str, str] | None:
    for entry in out["loadbalancers_links"]:
        if entry["rel"] == rel:
            return dict(parse_qsl(urlsplit(entry["href"]).query))
    return None


def test_shape_and_default_order_is_created_at_then_id_ascending():
    items = [obj(3), obj(1), obj(2)]
    out = run("", items)
    assert set(out) == {"loadbalancers", "loadbalancers_links"}
    assert ids(out) == ["id-01", "id-02", "id-03"]
    assert out["loadbalancers_links"] == []


def test_empty_list():
    assert run("", []) == {"loadbalancers": [], "loadbalancers_links": []}
    assert run("name=x&sort=name:desc", []) == {"loadbalancers": [], "loadbalancers_links": []}


# ------------------------------------------------------------------ filters


def test_equality_filter_and_repeated_is_any_of():
    assert ids(run("name=lb2")) == ["id-02"]
    assert ids(run("name=lb2&name=lb5")) == ["id-02", "id-05"]
    assert ids(run("name=nope")) == []


def test_filters_combine_with_and():
    items = [obj(1, name="a"), obj(2, name="a", project_id="p2"), obj(3, name="b")]
    assert ids(run("name=a&project_id=p2", items)) == ["id-02"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", ["id-01"]), ("True", ["id-01"]), ("false", ["id-02"]), ("FALSE", ["id-02"])],
)
def test_boolean_filter(value, expected):
    items = [obj(1), obj(2, admin_state_up=False)]
    assert ids(run(f"admin_state_up={value}", items)) == expected


def test_integer_filter_compares_as_string():
    items = [obj(1, connection_limit=5), obj(2)]
    assert ids(run("connection_limit=5", items)) == ["id-01"]
    assert ids(run("connection_limit=-1", items)) == ["id-02"]


def test_null_attribute_never_matches():
    items = [obj(1, vip_port_id="port"), obj(2)]
    assert ids(run("vip_port_id=port", items)) == ["id-01"]
    assert ids(run("vip_port_id=None", items)) == []


def test_x_id_filter_matches_list_of_refs():
    items = [obj(1, listeners=[{"id": "L1"}]), obj(2, listeners=[{"id": "L2"}, {"id": "L3"}])]
    assert ids(run("listener_id=L3", items)) == ["id-02"]
    assert ids(run("listeners=L1", items)) == ["id-01"]


def test_unknown_filter_is_400_like_octavia():
    with pytest.raises(BadRequest) as err:
        run("colour=red")
    assert err.value.status == 400
    assert "duplicate or invalid" in err.value.faultstring


def test_ignored_params_are_not_filters():
    assert ids(run("cascade=true&name=lb1", ignore=("cascade",))) == ["id-01"]


def test_declared_attributes_validate_even_with_no_items():
    with pytest.raises(BadRequest):
        run("colour=red", [], attributes=("id", "name"))
    with pytest.raises(BadRequest):
        run("sort=colour", [], attributes=("id", "name"))
    assert run("name=x", [], attributes=("id", "name"))["loadbalancers"] == []


# ------------------------------------------------------------------ tags

TAGGED = [
    obj(1, tags=["a", "b"]),
    obj(2, tags=["a"]),
    obj(3, tags=["b", "c"]),
    obj(4, tags=[]),
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tags=a", ["id-01", "id-02"]),
        ("tags=a,b", ["id-01"]),
        ("tags=a&tags=b", ["id-01"]),
        ("tags-any=a,c", ["id-01", "id-02", "id-03"]),
        ("tags-any=a&tags-any=c", ["id-01", "id-02", "id-03"]),
        ("not-tags=a,b", ["id-02", "id-03", "id-04"]),
        ("not-tags=a", ["id-03", "id-04"]),
        ("not-tags-any=a,c", ["id-04"]),
        ("tags=b&not-tags-any=c", ["id-01"]),
    ],
)
def test_tag_filters(query, expected):
    assert ids(run(query, TAGGED)) == expected


# ------------------------------------------------------------------ sorting


def test_sort_param_multiple_keys_and_directions():
    items = [obj(1, name="b"), obj(2, name="a"), obj(3, name="b"), obj(4, name="a")]
    assert ids(run("sort=name:asc,created_at:desc", items)) == ["id-04", "id-02", "id-03", "id-01"]
    assert ids(run("sort=name:desc", items)) == ["id-01", "id-03", "id-02", "id-04"]
    # key without a direction uses the default (asc); id breaks ties
    assert ids(run("sort=name", items)) == ["id-02", "id-04", "id-01", "id-03"]


def test_sort_key_and_sort_dir():
    items = [obj(1, name="b"), obj(2, name="a"), obj(3, name="c")]
    assert ids(run("sort_key=name&sort_dir=desc", items)) == ["id-03", "id-01", "id-02"]
    assert ids(run("sort_key=name,id&sort_dir=asc", items)) == ["id-02", "id-01", "id-03"]
    assert ids(run("sort_key=name", items)) == ["id-02", "id-01", "id-03"]


def test_sort_none_first_and_direction_case_insensitive():
    items = [obj(1, vip_port_id="b"), obj(2), obj(3, vip_port_id="a")]
    assert ids(run("sort=vip_port_id:ASC", items)) == ["id-02", "id-03", "id-01"]
    assert ids(run("sort=vip_port_id:desc", items)) == ["id-01", "id-03", "id-02"]


def test_sort_booleans():
    items = [obj(1), obj(2, admin_state_up=False)]
    assert ids(run("sort=admin_state_up", items)) == ["id-02", "id-01"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=name:up", "Supplied sort direction 'up' is not valid."),
        ("sort_key=name&sort_dir=sideways", "Supplied sort direction 'sideways' is not valid."),
        ("sort=colour:asc", "Supplied sort key 'colour' is not valid."),
        ("sort_key=colour", "Supplied sort key 'colour' is not valid."),
        ("sort=name:asc:x", "Supplied sort key 'name:asc:x' is not valid."),
    ],
)
def test_invalid_sort_is_400_naming_it(query, message):
    with pytest.raises(BadRequest) as err:
        run(query)
    assert err.value.faultstring == message


def test_parse_sort_prefers_sort_over_sort_key():
    assert parse_sort({"sort": "a:desc", "sort_key": "b"}) == [("a", "desc")]
    assert parse_sort({"sort_key": "a,b", "sort_dir": "desc"}) == [("a", "desc"), ("b", "asc")]
    assert parse_sort({}) == []


# ------------------------------------------------------------------ limit / marker / links


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 1000), ("5", 5), ("5000", 1000), ("0", None), ("-3", None), ("infinite", None)],
)
def test_parse_limit(raw, expected):
    assert parse_limit(raw, 1000) == expected


def test_parse_limit_without_a_maximum():
    assert parse_limit(None, None) is None
    assert parse_limit("5000", None) == 5000


@pytest.mark.parametrize("raw", ["abc", "1.5", ""])
def test_invalid_limit_is_400(raw):
    with pytest.raises(BadRequest) as err:
        run(f"limit={raw}")
    assert err.value.faultstring == f"Supplied pagination limit '{raw}' is not valid."


def test_limit_capped_at_max():
    out = run("limit=50", max_limit=3)
    assert ids(out) == ["id-01", "id-02", "id-03"]
    assert link(out, "next") == {"limit": "3", "marker": "id-03"}


def test_default_page_is_the_max_limit():
    out = run("", max_limit=2)
    assert ids(out) == ["id-01", "id-02"]
    assert link(out, "next")["marker"] == "id-02"


def test_first_page_has_next_but_no_previous():
    out = run("limit=3")
    assert ids(out) == ["id-01", "id-02", "id-03"]
    assert link(out, "previous") is None
    assert link(out, "next") == {"limit": "3", "marker": "id-03"}
    href = out["loadbalancers_links"][0]["href"]
    assert href.startswith("http://lb.example:9999/v2/lbaas/loadbalancers?")


def test_middle_page_has_both_links():
    out = run("limit=2&marker=id-03")
    assert ids(out) == ["id-04", "id-05"]
    assert link(out, "previous") == {"limit": "2", "marker": "id-04", "page_reverse": "True"}
    assert link(out, "next") == {"limit": "2", "marker": "id-05"}


def test_last_page_has_no_next():
    out = run("limit=3&marker=id-05")
    assert ids(out) == ["id-06", "id-07"]
    assert link(out, "next") is None
    assert link(out, "previous")["marker"] == "id-06"


def test_page_reverse_returns_page_before_marker_in_normal_order():
    out = run("limit=2&marker=id-05&page_reverse=True")
    assert ids(out) == ["id-03", "id-04"]
    assert link(out, "previous") == {"limit": "2", "marker": "id-03", "page_reverse": "True"}
    assert link(out, "next") == {"limit": "2", "marker": "id-04"}
    # Octavia's relations on a short reverse page: `previous` (a marker was given), no `next`.
    first = run("limit=5&marker=id-03&page_reverse=true")
    assert ids(first) == ["id-01", "id-02"]
    assert link(first, "previous") == {"limit": "5", "marker": "id-01", "page_reverse": "True"}
    assert link(first, "next") is None


def test_a_full_last_page_has_next_as_octavia():
    out = run("limit=2&marker=id-05")
    assert ids(out) == ["id-06", "id-07"]
    assert link(out, "next") == {"limit": "2", "marker": "id-07"}
    assert ids(run("limit=2&marker=id-07")) == []


def test_following_next_links_visits_everything_once():
    seen, query = [], "limit=3&sort=name:desc"
    for _ in range(10):
        out = run(query)
        seen += ids(out)
        nxt = [x for x in out["loadbalancers_links"] if x["rel"] == "next"]
        if not nxt:
            break
        query = urlsplit(nxt[0]["href"]).query
    assert seen == [f"id-{i:02d}" for i in range(7, 0, -1)]


def test_links_keep_filters_sort_and_fields():
    out = run("name=lb1&name=lb2&name=lb3&sort=name:desc&fields=id&limit=1")
    href = out["loadbalancers_links"][0]["href"]
    pairs = parse_qsl(urlsplit(href).query)
    assert ("name", "lb1") in pairs and ("name", "lb3") in pairs
    assert ("sort", "name:desc") in pairs and ("fields", "id") in pairs
    assert ("marker", "id-03") in pairs


def test_marker_with_sort_desc():
    out = run("sort=created_at:desc&limit=2&marker=id-05")
    assert ids(out) == ["id-04", "id-03"]


def test_marker_filtered_out_still_positions_the_page():
    out = run("name=lb6&name=lb7&name=lb1&marker=id-02")
    assert ids(out) == ["id-06", "id-07"]


def test_unknown_marker_is_400():
    with pytest.raises(BadRequest) as err:
        run("marker=nope")
    assert err.value.faultstring == "Supplied pagination marker 'nope' is not valid."


def test_unlimited_has_no_next_link():
    out = run("limit=0")
    assert len(out["loadbalancers"]) == 7 and out["loadbalancers_links"] == []


def test_marker_on_project_id_keyed_collections():
    quotas = [{"project_id": f"p{i}", "load_balancer": i} for i in range(4)]
    out = apply_list_query(req("limit=2&marker=p0", "/v2/lbaas/quotas"), quotas, "quotas")
    assert [q["project_id"] for q in out["quotas"]] == ["p1", "p2"]
    assert "marker=p2" in out["quotas_links"][-1]["href"]


# ------------------------------------------------------------------ fields


def test_fields_comma_and_repeated_no_forced_id():
    out = run("fields=name,project_id&limit=1")
    assert out["loadbalancers"] == [{"name": "lb1", "project_id": "p1"}]
    out = run("fields=name&fields=id&limit=1")
    assert out["loadbalancers"] == [{"id": "id-01", "name": "lb1"}]
    # links still use ids although id was not selected
    assert link(run("fields=name&limit=1"), "next")["marker"] == "id-01"


def test_fields_unknown_names_ignored():
    assert run("fields=nope&limit=1")["loadbalancers"] == [{}]


def test_show_fields():
    assert apply_show_query(req("fields=id,name"), obj(1)) == {"id": "id-01", "name": "lb1"}
    assert apply_show_query(req(""), obj(1)) == obj(1)


def test_input_not_mutated():
    items = [obj(2), obj(1)]
    snapshot = [dict(i) for i in items]
    run("fields=id&sort=name:desc", items)
    assert items == snapshot
