"""What a change does to the data, per graph and per thing (issue 11).

One computation for every place that shows a change before or after it happens:
``sinlod publish --dry-run`` (the store now against the store as the publish would leave it),
``sinlod diff`` (one release against another) and the server's preview of a write. It compares
two sets of quads; the caller chooses which (the graphs a publish touches, or whole releases).

Per graph it counts the triples added and removed. Per *thing* (an IRI that is the subject of
triples) it says whether the thing is new (no triple about it before), gone (none after) or
changed, and which properties changed. Blank nodes are counted in their graphs but not listed as
things: they have no name to show, and their labels mean nothing across two stores.

``ChangeSummary.to_json()`` is the documented, stable shape tools read (``--format json``)::

    {"added": 3, "removed": 1,
     "graphs": [{"graph": "https://…/graph/sinlod/places", "before": 40, "after": 42,
                 "added": 3, "removed": 1}],
     "things": [{"iri": "https://…/id/place/drift", "change": "changed",
                 "properties": ["http://www.w3.org/2004/02/skos/core#prefLabel"]}]}

``graph`` is null for the default graph; ``change`` is ``added``, ``removed`` or ``changed``;
``properties`` lists, sorted, the predicates whose values differ (all of them for an added or
removed thing). Graphs and things are sorted by IRI.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from sinlod.namespaces import PREFIXES

#: A graph's name, ``None`` for the default graph.
GraphName = str | None
THING_CHANGES = ("added", "removed", "changed")


@dataclass(frozen=True)
class GraphChange:
    """Triples of one graph before and after, and how many were added and removed."""

    graph: GraphName
    before: int
    after: int
    added: int
    removed: int

    def to_json(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "before": self.before,
            "after": self.after,
            "added": self.added,
            "removed": self.removed,
        }


@dataclass(frozen=True)
class ThingChange:
    """One thing (a subject IRI) the change adds, removes or changes, with the properties whose
    values differ."""

    iri: str
    change: str  # "added", "removed" or "changed"
    properties: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"iri": self.iri, "change": self.change, "properties": list(self.properties)}


@dataclass(frozen=True)
class ChangeSummary:
    """The difference between two sets of quads. ``added_quads`` and ``removed_quads`` are the
    exact quads (sorted by their N-Quads text), for a diff that prints them."""

    graphs: tuple[GraphChange, ...] = ()
    things: tuple[ThingChange, ...] = ()
    added_quads: tuple[ox.Quad, ...] = field(default=(), repr=False)
    removed_quads: tuple[ox.Quad, ...] = field(default=(), repr=False)

    @property
    def added(self) -> int:
        return len(self.added_quads)

    @property
    def removed(self) -> int:
        return len(self.removed_quads)

    def __bool__(self) -> bool:
        """True when anything changes (a graph emptied counts, as removing it is a change)."""
        return bool(self.added_quads or self.removed_quads)

    def counts(self) -> dict[str, int]:
        """Things per kind of change: ``{"added": 1, "removed": 0, "changed": 2}``."""
        found = Counter(t.change for t in self.things)
        return {kind: found[kind] for kind in THING_CHANGES}

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "graphs": [g.to_json() for g in self.graphs],
            "things": [t.to_json() for t in self.things],
        }

    def render_human(self, *, limit: int | None = 50) -> str:
        """Per graph ``+added -removed  <graph>``, then per thing ``+``/``-``/``~`` with the
        properties that change (compact names); at most ``limit`` things, then how many more."""
        lines = [f"{self.added} triples added, {self.removed} removed"]
        for g in self.graphs:
            if g.added or g.removed:
                name = "the default graph" if g.graph is None else f"<{g.graph}>"
                lines.append(f"  +{g.added} -{g.removed}  {name} ({g.before} -> {g.after})")
        counts = self.counts()
        lines.append(
            f"things: {counts['added']} added, {counts['removed']} removed,"
            f" {counts['changed']} changed"
        )
        shown = self.things if limit is None else self.things[:limit]
        marks = {"added": "+", "removed": "-", "changed": "~"}
        for t in shown:
            line = f"  {marks[t.change]} <{t.iri}>"
            if t.change == "changed":
                line += ": " + ", ".join(compact(p) for p in t.properties)
            lines.append(line)
        if len(shown) < len(self.things):
            lines.append(f"  ... and {len(self.things) - len(shown)} more")
        return "\n".join(lines)


def compact(iri: str) -> str:
    """``skos:prefLabel`` for a predicate in a known namespace, else ``<iri>``.

    >>> compact("http://www.w3.org/2004/02/skos/core#prefLabel")
    'skos:prefLabel'
    """
    best = max(
        ((p, ns) for p, ns in PREFIXES.items() if iri.startswith(ns)),
        key=lambda item: len(item[1]),
        default=None,
    )
    return f"<{iri}>" if best is None else best[0] + ":" + iri[len(best[1]) :]


def summarise(before: Iterable[ox.Quad], after: Iterable[ox.Quad]) -> ChangeSummary:
    """The difference between two sets of quads (order and duplicates aside).

    >>> s, p, g = ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.NamedNode("http://g")
    >>> old = [ox.Quad(s, p, ox.Literal("a"), g)]
    >>> new = [ox.Quad(s, p, ox.Literal("b"), g), ox.Quad(ox.NamedNode("http://e/t"), p, s, g)]
    >>> summary = summarise(old, new)
    >>> summary.added, summary.removed, [(t.iri, t.change) for t in summary.things]
    (2, 1, [('http://e/s', 'changed'), ('http://e/t', 'added')])
    """
    return _summary(set(before), set(after))


def _summary(
    old: set[ox.Quad],
    new: set[ox.Quad],
    kept: Callable[[set[str]], set[ox.Quad]] | None = None,
) -> ChangeSummary:
    """The summary of ``old`` → ``new``; ``kept`` gives, for the subjects touched, the quads
    about them outside the compared graphs (they count for things, before and after alike)."""
    added, removed = new - old, old - new
    before_count: Counter[GraphName] = Counter(_graph(q) for q in old)
    after_count: Counter[GraphName] = Counter(_graph(q) for q in new)
    plus: Counter[GraphName] = Counter(_graph(q) for q in added)
    minus: Counter[GraphName] = Counter(_graph(q) for q in removed)
    graphs = tuple(
        GraphChange(g, before_count[g], after_count[g], plus[g], minus[g])
        for g in sorted(set(before_count) | set(after_count), key=lambda g: (g is not None, g))
    )
    touched = {q.subject.value for q in (*added, *removed) if isinstance(q.subject, ox.NamedNode)}
    context = kept(touched) if kept is not None and touched else set()
    return ChangeSummary(
        graphs,
        _things(old | context, new | context, touched) if context else _things(old, new, touched),
        tuple(sorted(added, key=str)),
        tuple(sorted(removed, key=str)),
    )


def summarise_contents(
    snapshot: ox.Store,
    contents: Mapping[str, Iterable[ox.Triple | ox.Quad] | Path]
    | Mapping[GraphName, Iterable[ox.Triple | ox.Quad] | Path],
) -> ChangeSummary:
    """What replacing each graph of ``snapshot`` named in ``contents`` by its new content would
    change: the shape of a write (``sinlod.changes``, ``sinlod.publish``) before it is made. A
    ``Path`` is a file the write would bulk-load; it is parsed here (format from its name).

    Graphs are counted as they are written; things as the whole store shows them, so a thing
    another graph already describes is ``changed`` (with the properties it gains), not ``added``.
    """
    before: list[ox.Quad] = []
    after: list[ox.Quad] = []
    for graph, content in contents.items():
        name: ox.NamedNode | ox.DefaultGraph = (
            ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        )
        before.extend(snapshot.quads_for_pattern(None, None, None, name))
        after.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in _triples(content))
    # A thing is new only if nothing in the store describes it, not only the graphs written:
    # the facts other graphs keep about it count before and after alike.
    written = {ox.DefaultGraph() if g is None else ox.NamedNode(g) for g in contents}

    def kept(touched: set[str]) -> set[ox.Quad]:
        return {
            q
            for iri in touched
            for q in snapshot.quads_for_pattern(ox.NamedNode(iri), None, None, None)
            if q.graph_name not in written
        }

    return _summary(set(before), set(after), kept)


def summarise_stores(old: ox.Store, new: ox.Store) -> ChangeSummary:
    """Every quad of ``old`` against every quad of ``new`` (two releases)."""
    return summarise(
        old.quads_for_pattern(None, None, None, None), new.quads_for_pattern(None, None, None, None)
    )


def _triples(content: Iterable[ox.Triple | ox.Quad] | Path) -> Iterable[ox.Triple | ox.Quad]:
    if isinstance(content, Path):
        return ox.parse(path=str(content))
    return content


def _graph(quad: ox.Quad) -> GraphName:
    g = quad.graph_name
    return g.value if isinstance(g, ox.NamedNode) else None


def _things(old: set[ox.Quad], new: set[ox.Quad], touched: set[str]) -> tuple[ThingChange, ...]:
    """Per subject IRI touched: added (nothing about it before), removed (nothing after), or
    changed, with the predicates whose triples differ (a fact moved between graphs is no change
    of the thing)."""
    if not touched:
        return ()
    facts_before, facts_after = _facts(old, touched), _facts(new, touched)
    out = []
    for iri in sorted(touched):
        thing = classify(iri, facts_before.get(iri, set()), facts_after.get(iri, set()))
        if thing is not None:
            out.append(thing)
    return tuple(out)


def classify(iri: str, was: set[ox.Triple], now: set[ox.Triple]) -> ThingChange | None:
    """What happened to one thing, from its facts before and after (None: nothing). The one rule
    that ``diff`` between releases shares with the preview of a publish."""
    properties = tuple(sorted({t.predicate.value for t in was ^ now}))
    if not was:
        return ThingChange(iri, "added", properties)
    if not now:
        return ThingChange(iri, "removed", properties)
    return ThingChange(iri, "changed", properties) if properties else None


def _facts(quads: set[ox.Quad], subjects: set[str]) -> dict[str, set[ox.Triple]]:
    """The triples about each of ``subjects``, whatever graph holds them."""
    out: dict[str, set[ox.Triple]] = defaultdict(set)
    for q in quads:
        if isinstance(q.subject, ox.NamedNode) and q.subject.value in subjects:
            out[q.subject.value].add(q.triple)
    return out
