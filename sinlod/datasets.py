"""Where one dataset meets another: shared things, contradicting facts, graphs it may not touch.

Datasets never share a graph (``{base}graph/{dataset}/{table}``, ``store/graphs.py``), but they
may describe the same thing: a steward's ``places.csv`` with the slug ``rotterdam`` mints the IRI
the shipped data describes. Adding facts to a shared thing is normal in linked data, so it is
*reported* (``overlaps``). A fact that contradicts another dataset's on a property the shapes say
has one value (``sh:maxCount 1``), or one value per language (``sh:uniqueLang true``), would make
the thing say two things at once (two English names, two start dates): it is a *violation*
naming both sources (``contradictions``). Both compare a write's new content with the graphs it
leaves as they are, so ``publish`` and the server's writes (``sinlod.changes``) share them.

A graph outside any dataset (written over HTTP, or by a sinlod from before datasets) counts as a
dataset of its own, named by the graph.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from sinlod.config import Settings
from sinlod.errors import DatasetConflict, SourceLocation
from sinlod.sourcemap import SourceMap
from sinlod.store.graphs import data_graphs, dataset_of, is_data_graph
from sinlod.validate.findings import Finding
from sinlod.validate.render import compact
from sinlod.validate.rules import load_rules

SH = "http://www.w3.org/ns/shacl#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: A graph's name, ``None`` for the default graph.
GraphName = str | None
_Triples = Sequence[ox.Triple | ox.Quad]
#: New content per graph a write changes (named graphs only, or the default graph too).
Contents = Mapping[str, _Triples] | Mapping[GraphName, _Triples]


@dataclass(frozen=True)
class Overlap:
    """A thing the new data describes that another dataset describes too."""

    iri: str
    dataset: str  # the other dataset (a graph's IRI when that graph is in none)
    graph: str  # the other dataset's first graph that describes it
    locations: tuple[SourceLocation, ...]  # the new rows describing it
    graphs: tuple[str, ...] = ()  # every graph of that dataset that describes it

    def to_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "dataset": self.dataset,
            "graph": self.graph,
            "graphs": list(self.graphs or (self.graph,)),
            "locations": [str(loc) for loc in self.locations],
        }

    def __str__(self) -> str:
        where = ", ".join(str(loc) for loc in self.locations) or "(no source row)"
        graphs = ", ".join(f"<{g}>" for g in self.graphs or (self.graph,))
        return f"{where}: <{self.iri}> is also described by dataset {self.dataset} ({graphs})"


@dataclass(frozen=True)
class SingleValued:
    """A property that has one value (``per_language``: one per language tag) on instances of
    ``classes``, as a shape says; ``shape`` names the property shape for the finding."""

    predicate: str
    classes: frozenset[str]
    per_language: bool
    shape: str


def owner(graph: GraphName, base: str) -> str | None:
    """Whose a data graph is: its dataset, or the graph itself when it is in none; None for the
    default graph and sinlod's own graphs (ontology, vocabularies, reference tables)."""
    if graph is None or not is_data_graph(graph, base):
        return None
    return dataset_of(graph, base) or graph


def check_scope(dataset: str, graphs: Iterable[GraphName], base: str) -> None:
    """Raise ``DatasetConflict`` when a write for ``dataset`` would replace or remove a graph
    of another dataset (graphs of no dataset and sinlod's own graphs are not checked here)."""
    for graph in graphs:
        other = None if graph is None else dataset_of(graph, base)
        if other is not None and other != dataset:
            raise DatasetConflict(dataset, other, graph or "")


# -- overlaps --------------------------------------------------------------------------------


def overlaps(
    snapshot: ox.Store,
    contents: Contents,
    base: str,
    source_map: SourceMap | None = None,
) -> list[Overlap]:
    """Things the new content of data graphs describes (as subject) that a graph of another
    dataset, left as it is by this write, describes too; one entry per thing and other dataset,
    naming each of its graphs that describe the thing."""
    found: dict[tuple[str, str], Overlap] = {}
    if not _others(snapshot, contents, base):
        return []  # one dataset alone in the store (the usual publish): no look-up per thing
    for graph, triples in contents.items():
        mine = owner(graph, base)
        if mine is None:
            continue
        for subject in sorted({t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}):
            for other_graph in _graphs_describing(snapshot, subject, contents):
                theirs = owner(other_graph, base)
                if theirs is None or theirs == mine:
                    continue
                known = found.get((subject.value, theirs))
                if known is not None:
                    if other_graph not in known.graphs:
                        graphs = (*known.graphs, other_graph)
                        found[(subject.value, theirs)] = replace(known, graphs=graphs)
                    continue
                where = source_map.locate(str(subject)) if source_map is not None else []
                found[(subject.value, theirs)] = Overlap(
                    subject.value, theirs, other_graph, tuple(where), (other_graph,)
                )
    return sorted(found.values(), key=lambda o: (o.locations[:1], o.iri, o.dataset))


def _others(snapshot: ox.Store, contents: Contents, base: str) -> list[str]:
    """The data graphs a write leaves as they are: where other datasets can be."""
    return [g.value for g in data_graphs(snapshot, base) if g.value not in contents]


def _graphs_describing(snapshot: ox.Store, subject: ox.NamedNode, written: Contents) -> list[str]:
    graphs = {
        q.graph_name.value
        for q in snapshot.quads_for_pattern(subject, None, None, None)
        if isinstance(q.graph_name, ox.NamedNode)
    }
    return sorted(g for g in graphs if g not in written)


