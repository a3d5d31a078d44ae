"""One gated write: compute a change, validate it with context, commit it with a release record.

``sinlod publish`` and the server's writes (SPARQL Update, Graph Store Protocol) go through here;
the server only maps the errors below to HTTP (``sinlod.server.protocol.writes``, ``problems.py``).

With ``settings.shacl_gate`` (the default) a write is first *computed*, never applied blindly:

1. the graphs it can touch are copied into a scratch in-memory store (the default graph and every
   graph the update names; everything when it names graphs by variable or says ``ALL``/``NAMED``),
2. the update runs there, and the graphs whose quads differ are the write's result (a write that
   changes nothing records no release: the no-op rule lives here, in ``_gated``),
3. the new content of each changed graph is validated with ``validate_triples``, the context
   being the store *as it will be* (the rest of the store plus the new content),
4. only if it conforms is it committed (``commit``: one atomic write that records a release: who,
   when, what changed, triples per graph). Otherwise ``ShapesViolated`` and nothing is written.

A write is computed on one release and committed only if that release is still the current one
(checked after the computation, with the writes of this process serialised); when another
process published in between, the write is computed again. (A publish by another process in the
instant between that check and the commit is not caught: the store has no compare-and-swap.)
A write that would put data under the release log's graph name is refused with the store's own
``ReleaseLogProtected``: the log is sinlod's own, kept beside the data (``sinlod.store``).

Without the gate (the W3C conformance suite runs so) the operation goes straight to
``Store.update``, and is still recorded in the release log with the writer's name.

``publish`` computes its change from files (a graph per source, skipped by fingerprint when
unchanged) and validates the batch with the published store as context; it shares the refusal
(``ShapesViolated``, its ``PublishRefused`` says ``--force``) and ``commit``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.datasets import check_scope, contradictions
from sinlod.errors import InvalidData, QueryError
from sinlod.sparql_text import Token, declared_prefixes, tokens
from sinlod.store import (
    GraphContent,
    Release,
    ReleaseInfo,
    release_log_refusal,
    releases_graph,
    run_update,
)
from sinlod.store.backend import StoreBackend
from sinlod.validate import Report, validate_triples
from sinlod.validate.context import context_triples, referenced_iris

#: A graph's name, ``None`` for the default graph.
GraphName = str | None
#: New content per changed graph: the result of a write, before it is committed.
Contents = dict[GraphName, list[ox.Triple]]
ATTEMPTS = 3

_locks: weakref.WeakKeyDictionary[StoreBackend, threading.Lock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


class ShapesViolated(InvalidData):
    """A change whose result would violate the shapes; nothing was written. ``report`` is the
    validation report (the server answers 422 with it, the CLI prints it)."""

    def __init__(self, report: Report, message: str | None = None) -> None:
        counts = report.counts()
        super().__init__(
            message
            or (
                f"the write was refused: its result violates the shapes ({counts['Violation']}"
                " violation(s)); nothing was written"
            ),
            report.findings,
        )
        self.message = str(self)
        self.report = report


@dataclass(frozen=True)
class Write:
    """Who writes, how the release log names the operation, and why (the writer's ``message``,
    over HTTP the ``Sinlod-Message`` header), which comes first in the release's comment."""

    who: str
    operation: str
    message: str | None = None
    #: The dataset the writer writes for (over HTTP the ``Sinlod-Dataset`` header): a write that
    #: would change a graph of another dataset is refused (``DatasetConflict``). None: any graph.
    dataset: str | None = None

    def info(self, comment: str, *, gated: bool) -> ReleaseInfo:
        if self.message:
            comment = f"{self.message} ({comment})"
        return ReleaseInfo(
            agent=self.who, comment=comment, conforms=True if gated else None, violations=0
        )


def _lock(store: StoreBackend) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(store, threading.Lock())


# -- the operations ------------------------------------------------------------------------------


def sparql_update(
    store: StoreBackend, settings: Settings, text: str, write: Write, *, base_iri: str | None = None
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
    store: StoreBackend,
    settings: Settings,
    graph: GraphName,
    triples: list[ox.Triple],
    write: Write,
) -> Release | None:
    """Graph Store PUT: the graph becomes exactly ``triples``."""
    if not settings.shacl_gate:
        _keep_to_dataset(store, graph, write)
        target = "DEFAULT" if graph is None else f"GRAPH <{graph}>"
        _straight_to(store, graph, f"DROP SILENT {target} ;\n{_data_update(graph, triples)}", write)
        return None
    return _gated(store, settings, write, lambda snapshot: {graph: triples})


