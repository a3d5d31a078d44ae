"""Writes over HTTP (SPARQL Update, Graph Store Protocol) through the same SHACL gate as publish.

With ``settings.shacl_gate`` (the default) a write is first *computed*, never applied blindly:

1. the graphs it can touch are copied into a scratch in-memory store (the default graph and every
   graph the update names; everything when it names graphs by variable or says ``ALL``/``NAMED``),
2. the update runs there, and the graphs whose quads differ are the write's result,
3. the new content of each changed graph is validated with ``validate_triples``, the context
   being the store *as it will be* (the rest of the store plus the new content),
4. only if it conforms is it committed through ``Store.replace_graphs`` (one atomic write that
   records a release: who by token name, when, what changed, triples per graph). Otherwise
   ``ShapesViolated`` (422, with the validation report as JSON or Turtle) and nothing is written.

A write is computed on one release and committed only if that release is still the current one
(checked after the computation, with the writes of this process serialised); when another
process published in between, the write is computed again. (A publish by another process in the
instant between that check and the commit is not caught: the store has no compare-and-swap.)
A write that would put data under the release log's graph name is refused (403, the library's
``ReleaseLogProtected``): the log is sinlod's own, kept beside the data (``sinlod.store``).

Without the gate (the W3C conformance suite runs so) the operation goes straight to
``Store.update``, and is still recorded in the release log with the token's name.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from sinlod.config import Settings
from sinlod.errors import QueryError, QueryEvaluationError
from sinlod.server.negotiation import Format, negotiate
from sinlod.server.problems import PROBLEM_JSON, HttpProblem, problem
from sinlod.sparql_text import Token, tokens
from sinlod.store import Release, ReleaseInfo, Store, release_log_refusal, releases_graph
from sinlod.validate import Report, validate_triples
from sinlod.validate.run import CONTEXT_PREDICATES, referenced_iris

#: A graph's name, ``None`` for the default graph.
GraphName = str | None
#: New content per changed graph: the result of a write, before it is committed.
Contents = dict[GraphName, list[ox.Triple]]
ATTEMPTS = 3

_locks: weakref.WeakKeyDictionary[Store, threading.Lock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


class ShapesViolated(HttpProblem):
    """A write whose result would violate the shapes: 422 with the validation report."""

    status = 422
    code = "shacl-violation"

    def __init__(self, report: Report) -> None:
        counts = report.counts()
        super().__init__(
            f"the write was refused: its result violates the shapes ({counts['Violation']}"
            " violation(s)); nothing was written"
        )
        self.report = report

    def response(self, request: Request) -> Response:
        """The report as Turtle (the standard SHACL validation report) when the client asks
        for it, else as a problem document with the JSON report in ``report``."""
        fmt = negotiate(request.headers.get("accept"), _REPORT_FORMATS)
        if fmt is _TURTLE_REPORT:
            return Response(self.report.to_turtle(), 422, media_type=fmt.content_type)
        body = problem(422, self.message, self.code, report=self.report.to_json())
        return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


_JSON_REPORT = Format(PROBLEM_JSON, "json", "json", None, ("application/json",))
_TURTLE_REPORT = Format("text/turtle", "turtle", "ttl")
_REPORT_FORMATS = (_JSON_REPORT, _TURTLE_REPORT)


@dataclass(frozen=True)
class Write:
    """Who writes, and how the release log names the operation."""

    who: str
    operation: str

    def info(self, comment: str, *, gated: bool) -> ReleaseInfo:
        return ReleaseInfo(
            agent=self.who, comment=comment, conforms=True if gated else None, violations=0
        )


def _lock(store: Store) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(store, threading.Lock())


# -- the operations ------------------------------------------------------------------------------


def sparql_update(
    store: Store, settings: Settings, text: str, write: Write, *, base_iri: str | None = None
) -> Release | None:
    """Run a SPARQL update through the gate (or straight, without it). Runs in a worker thread.

    Raises ``QueryError`` for an update that does not parse or fails, ``ShapesViolated`` when its
    result violates the shapes, ``ReleaseLogProtected`` when it would change the release log; in
    every case nothing is written.
    """
    if not settings.shacl_gate:
        store.update(text, base_iri=base_iri, release=write.info(write.operation, gated=False))
        return None
    scope = update_scope(text, base_iri)

    def compute(snapshot: ox.Store) -> Contents:
        contents = _run_in_scratch(snapshot, text, base_iri, scope)
        if contents is None:  # it wrote a graph it was not given: do it again with everything
            contents = _run_in_scratch(snapshot, text, base_iri, None)
        assert contents is not None
        return contents

    return _gated(store, settings, write, compute)


def replace_graph(
    store: Store, settings: Settings, graph: GraphName, triples: list[ox.Triple], write: Write
) -> Release | None:
    """Graph Store PUT: the graph becomes exactly ``triples``."""
    if not settings.shacl_gate:
        target = "DEFAULT" if graph is None else f"GRAPH <{graph}>"
        _straight(store, f"DROP SILENT {target} ;\n{_data_update(graph, triples)}", write)
        return None
    return _gated(store, settings, write, lambda snapshot: {graph: triples})


def delete_graph(
    store: Store, settings: Settings, graph: GraphName, write: Write
) -> Release | None:
    """Graph Store DELETE: the named graph is removed (the default graph emptied). Removing data
    can break a shape too (a required link now dangling), so it passes the gate as well."""
    if not settings.shacl_gate:
        _straight(store, "DROP DEFAULT" if graph is None else f"DROP GRAPH <{graph}>", write)
        return None
    return _gated(store, settings, write, lambda snapshot: {graph: []})


def extend_graph(
    store: Store, settings: Settings, graph: GraphName, triples: list[ox.Triple], write: Write
) -> Release | None:
    """Graph Store POST: ``triples`` are added to the graph."""
    if not settings.shacl_gate:
        _straight(store, _data_update(graph, triples), write)
        return None

    def compute(snapshot: ox.Store) -> Contents:
        return {graph: _graph_triples(snapshot, graph) + triples}

    return _gated(store, settings, write, compute)


def _straight(store: Store, update: str, write: Write) -> None:
    """Without the gate: one atomic update, still recorded with the token's name."""
    store.update(update, release=write.info(write.operation, gated=False))


