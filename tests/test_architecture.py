"""The layer rules of docs/architecture.md, read from the source with ``ast``.

Every ``import`` in ``sinlod/**.py`` counts, at module level or inside a function: an import
deferred into a function hides a dependency from the interpreter, not from the design. Only
imports of sinlod's own modules and of the few third-party edge libraries are looked at.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sinlod"

#: The edges: the CLI and the server. Everything else is the library.
EDGES = ("sinlod.cli", "sinlod.__main__", "sinlod.server")
#: Third-party packages of the edges (the terminal, serving HTTP), never of the library. An HTTP
#: client is not here: the library may call a remote service (``sinlod.linking.service``).
EDGE_LIBRARIES = {"click", "fastapi", "starlette", "uvicorn", "jinja2"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(module: str) -> Iterator[str]:
    """The names ``module`` imports (``from a import b`` gives ``a.b`` when that is a module)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def own_module(name: str) -> str | None:
    """The sinlod module an imported name lives in, or None for another package."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """The sinlod modules ``module`` imports directly."""
    found = {own_module(name) for name in imported(module)}
    return {m for m in found if m is not None and m != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def reachable(start: str) -> set[str]:
    """Every sinlod module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in GRAPH[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def library() -> Iterable[str]:
    return (m for m in MODULES if m != "sinlod" and not within(m, *EDGES))


def test_the_import_graph_is_read() -> None:
    """A guard for the guards: the walk finds the imports it must find."""
    assert "sinlod.convert" in GRAPH["sinlod.cli"]  # a deferred import, inside a command
    assert {"sinlod.mapping", "sinlod.records"} <= GRAPH["sinlod.convert"]
    assert "sinlod.store" in reachable("sinlod.server.app")
    assert len(MODULES) > 40


def test_the_library_never_imports_the_cli_or_the_server() -> None:
    wrong = {(m, dep) for m in library() for dep in reachable(m) | {m} if within(dep, *EDGES)}
    assert wrong == set()


def test_the_library_never_imports_terminal_or_http_packages() -> None:
    wrong = {
        (m, name) for m in library() for name in imported(m) if name.split(".")[0] in EDGE_LIBRARIES
    }
    assert wrong == set()


def test_the_server_never_imports_the_cli() -> None:
    wrong = {(m, d) for m in MODULES if within(m, "sinlod.server") for d in reachable(m)}
    assert {(m, d) for m, d in wrong if within(d, "sinlod.cli", "sinlod.__main__")} == set()


#: What a layer may not reach, directly or through other modules (docs/architecture.md).
BELOW = {
    # records and mapping turn rows into triples; they know nothing of validation or storage
    ("sinlod.records", "sinlod.mapping"): (
        "sinlod.store",
        "sinlod.validate",
        "sinlod.changes",
        "sinlod.publish",
        "sinlod.catalog",
    ),
    # nor does what reads the files of a batch (records converted, RDF files parsed)
    ("sinlod.convert", "sinlod.inputs"): (
        "sinlod.store",
        "sinlod.validate",
        "sinlod.changes",
        "sinlod.publish",
        "sinlod.catalog",
    ),
    # the store keeps quads and releases; it knows nothing of where they came from
    ("sinlod.store",): (
        "sinlod.records",
        "sinlod.mapping",
        "sinlod.convert",
        "sinlod.validate",
        "sinlod.changes",
        "sinlod.publish",
        "sinlod.catalog",
        "sinlod.linking",
    ),
    # validation checks a change; it never writes one
    ("sinlod.validate",): ("sinlod.changes", "sinlod.publish", "sinlod.catalog"),
}


def reaching_above(layer: tuple[str, ...]) -> set[tuple[str, str]]:
    return {
        (m, dep)
        for m in MODULES
        if within(m, *layer)
        for dep in reachable(m)
        if within(dep, *BELOW[layer])
    }


@pytest.mark.parametrize("layer", sorted(BELOW), ids=lambda layer: "+".join(layer))
def test_a_layer_never_reaches_the_layers_above_it(layer: tuple[str, ...]) -> None:
    assert reaching_above(layer) == set()


def test_a_layer_reaching_up_through_another_module_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mapping importing validation (which reads the store for context) breaks two rules."""
    engine = "sinlod.mapping.engine"
    monkeypatch.setitem(GRAPH, engine, GRAPH[engine] | {"sinlod.validate"})
    wrong = reaching_above(("sinlod.records", "sinlod.mapping"))
    assert {(engine, "sinlod.validate"), (engine, "sinlod.store")} <= wrong


def cycles() -> list[list[str]]:
    """Import circles (Tarjan's strongly connected components of two or more modules).

    A package importing its own submodules does not count: Python imports a package before any
    of its submodules, so that edge always closes a circle and says nothing about the design.
    """
    edges = {m: {d for d in deps if not within(d, m)} for m, deps in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                found.append(sorted([v, *component]))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)


def test_no_import_circles() -> None:
    """None at all: issue 16's two (negotiation-problems, findings-render) are gone."""
    assert cycles() == []


def test_the_circle_finder_finds_a_circle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GRAPH, "sinlod.errors", GRAPH["sinlod.errors"] | {"sinlod.config"})
    assert any({"sinlod.config", "sinlod.errors"} <= set(cycle) for cycle in cycles())


def test_the_cli_maps_library_errors_in_one_place() -> None:
    """Only ``Command.invoke`` catches sinlod's errors; command bodies raise them."""
    from sinlod.errors import SinlodError

    for module in MODULES:  # every subclass of SinlodError, wherever it is defined
        if module != "sinlod.__main__":
            importlib.import_module(module)
    classes, todo = set(), [SinlodError]
    while todo:
        for sub in todo.pop().__subclasses__():
            classes.add(sub)
            todo.append(sub)
    library_errors = {c.__name__ for c in classes} | {"SinlodError"}
    assert {"PublishRefused", "RecordError"} <= library_errors
    tree = ast.parse(MODULES["sinlod.cli"].read_text(encoding="utf-8"))
    catching = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
                if names & library_errors:
                    catching.append(function.name)
    assert catching == ["invoke"]
