"""The structure, read from the imports (issue 15): no import circle, no adapter importing a use
case, no service importing another, no test double in the product.

Every `import` and `from ... import` of services/ and amphora_agent/ counts, inside functions and
under TYPE_CHECKING too: an arrow drawn only for the type checker is still an arrow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("services", "amphora_agent")
# Loaded by name, not imported: the database migrations (Alembic reads them from their folder)
# and the entry points run as `python -m` (every `__main__`, and these).
LOADED_BY_NAME = ("services.common.healthcheck", "services.orchestrator.manage")
MIGRATIONS = ".adapters.db.migrations"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _product_modules() -> dict[str, Path]:
    found = {}
    for top in PRODUCT:
        for path in (ROOT / top).rglob("*.py"):
            if "generated" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imported_names(name: str, path: Path) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the product modules it imports (a `from pkg import mod` names mod)."""
    return {
        name: {m for m in _imported_names(name, path) if m in modules and m != name}
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def service_of(module: str) -> str | None:
    """services.<name>.… -> name (common is shared library code, not a service)."""
    parts = module.split(".")
    if parts[0] != "services" or len(parts) < 2 or parts[1] == "common":
        return None
    return parts[1]


def cross_service_imports(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, imported in graph.items():
        mine = service_of(module)
        for other in imported:
            theirs = service_of(other)
            if theirs is None:
                continue
            if mine != theirs:  # another service, or common / the agent importing a service
                out.append(f"{module} -> {other}")
    return sorted(out)


def adapter_to_service_layer(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} -> {other}"
        for module, imported in graph.items()
        if ".adapters." in f"{module}."
        for other in imported
        if ".service_layer" in other
    )


def unreached(graph: dict[str, set[str]]) -> list[str]:
    """Product modules that no entry point reaches through imports: code only tests call."""
    roots = [m for m in graph if m.endswith("__main__") or m in LOADED_BY_NAME]
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in graph]
        todo += graph[module]
    return sorted(
        m
        for m in graph
        if m not in seen and MIGRATIONS not in m and not m.endswith("__init__")
        and not (ROOT / m.replace(".", "/")).is_dir()
    )  # fmt: skip


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(_product_modules())


def test_the_graph_is_read(graph):
    """The reader itself: known arrows are found (so an empty answer below means something)."""
    assert "services.orchestrator.domain.ports" in graph["services.orchestrator.bootstrap"]
    assert "services.common.errors" in graph["services.api_gateway.app"] | set().union(
        *(graph[m] for m in graph if m.startswith("services.api_gateway."))
    )
    assert len(graph) > 200


def test_no_import_circle(graph):
    assert cycles(graph) == []


def test_no_adapter_imports_the_service_layer(graph):
    assert adapter_to_service_layer(graph) == []


def test_no_service_imports_another_service(graph):
    assert cross_service_imports(graph) == []


def test_no_test_double_in_the_product(graph):
    """Everything under services/ and amphora_agent/ is reached from an entry point; nothing
    is named as a fake."""
    assert unreached(graph) == []
    fakes = [m for m in graph if any(w in m.rsplit(".", 1)[-1] for w in ("memory_", "fake"))]
    assert fakes == []


def rows_in_handlers(modules: dict[str, Path]) -> list[str]:
    """Table row classes a handler imports (a handler speaks protos; rows stay below it)."""
    return sorted(
        f"{name} imports {alias.name}"
        for name, path in modules.items()
        if ".handlers." in f"{name}."
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and ".adapters.db" in f".{node.module}"
        for alias in node.names
        if alias.name.endswith("Row")
    )


def test_no_handler_imports_a_table_row():
    assert rows_in_handlers(_product_modules()) == []


# -- the checks can fail -------------------------------------------------------------------------


def test_the_checks_see_what_they_forbid():
    bad = {
        "services.orchestrator.adapters.x": {"services.orchestrator.service_layer.y"},
        "services.orchestrator.service_layer.y": {"services.orchestrator.adapters.x"},
        "services.health.z": {"services.renderer.w"},
        "services.renderer.w": set(),
        "services.common.c": {"services.health.z"},
        "services.health.__main__": {"services.health.z"},
    }
    assert cycles(bad) == [
        ["services.orchestrator.adapters.x", "services.orchestrator.service_layer.y"]
    ]
    assert adapter_to_service_layer(bad) == [
        "services.orchestrator.adapters.x -> services.orchestrator.service_layer.y"
    ]
    assert cross_service_imports(bad) == [
        "services.common.c -> services.health.z",
        "services.health.z -> services.renderer.w",
    ]
    assert "services.common.c" in unreached(bad)


def test_a_handler_importing_a_row_is_seen(tmp_path):
    handler = tmp_path / "handler.py"
    handler.write_text("from services.orchestrator.adapters.db.models import PoolRow\n")
    assert rows_in_handlers({"services.orchestrator.handlers.x": handler}) == [
        "services.orchestrator.handlers.x imports PoolRow"
    ]
