"""The engines (``fast``, ``pyshacl``) and their results as ``Finding``s located in the sources.

Both engines' results become findings by the same code (``_finding``): the result path rendered
from the shapes graph, the shape named stably, the place found through the ``SourceMap``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib.namespace import RDF, SH

from sinlod.config import Settings
from sinlod.errors import InputError
from sinlod.sourcemap import SourceMap
from sinlod.validate.fast import Declined, RawResult
from sinlod.validate.findings import Finding
from sinlod.validate.hints import allowed_values, closest_allowed
from sinlod.validate.render import compact
from sinlod.validate.rules import Rules
from sinlod.validate.terms import rdflib_node, to_nt, to_rdflib_triple

#: Validation engines: ``fast`` (the ``shacl`` package, falling back to pySHACL per batch where
#: it could not report identically) and ``pyshacl`` (the reference, always).
ENGINES = ("fast", "pyshacl")


_pyshacl_lock = threading.Lock()


def engine_name(settings: Settings) -> str:
    """The engine ``settings.validation_engine`` names; ``InputError`` for an unknown one."""
    engine = settings.validation_engine
    if engine not in ENGINES:
        raise InputError(f"unknown validation engine {engine!r}; use one of {', '.join(ENGINES)}")
    return engine


def run_pyshacl(
    batch: Sequence[ox.Triple | ox.Quad], extra: Sequence[ox.Triple], rules: Rules
) -> rdflib.Graph:
    """pySHACL's report graph for the batch plus its context (the reference engine)."""
    graph = rdflib.Graph()
    for t in batch:
        graph.add(to_rdflib_triple(t))
    for t in extra:
        graph.add(to_rdflib_triple(t))
    with _pyshacl_lock:  # pySHACL writes to the shared shapes graph (its system triples)
        _, report_graph, _ = pyshacl.validate(
            graph,
            shacl_graph=rules.shapes,
            ont_graph=rules.ontology,
            inference="rdfs",
            inplace=True,  # the graph is ours and thrown away: skip pySHACL's copy
        )
    if not isinstance(report_graph, rdflib.Graph):
        raise AssertionError("pySHACL returns its report as a graph")
    return report_graph


# -- from the engines' results to findings ----------------------------------------------------


def pyshacl_findings(
    report: rdflib.Graph, rules: Rules, source_map: SourceMap
) -> Iterable[Finding]:
    """Findings from pySHACL's report graph."""
    memo: dict[Any, Any] = {}
    for result in report.objects(None, SH.result):
        value = report.value(result, SH.value)
        severity = report.value(result, SH.resultSeverity)
        yield _finding(
            rules,
            source_map,
            focus=to_nt(report.value(result, SH.focusNode)),
            path=(report, report.value(result, SH.resultPath)),
            value=to_nt(value) if value is not None else None,
            severity=_local(severity) if severity is not None else "Violation",
            message=_message(report, result),
            shape=report.value(result, SH.sourceShape),
            component=report.value(result, SH.sourceConstraintComponent),
            memo=memo,
        )


def fast_findings(
    results: Iterable[RawResult], rules: Rules, source_map: SourceMap
) -> Iterable[Finding]:
    """Findings from the fast engine's results, built exactly as from pySHACL's report.

    The result path is taken from the source shape's ``sh:path`` in our shapes graph, so that it
    is rendered by the same code as pySHACL's copy of it. Raises ``Declined`` for what only
    pySHACL can report identically: a shape without ``sh:message`` (pySHACL writes one of its
    own), several messages (the language tags are not in the fast results), or a path that is
    not the shape's own.
    """
    memo: dict[Any, Any] = {}
    for r in results:
        if len(set(r.messages)) != 1:
            raise Declined("no sh:message, or several")
        shape = rdflib_node(r.shape)
        path: Any = None
        if r.path is not None:
            if ("sh:path", shape) not in memo:
                memo["sh:path", shape] = rules.shapes.value(shape, SH.path)
            path = memo["sh:path", shape]
            if path is None:
                if not _SIMPLE_PATH.fullmatch(r.path):
                    raise Declined(f"result path {r.path} of a shape without sh:path")
                path = rdflib.URIRef(r.path[1:-1])
        yield _finding(
            rules,
            source_map,
            focus=r.focus,
            path=(rules.shapes, path),
            value=r.value,
            severity=_local(r.severity),
            message=r.messages[0],
            shape=shape,
            component=rdflib.URIRef(r.component),
            memo=memo,
        )


_SIMPLE_PATH = re.compile(r"<[^<>]*>")