def delete_graph(
    store: StoreBackend, settings: Settings, graph: GraphName, write: Write
) -> Release | None:
    """Graph Store DELETE: the named graph is removed (the default graph emptied). Removing data
    can break a shape too (a required link now dangling), so it passes the gate as well."""
    if not settings.shacl_gate:
        _straight_to(
            store, graph, "DROP DEFAULT" if graph is None else f"DROP GRAPH <{graph}>", write
        )
        return None
    return _gated(store, settings, write, lambda snapshot: {graph: []})


def extend_graph(
    store: StoreBackend,
    settings: Settings,
    graph: GraphName,
    triples: list[ox.Triple],
    write: Write,
) -> Release | None:
    """Graph Store POST: ``triples`` are added to the graph."""
    if not settings.shacl_gate:
        _straight_to(store, graph, _data_update(graph, triples), write)
        return None

    def compute(snapshot: ox.Store) -> Contents:
        return {graph: _graph_triples(snapshot, graph) + triples}

    return _gated(store, settings, write, compute)


def _keep_to_dataset(store: StoreBackend, graph: GraphName, write: Write) -> None:
    """Without the gate, a Graph Store write still names its graph: kept to the writer's
    dataset all the same (a SPARQL update without the gate may name none, and is not checked)."""
    if write.dataset is not None:
        check_scope(write.dataset, [graph], store.base_iri)


def _straight_to(store: StoreBackend, graph: GraphName, update: str, write: Write) -> None:
    """A Graph Store write without the gate: kept to the writer's dataset, then straight."""
    _keep_to_dataset(store, graph, write)
    _straight(store, update, write)


def _straight(store: StoreBackend, update: str, write: Write) -> None:
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
    store: StoreBackend, settings: Settings, write: Write, compute: Callable[[ox.Store], Contents]
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
            if write.dataset is not None:
                check_scope(write.dataset, [c.graph for c in changes], store.base_iri)
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


def _protect_release_log(store: StoreBackend, changes: Sequence[Change]) -> None:
    """The release log is written by sinlod alone: a write that would put data under its graph
    name is refused here, before validation, with the store's own error (``Store`` refuses it
    too, so the answer is the same with the gate off)."""
    log = releases_graph(store.base_iri)
    if any(c.graph == log and c.triples for c in changes):
        raise release_log_refusal(store.base_iri)


def _commit(
    store: StoreBackend, contents: Contents, write: Write, summary: str, settings: Settings
) -> Release | None:
    info = write.info(f"{write.operation}: {summary}", gated=settings.shacl_gate)
    return commit(store, contents, info)


def commit(
    store: StoreBackend,
    contents: Mapping[str, GraphContent] | Mapping[GraphName, GraphContent],
    info: ReleaseInfo,
) -> Release | None:
    """Replace each graph by its new content in one atomic write that records the release
    ``info``; returns it (None when the default graph is among them: the update that replaces it
    records its release without returning it). A ``Path`` is bulk-loaded (named graphs only)."""
    if None not in contents:
        named: dict[str, GraphContent] = {g: c for g, c in contents.items() if g is not None}
        return store.replace_graphs(named, release=info)
    # The default graph cannot be replaced by name: one update replaces every changed graph.
    triples: Contents = {}
    for graph, content in contents.items():
        if isinstance(content, Path):
            raise TypeError("a file can be committed to a named graph only")
        triples[graph] = [t.triple if isinstance(t, ox.Quad) else t for t in content]
    store.update(_replacing_update(triples), release=info)
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
    """Validate the new content of the changed graphs, with the store as it will be as context:
    the new content, and the types and labels the graphs left as they are give what it refers to.
    A value that contradicts another dataset's on a single-valued property is a violation too
    (``sinlod.datasets.contradictions``, the rule ``publish`` applies).
    """
    batch = [t for triples in contents.values() for t in triples]
    context = ox.Store()
    context.extend(ox.Quad(t.subject, t.predicate, t.object) for t in batch)
    elsewhere = context_triples(snapshot, referenced_iris(batch), outside=list(contents))
    context.extend(ox.Quad(t.subject, t.predicate, t.object) for t in elsewhere)
    report = validate_triples(batch, settings, context=context)
    found = contradictions(snapshot, contents, settings)
    if not found:
        return report
    return Report.of([*report.findings, *found], report.prefixes, engine=report.engine)


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
    run_update(scratch, text, base_iri)  # failures as Store.update says them
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
    prefixes: Mapping[str, str] = declared_prefixes(toks)
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


def _iri(tok: Token, prefixes: Mapping[str, str], base_iri: str | None) -> str | None:
    if tok.kind == "iri":
        return urljoin(base_iri, tok.text[1:-1]) if base_iri else tok.text[1:-1]
    if tok.kind == "word" and ":" in tok.text:
        prefix, _, local = tok.text.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + local
    return None