def _data_update(graph: GraphName, triples: list[ox.Triple]) -> str:
    """``INSERT DATA`` of ``triples`` into ``graph``; N-Triples written by Oxigraph is valid
    there."""
    nt = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
    return (
        f"INSERT DATA {{ {nt} }}"
        if graph is None
        else f"INSERT DATA {{ GRAPH <{graph}> {{ {nt} }} }}"
    )


# -- computing, validating, committing -----------------------------------------------------------


def _gated(
    store: Store, settings: Settings, write: Write, compute: Callable[[ox.Store], Contents]
) -> Release | None:
    """Compute on the current release, validate, commit while that release is still current."""
    with _lock(store):
        for _ in range(ATTEMPTS):
            store.refresh()
            release, snapshot = store.release_id, store.oxigraph
            changes = diff(snapshot, compute(snapshot))
            if not changes:
                # Nothing would change (a PUT of the same triples, an update that matches
                # nothing, a LOAD SILENT that loaded nothing): no snapshot, no release.
                return None
            _protect_release_log(store, changes)
            contents = {c.graph: c.triples for c in changes}
            if settings.shacl_gate:
                report = validate_contents(snapshot, settings, contents)
                if report.failed():
                    raise ShapesViolated(report)
            store.refresh()
            if store.release_id == release:
                return _commit(store, contents, write, _summary(changes), settings)
    raise QueryError("the store changed during the write three times in a row; try again")


@dataclass(frozen=True)
class Change:
    """One graph a write changes: its whole new content and the counts for the release log."""

    graph: GraphName
    triples: list[ox.Triple]
    added: int
    removed: int


def diff(snapshot: ox.Store, contents: Contents) -> list[Change]:
    """The graphs whose new content differs from the old (order and duplicates aside). An
    existing named graph that is to be empty counts as changed, since emptying removes it."""
    changes = []
    for graph, triples in contents.items():
        before, after = set(_graph_triples(snapshot, graph)), set(triples)
        removal = (
            graph is not None and not after and snapshot.contains_named_graph(ox.NamedNode(graph))
        )
        if before != after or removal:
            changes.append(Change(graph, triples, len(after - before), len(before - after)))
    return sorted(changes, key=lambda c: c.graph or "")


def _protect_release_log(store: Store, changes: Sequence[Change]) -> None:
    """The release log is written by sinlod alone: a write that would put data under its graph
    name is refused here, before validation, with the store's own error (``Store`` refuses it
    too, so the answer is the same with the gate off)."""
    log = releases_graph(store.base_iri)
    if any(c.graph == log and c.triples for c in changes):
        raise release_log_refusal(store.base_iri)


def _commit(
    store: Store, contents: Contents, write: Write, summary: str, settings: Settings
) -> Release | None:
    info = write.info(f"{write.operation}: {summary}", gated=settings.shacl_gate)
    if None not in contents:
        named = {g: ts for g, ts in contents.items() if g is not None}
        return store.replace_graphs(named, release=info)
    # The default graph cannot be replaced by name: one update replaces every changed graph.
    store.update(_replacing_update(contents), release=info)
    return None


def _replacing_update(contents: Contents) -> str:
    """``DROP``/``INSERT DATA`` per graph; N-Triples written by Oxigraph is valid in
    ``INSERT DATA``."""
    parts = []
    for graph, triples in contents.items():
        target = "DEFAULT" if graph is None else f"GRAPH <{graph}>"
        parts.append(f"DROP SILENT {target} ;\n{_data_update(graph, triples)}")
    return " ;\n".join(parts) or "INSERT DATA {}"


def _summary(changes: Sequence[Change]) -> str:
    """What changed, for the release log: ``+3 -1 triples in <g>`` per graph."""
    parts = []
    for c in changes:
        name = "the default graph" if c.graph is None else f"<{c.graph}>"
        parts.append(f"+{c.added} -{c.removed} triples in {name}")
    return "; ".join(parts) or "no change"