def _finding(
    rules: Rules,
    source_map: SourceMap,
    *,
    focus: str,
    path: tuple[rdflib.Graph, Any],
    value: str | None,
    severity: str,
    message: str,
    shape: Any,
    component: Any,
    memo: dict[Any, Any],
) -> Finding:
    """One finding, located through the source map; ``focus`` and ``value`` in N-Triples.

    ``path`` is the result path node and the graph that holds its structure. ``memo`` keeps
    what only depends on the shape (names, paths), computed once for thousands of results.
    """
    graph, node = path
    simple_path = f"<{node}>" if isinstance(node, rdflib.URIRef) else None
    locations = source_map.locate(focus, simple_path, value)
    inverse = _memo(memo, ("inverse", id(graph), node), lambda: _inverse(graph, node))
    if inverse is not None and value is not None:
        # ^p: the value's cell points at the focus, so that cell is the place to fix
        locations = source_map.locate(value, f"<{inverse}>", focus) or locations
    text = _memo(memo, ("path", id(graph), node), lambda: path_text(graph, node))
    return Finding(
        severity=severity,
        message=message + _hint(rules, memo, shape, component, value),
        focus=focus if focus.startswith("_:") else focus[1:-1],
        path=text if node is not None else None,
        value=value,
        source_shape=_memo(memo, ("shape", shape), lambda: _shape_name(rules, shape)),
        constraint=_memo(memo, ("c", component), lambda: _compact(rules.prefixes, component)),
        locations=tuple(locations),
    )


def _hint(rules: Rules, memo: dict[Any, Any], shape: Any, component: Any, value: str | None) -> str:
    """``"; closest allowed values: …"`` for a value outside the list its shape allows, else
    ``""``; the list is looked up once per shape, the closest values once per value."""
    if value is None:
        return ""
    allowed = _memo(memo, ("in", shape, component), lambda: allowed_values(rules, shape, component))
    if not allowed:
        return ""
    key = ("hint", shape, component, value)
    return str(_memo(memo, key, lambda: closest_allowed(value, allowed)))


def _memo(memo: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _inverse(graph: rdflib.Graph, node: Any) -> Any:
    inverse = graph.value(node, SH.inversePath) if node is not None else None
    return inverse if isinstance(inverse, rdflib.URIRef) else None


def _message(report: rdflib.Graph, result: Any) -> str:
    """The result message, English or untagged first; pySHACL makes one up when a shape has none."""
    messages = list(report.objects(result, SH.resultMessage))
    messages.sort(key=lambda m: (getattr(m, "language", None) not in (None, "en"), str(m)))
    return str(messages[0]) if messages else ""


def _shape_name(rules: Rules, shape: Any) -> str | None:
    """A stable name for a shape, also when it is a blank node (whose label changes per parse)."""
    if shape is None:
        return None
    if isinstance(shape, rdflib.URIRef):
        return _compact(rules.prefixes, shape)
    g = rules.shapes
    path = g.value(shape, SH.path)
    parent = g.value(None, SH.property, shape) or g.value(None, SH.node, shape)
    own = _compact(rules.prefixes, path) if isinstance(path, rdflib.URIRef) else None
    if parent is not None:
        parent_name = _shape_name(rules, parent) or "[]"
        return f"{parent_name}/{own}" if own else parent_name
    return f"[sh:path {own}]" if own else "[]"


def path_text(g: rdflib.Graph, node: Any) -> str:
    """A SHACL path as a SPARQL property path with full IRIs (SHACL §2.3.1)."""
    if isinstance(node, rdflib.URIRef):
        return str(node)
    if g.value(node, RDF.first) is not None:  # a list first, as pySHACL reads a strange path
        return "/".join(_path_atom(g, n) for n in rdflib.collection.Collection(g, node))
    inverse = g.value(node, SH.inversePath)
    if inverse is not None:
        return "^" + _path_atom(g, inverse)
    alternatives = g.value(node, SH.alternativePath)
    if alternatives is not None:
        return "|".join(_path_atom(g, n) for n in rdflib.collection.Collection(g, alternatives))
    for prop, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = g.value(node, prop)
        if inner is not None:
            return _path_atom(g, inner) + mark
    return str(node)


def _path_atom(g: rdflib.Graph, node: Any) -> str:
    text = path_text(g, node)
    return f"<{text}>" if isinstance(node, rdflib.URIRef) else f"({text})"


def _compact(prefixes: dict[str, str], iri: Any) -> str:
    return compact(prefixes, str(iri))


def _local(iri: Any) -> str:
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