# -- contradictions --------------------------------------------------------------------------

_rules_lock = threading.Lock()
_rules_cache: dict[tuple[tuple[str, int, int], ...], list[SingleValued]] = {}


def single_valued(settings: Settings) -> list[SingleValued]:
    """The single-valued properties the shapes declare, per class and its subclasses in the
    ontology, as SHACL's ``sh:targetClass`` reaches them (cached per shape and ontology file)."""
    files = [*settings.shape_files(), settings.ontology_file]
    key = tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else (str(p), 0, 0)
        for p in files
    )
    with _rules_lock:
        if key not in _rules_cache:
            _rules_cache[key] = _read_single_valued(files)
        return _rules_cache[key]


_SINGLE = """
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?shape ?path ?class ?max ?unique WHERE {
  ?node sh:targetClass ?target ; sh:property ?shape .
  ?class rdfs:subClassOf* ?target .
  ?shape sh:path ?path .
  OPTIONAL { ?shape sh:maxCount ?max }
  OPTIONAL { ?shape sh:uniqueLang ?unique }
  FILTER (isIRI(?path) && (?max = 1 || ?unique = true))
}
"""


def _read_single_valued(files: Sequence[Path]) -> list[SingleValued]:
    shapes = ox.Store()
    for path in files:
        if path.is_file():
            shapes.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE)
    classes: dict[tuple[str, str, bool], set[str]] = defaultdict(set)
    result = shapes.query(_SINGLE)
    assert isinstance(result, ox.QuerySolutions)
    for row in result:
        per_language = row["max"] is None  # maxCount 1 is stricter than uniqueLang
        shape = row["shape"]
        name = shape.value if isinstance(shape, ox.NamedNode) else f"{row['path'].value}"
        classes[(row["path"].value, name, per_language)].add(row["class"].value)
    return [
        SingleValued(path, frozenset(found), per_language, shape)
        for (path, shape, per_language), found in sorted(classes.items())
    ]


def contradictions(
    snapshot: ox.Store,
    contents: Contents,
    settings: Settings,
    source_map: SourceMap | None = None,
) -> list[Finding]:
    """Violations where the new content of a data graph gives a single-valued property of a thing
    a value that differs from the one a graph of another dataset (left as it is) gives it."""
    rules = single_valued(settings)
    if not rules or not _others(snapshot, contents, settings.base_iri):
        return []
    by_predicate: dict[str, list[SingleValued]] = defaultdict(list)
    for rule in rules:
        by_predicate[rule.predicate].append(rule)
    base = settings.base_iri
    prefixes = load_rules(settings).prefixes
    findings: dict[tuple[str, str, str, str], Finding] = {}
    for graph, triples in contents.items():
        mine = owner(graph, base)
        if mine is None:
            continue
        new_types = _types(triples)
        for t in triples:
            if not isinstance(t.subject, ox.NamedNode) or t.predicate.value not in by_predicate:
                continue
            for q in snapshot.quads_for_pattern(t.subject, t.predicate, None, None):
                other = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else None
                theirs = owner(other, base)
                if theirs is None or theirs == mine or other in contents or q.object == t.object:
                    continue
                types = new_types.get(t.subject.value, set()) | _stored_types(snapshot, t.subject)
                broken = _applies(by_predicate[t.predicate.value], types, t.object, q.object)
                if broken is None:
                    continue
                key = (t.subject.value, t.predicate.value, str(t.object), other or "")
                findings[key] = _finding(t, q, broken, theirs, other or "", source_map, prefixes)
    return list(findings.values())


def _types(triples: Iterable[ox.Triple | ox.Quad]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for t in triples:
        if t.predicate == _RDF_TYPE and isinstance(t.subject, ox.NamedNode):
            if isinstance(t.object, ox.NamedNode):
                out[t.subject.value].add(t.object.value)
    return out


def _stored_types(snapshot: ox.Store, subject: ox.NamedNode) -> set[str]:
    quads = snapshot.quads_for_pattern(subject, _RDF_TYPE, None)
    return {q.object.value for q in quads if isinstance(q.object, ox.NamedNode)}


def _applies(
    rules: Sequence[SingleValued], types: set[str], new: Any, old: Any
) -> SingleValued | None:
    """The rule that makes ``new`` and ``old`` contradict on a thing of ``types``, if any."""
    for rule in rules:
        if not rule.classes & types:
            continue
        if not rule.per_language:
            return rule
        if (
            isinstance(new, ox.Literal)
            and isinstance(old, ox.Literal)
            and new.language is not None
            and new.language == old.language
        ):
            return rule
    return None


def _finding(
    t: ox.Triple | ox.Quad,
    q: ox.Quad,
    rule: SingleValued,
    dataset: str,
    graph: str,
    source_map: SourceMap | None,
    prefixes: dict[str, str],
) -> Finding:
    where = (
        source_map.locate(str(t.subject), str(t.predicate), str(t.object))
        if source_map is not None
        else []
    )
    one = "one value per language" if rule.per_language else "one value"
    component = "UniqueLang" if rule.per_language else "MaxCount"
    return Finding(
        severity="Violation",
        message=(
            f"contradicts dataset {dataset} (graph <{graph}>), which gives {q.object};"
            f" the shapes allow {one}"
        ),
        focus=t.subject.value,  # type: ignore[union-attr]
        path=t.predicate.value,
        value=str(t.object),
        source_shape=compact(prefixes, rule.shape),
        constraint=compact(prefixes, f"{SH}{component}ConstraintComponent"),
        locations=tuple(where),
    )