def validate_contents(snapshot: ox.Store, settings: Settings, contents: Contents) -> Report:
    """Validate the new content of the changed graphs, with the store as it will be as context."""
    batch = [t for triples in contents.values() for t in triples]
    context = ox.Store()
    context.extend(ox.Quad(t.subject, t.predicate, t.object) for t in batch)
    context.extend(_context_elsewhere(snapshot, referenced_iris(batch), list(contents)))
    return validate_triples(batch, settings, context=context)


def _context_elsewhere(
    snapshot: ox.Store, iris: Sequence[ox.NamedNode], changed: Sequence[GraphName]
) -> Iterable[ox.Quad]:
    """Types and labels of ``iris`` from the graphs the write leaves as they are."""
    if not iris:
        return []
    values = " ".join(str(i) for i in iris)
    predicates = ", ".join(f"<{p}>" for p in CONTEXT_PREDICATES)
    skip = ", ".join(f"<{g}>" for g in changed if g is not None)
    graph_filter = f"FILTER (?g NOT IN ({skip}))" if skip else ""
    inner = f"?s ?p ?o FILTER (?p IN ({predicates}))"
    default = "" if None in changed else f"{{ {inner} }} UNION "
    query = (
        f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} "
        f"{default}{{ GRAPH ?g {{ {inner} }} {graph_filter} }} }}"
    )
    rows = snapshot.query(query)
    assert isinstance(rows, ox.QuerySolutions)
    return [ox.Quad(r["s"], r["p"], r["o"]) for r in rows]


def _graph_triples(store: ox.Store, graph: GraphName) -> list[ox.Triple]:
    name: Any = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    return [q.triple for q in store.quads_for_pattern(None, None, None, name)]


def _run_in_scratch(
    snapshot: ox.Store, text: str, base_iri: str | None, scope: set[str] | None
) -> Contents | None:
    """The new content of every graph the update changed, computed on a scratch copy of
    ``scope`` (None: every graph). None when the update wrote a graph outside ``scope`` that
    exists in the store (its old content was not in the scratch copy)."""
    existing = {g.value for g in snapshot.named_graphs() if isinstance(g, ox.NamedNode)}
    loaded = existing if scope is None else existing & scope
    scratch = ox.Store()
    scratch.extend(snapshot.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    for g in sorted(loaded):
        scratch.extend(snapshot.quads_for_pattern(None, None, None, ox.NamedNode(g)))
        scratch.add_graph(ox.NamedNode(g))
    try:
        scratch.update(text, base_iri=base_iri)
    except SyntaxError as exc:
        raise QueryError(str(exc)) from exc
    except (OSError, RuntimeError) as exc:  # as Store.update says it: one status either way
        raise QueryEvaluationError(f"update failed: {exc}") from exc
    after = {g.value for g in scratch.named_graphs() if isinstance(g, ox.NamedNode)}
    if (after - loaded) & existing:
        return None
    graphs: list[GraphName] = [None, *sorted(after | loaded)]
    return {g: _graph_triples(scratch, g) for g in graphs}


_GRAPH_KEYWORDS = ("GRAPH", "WITH", "INTO", "TO", "ADD", "MOVE", "COPY", "DROP", "CLEAR", "CREATE")


def update_scope(text: str, base_iri: str | None) -> set[str] | None:
    """Every IRI an update names (each may be a graph it reads or writes), or None when it may
    touch graphs it does not name: ``GRAPH ?g``, ``DROP ALL``, ``CLEAR NAMED``, a ``BASE``.

    >>> sorted(update_scope("INSERT DATA { GRAPH <http://g> { <http://s> <http://p> 1 } }", None))
    ['http://g', 'http://p', 'http://s']
    >>> update_scope("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", None) is None
    True
    """
    toks = list(tokens(text))
    prefixes: Mapping[str, str] = _prefixes(toks)
    found: set[str] = set()
    for i, tok in enumerate(toks):
        following = toks[i + 1] if i + 1 < len(toks) else None
        if tok.is_keyword("BASE"):
            return None
        if tok.is_keyword(*_GRAPH_KEYWORDS) and following is not None:
            if following.kind == "var" or following.is_keyword("ALL", "NAMED"):
                return None
        iri = _iri(tok, prefixes, base_iri)
        if iri is not None:
            found.add(iri)
    return found


def _prefixes(toks: Sequence[Token]) -> dict[str, str]:
    found = {}
    for i, tok in enumerate(toks[:-2]):
        if tok.is_keyword("PREFIX") and toks[i + 1].kind == "word" and toks[i + 2].kind == "iri":
            found[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    return found


def _iri(tok: Token, prefixes: Mapping[str, str], base_iri: str | None) -> str | None:
    if tok.kind == "iri":
        return urljoin(base_iri, tok.text[1:-1]) if base_iri else tok.text[1:-1]
    if tok.kind == "word" and ":" in tok.text:
        prefix, _, local = tok.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None
