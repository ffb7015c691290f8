"""One owner per rule (issue 15): Octavia's option lists live in the orchestrator's domain/, and
the gateway's request schemas repeat none of them. The gateway checks a request's shape; the
orchestrator refuses a value outside a list with a 400 naming the field
(tests/compat/test_option_lists.py shows that through the real services).

This walks every request model of services/api_gateway/schemas (their JSON schemas: an `enum` is
an option list) and every module-level constant there (a collection of two or more strings that
all belong to one domain option list is a copy of it).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import services.api_gateway.schemas as gateway_schemas
from services.orchestrator.domain import certificates as domain_certificates
from services.orchestrator.domain import rules

# Functions of the gateway schemas that refuse a request for more than a missing field: each is
# about the request's own shape (which of several ways to name a thing was used, how a
# single-call create names its pools), not a rule of Octavia's on the object it makes. The test
# fails on any other, so a cross-field rule cannot come back into the gateway.
SHAPE_CHECKS = {
    "body.parse_body": "the root element must be an object",
    "body.parse_list_body": "a batch must be a list of objects",
    "loadbalancer.LoadBalancerCreate._vip_required": "one of the VIP's three names is required",
    "loadbalancer._Graph.build": "a single-call create names pools it defines",
    "loadbalancer._Graph._add_pool": "pool names are unique within one request",
    "loadbalancer._Graph._pool_ref": "a pool defined inline needs a name to be referred to",
    "loadbalancer._Graph._listener": "default_pool_id and default_pool name the same thing",
    "loadbalancer._Graph._policy": "where a nested policy's error is reported",
    "pool.PoolCreate._mandatory": "one of listener_id and loadbalancer_id is required",
    "quota.QuotaUpdate._aliases_agree": "a quota and its alias in one request agree",
}


# Cross-field rules still applied by the gateway (function -> the domain rule that owns it).
def _refuses(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = getattr(node.exc.func, "id", "")
            if name in ("FieldError", "invalid_field") and (
                "Mandatory field missing" not in ast.unparse(node.exc)
            ):
                return True
    return False


def _functions(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.AST]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}{child.name}", child


def refusing_functions() -> set[str]:
    """module.[Class.]function for every function of the schemas that raises FieldError or
    invalid_field with a message other than Mandatory field missing."""
    found = set()
    for path in sorted(Path(gateway_schemas.__path__[0]).glob("*.py")):
        for name, function in _functions(ast.parse(path.read_text()), ""):
            if _refuses(function):
                found.add(f"{path.stem}.{name}")
    return found


def test_the_gateway_applies_no_cross_field_rule():
    found = refusing_functions()
    known = set(SHAPE_CHECKS)
    assert sorted(found - known) == [], "a rule belongs in services/orchestrator/domain/"
    assert sorted(known - found) == [], "gone: take it off the list"


def domain_option_lists() -> dict[str, frozenset[str]]:
    lists = {}
    for module in (rules, domain_certificates):
        for name, value in vars(module).items():
            public = name.isupper() and not name.startswith("_")
            if public and isinstance(value, tuple) and len(value) >= 2:
                strings = frozenset(v for v in value if isinstance(v, str) and v)
                if len(strings) >= 2:
                    lists[f"{module.__name__.rsplit('.', 1)[-1]}.{name}"] = strings
    return lists


def schema_modules() -> Iterator[Any]:
    for info in pkgutil.iter_modules(gateway_schemas.__path__):
        yield importlib.import_module(f"{gateway_schemas.__name__}.{info.name}")


def request_models() -> Iterator[type[BaseModel]]:
    for module in schema_modules():
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == module.__name__:
                yield value


def enums_in(schema: Any) -> Iterator[list]:
    if isinstance(schema, dict):
        if isinstance(schema.get("enum"), list):
            yield schema["enum"]
        for value in schema.values():
            yield from enums_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from enums_in(value)


def string_collections(module: Any) -> Iterator[tuple[str, frozenset[str]]]:
    for name, value in vars(module).items():
        if name.startswith("__") or not isinstance(value, tuple | list | set | frozenset | dict):
            continue
        items = value.keys() if isinstance(value, dict) else value
        strings = frozenset(v for v in items if isinstance(v, str))
        if len(strings) >= 2:
            yield f"{module.__name__.rsplit('.', 1)[-1]}.{name}", strings


def copies(owned: dict[str, frozenset[str]], strings: frozenset[str]) -> list[str]:
    return sorted(name for name, options in owned.items() if strings <= options)


def test_the_domain_lists_are_found():
    owned = domain_option_lists()
    assert owned["rules.LISTENER_PROTOCOLS"] >= {"HTTP", "TERMINATED_HTTPS"}
    assert "rules.HTTP_METHODS" in owned and "certificates.TYPES" in owned
    assert len(list(request_models())) > 20


def test_no_request_model_carries_an_option_list():
    owned = domain_option_lists()
    found = []
    for model in request_models():
        for enum in enums_in(model.model_json_schema()):
            strings = frozenset(v for v in enum if isinstance(v, str))
            if len(strings) >= 2 and copies(owned, strings):
                found.append(f"{model.__module__}.{model.__name__}: {sorted(strings)}")
    assert found == []


def test_no_schema_module_copies_a_domain_list():
    owned = domain_option_lists()
    found = {
        name: copies(owned, strings)
        for module in schema_modules()
        for name, strings in string_collections(module)
        if copies(owned, strings)
    }
    assert found == {}


@pytest.mark.parametrize(
    ("strings", "expected"),
    [
        (frozenset({"HTTP", "TCP"}), ["rules.LISTENER_PROTOCOLS", "rules.POOL_PROTOCOLS"]),
        (frozenset({"ROUND_ROBIN", "SOURCE_IP"}), ["rules.LB_ALGORITHMS"]),
        (frozenset({"HTTP", "nope"}), []),
    ],
)
def test_a_copy_is_recognised(strings, expected):
    assert [c for c in copies(domain_option_lists(), strings) if c in expected] == expected
    if not expected:
        assert copies(domain_option_lists(), strings) == []


def test_a_cross_field_rule_in_a_schema_is_seen():
    source = (
        "class M:\n"
        "    def _check(self):\n"
        "        if self.a and not self.b:\n"
        "            raise FieldError('b', None, 'b is required with a.')\n"
        "    def _mandatory(self):\n"
        "        raise FieldError('c', None, 'Mandatory field missing.')\n"
    )
    names = [name for name, fn in _functions(ast.parse(source), "") if _refuses(fn)]
    assert names == ["M._check"]
