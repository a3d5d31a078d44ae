"""What each write did to each thing, kept per release for the change feed (``sinlod.ldes``).

A harvester that follows the feed must end with the data as it is now, and the feed must not
need every old snapshot: snapshots are pruned (``layout.KEEP_SNAPSHOTS``). So the one moment a
write's effect on each thing is known cheaply, the write itself (the snapshot before and the one
being built are both open), records it:

- a *thing* is an IRI that is the subject of triples in the data graphs (the default graph and
  every named graph but the ontology, vocabularies and reference tables, ``graphs.is_data_graph``);
  its *state* is its triples in the union of those graphs, with the blank nodes it reaches;
- a write *touches* a thing when a quad about it (or about a blank node it reaches) differs
  between the two snapshots, in the graphs the write replaced (all graphs for a SPARQL update);
- a touched thing whose state differs (blank-node labels aside) becomes one *version*: created
  (no state before), updated, or deleted (no state after). A triple moved from one graph to
  another changes no state, so it makes no version.

The versions of release ``R`` are files beside the snapshots, written before ``CURRENT`` names
the snapshot (so a published release always has them) and never pruned::

    var/store/versions/R/1.nq, 2.nq, …   PAGE_SIZE versions each, things in IRI order

Each file is N-Quads: per thing, one quad ``<thing> rdf:type as:Create|as:Update|as:Delete``
in the graph ``KIND_GRAPH``, then the thing's state in the graph named by the thing (nothing for
a deletion). A release without a folder (written before this existed, or restored from a dump)
has no versions; the first write after such a release writes a *baseline*: every thing of the
new state (created or updated) and a deletion for every thing the old state had and the new one
has not, so that a harvester that starts there, or that was in step before, ends in step.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from sinlod.store.graphs import is_data_graph

#: Versions per file, and so per page of the feed: small enough for a harvester to fetch often,
#: large enough that a first publish of ten thousand things is forty requests.
PAGE_SIZE = 250
AS = "https://www.w3.org/ns/activitystreams#"
CREATE, UPDATE, DELETE = "Create", "Update", "Delete"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: The graph of the kind quads inside a versions file (never a graph of the store).
KIND_GRAPH = ox.NamedNode("urn:x-sinlod:version-kinds")
BUILDING_PREFIX = "building-"
#: The folder of the versions inside the store directory.
FOLDER = "versions"
#: Blank nodes nested deeper than this under a thing are not followed (a guard against cycles).
MAX_DEPTH = 16

Graph = ox.NamedNode | ox.BlankNode | ox.DefaultGraph


@dataclass(frozen=True)
class ThingVersion:
    """One thing's new state after a release (``triples``; empty for a deletion)."""

    thing: str
    kind: str
    triples: tuple[ox.Triple, ...] = ()


# -- what a write did ---------------------------------------------------------------------------


def thing_versions(
    before: ox.Store | None,
    after: ox.Store,
    changed: Sequence[str] | None,
    base: str,
    *,
    baseline: bool = False,
) -> list[ThingVersion]:
    """The versions a write makes, in thing IRI order: ``before`` is the published snapshot (None
    for an empty store), ``after`` the snapshot the write built, ``changed`` the graphs it
    replaced (None: any). With ``baseline``, every thing of ``after`` and every thing only
    ``before`` has, whether it changed or not.

    >>> g, s = ox.NamedNode("https://w3id.org/sinlod/graph/d/t"), ox.NamedNode("http://e/s")
    >>> new = ox.Store()
    >>> new.add(ox.Quad(s, ox.NamedNode("http://e/p"), ox.Literal("1"), g))
    >>> [(v.thing, v.kind) for v in thing_versions(None, new, None, "https://w3id.org/sinlod/")]
    [('http://e/s', 'Create')]
    """
    old = before if before is not None else ox.Store()
    if baseline:
        things = _subjects(old, base) | _subjects(after, base)
    else:
        things = _touched(old, after, changed, base)
    out = []
    for thing in sorted(things):
        node = ox.NamedNode(thing)
        was, now = _state(old, node, base), _state(after, node, base)
        if not now and not was:
            continue
        if not now:
            out.append(ThingVersion(thing, DELETE))
        elif not was:
            out.append(ThingVersion(thing, CREATE, tuple(now)))
        elif baseline or _canonical(was) != _canonical(now):
            out.append(ThingVersion(thing, UPDATE, tuple(now)))
    return out


def _data_graphs(store: ox.Store, base: str) -> list[Graph]:
    graphs: list[Graph] = [ox.DefaultGraph()]
    return graphs + [
        g
        for g in store.named_graphs()
        if not isinstance(g, ox.NamedNode) or is_data_graph(g.value, base)
    ]


def _subjects(store: ox.Store, base: str) -> set[str]:
    found: set[str] = set()
    for g in _data_graphs(store, base):
        found.update(
            q.subject.value
            for q in store.quads_for_pattern(None, None, None, g)
            if isinstance(q.subject, ox.NamedNode)
        )
    return found


def _touched(old: ox.Store, new: ox.Store, changed: Sequence[str] | None, base: str) -> set[str]:
    """Things with a triple that differs in a graph the write replaced, directly or through the
    blank nodes they reach (blank-node labels aside: a graph reloaded from its file gets new
    ones).

    Each graph is compared as N-Triples lines that Oxigraph writes (in Rust, fast) rather than
    as Python quads: only the lines that differ are parsed (bench/ldes.py has the figures)."""
    if changed is None:
        unique = {_key(g): g for g in (*_data_graphs(old, base), *_data_graphs(new, base))}
        selected = [unique[k] for k in sorted(unique)]
    else:
        selected = [ox.NamedNode(name) for name in changed if is_data_graph(name, base)]
    things: set[str] = set()
    for g in selected:
        was, now = _lines(old, g), _lines(new, g)
        if was == now:
            continue
        plain = [line for line in was ^ now if b"_:" not in line]
        if plain:
            triples = ox.parse(b"\n".join(plain), ox.RdfFormat.N_TRIPLES)
            things.update(q.subject.value for q in triples if isinstance(q.subject, ox.NamedNode))
        blank_was = {line for line in was if b"_:" in line}
        blank_now = {line for line in now if b"_:" in line}
        if not blank_was or not blank_now:  # only one side has any: all its things changed
            side = blank_was or blank_now
            things |= _blank_roots(old if blank_was else new, side)
        elif blank_was != blank_now:
            things |= _blank_changes(old, new, blank_was, blank_now)
    return things


def _lines(store: ox.Store, g: Graph) -> set[bytes]:
    if isinstance(g, ox.NamedNode | ox.BlankNode) and not store.contains_named_graph(g):
        return set()
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) or b""
    return set(data.splitlines())


def _blank_changes(
    old: ox.Store, new: ox.Store, blank_was: set[bytes], blank_now: set[bytes]
) -> set[str]:
    """Things whose blank-node trees (in one graph, before and after) differ other than by
    labels; for trees no thing of the graph reaches, the things that reach them anywhere."""
    before, orphans_before = _trees(blank_was)
    after, orphans_after = _trees(blank_now)
    things = {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)}
    if sorted(orphans_before.values()) != sorted(orphans_after.values()):
        for store, orphans in ((old, orphans_before), (new, orphans_after)):
            for node in orphans:
                things |= _referrers(store, node)
    return things


def _parse_blank(
    lines: set[bytes],
) -> tuple[dict[str, list[ox.Triple]], dict[ox.BlankNode, list[ox.Triple]], set[ox.BlankNode]]:
    """N-Triples lines with blank nodes: the things' triples, the blank nodes' triples, and
    which blank nodes the things reach."""
    triples = [q.triple for q in ox.parse(b"\n".join(sorted(lines)), ox.RdfFormat.N_TRIPLES)]
    by_subject: dict[ox.BlankNode, list[ox.Triple]] = {}
    roots: dict[str, list[ox.Triple]] = {}
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            by_subject.setdefault(t.subject, []).append(t)
        elif isinstance(t.subject, ox.NamedNode):
            roots.setdefault(t.subject.value, []).append(t)
    reached: set[ox.BlankNode] = set()
    todo = [t.object for ts in roots.values() for t in ts if isinstance(t.object, ox.BlankNode)]
    while todo:
        node = todo.pop()
        if node not in reached:
            reached.add(node)
            more = by_subject.get(node, ())
            todo += [t.object for t in more if isinstance(t.object, ox.BlankNode)]
    return roots, by_subject, reached


def _blank_roots(store: ox.Store, lines: set[bytes]) -> set[str]:
    """Every thing these lines are about, and the things that reach their other blank nodes."""
    roots, by_subject, reached = _parse_blank(lines)
    things = set(roots)
    for node in by_subject.keys() - reached:
        things |= _referrers(store, node)
    return things


def _trees(lines: set[bytes]) -> tuple[dict[str, frozenset[str]], dict[ox.BlankNode, str]]:
    """Per thing, its triples with blank-node objects written out as trees (``_canonical``);
    and the blank nodes that no thing here reaches, each as its tree."""
    roots, by_subject, reached = _parse_blank(lines)
    trees = {thing: _canonical(ts + _closure(ts, by_subject)) for thing, ts in roots.items()}
    orphans = {
        node: str(
            sorted(_canonical([ox.Triple(_ORPHAN, _ORPHAN, node), *ts, *_closure(ts, by_subject)]))
        )
        for node, ts in by_subject.items()
        if node not in reached
    }
    return trees, orphans


#: Stands for "whatever reaches it" when a blank node's tree is written out on its own.
_ORPHAN = ox.NamedNode("urn:x-sinlod:orphan")


def _closure(
    triples: list[ox.Triple], by_subject: dict[ox.BlankNode, list[ox.Triple]]
) -> list[ox.Triple]:
    out: list[ox.Triple] = []
    seen: set[ox.BlankNode] = set()
    todo = [t.object for t in triples if isinstance(t.object, ox.BlankNode)]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        more = by_subject.get(node, [])
        out += more
        todo += [t.object for t in more if isinstance(t.object, ox.BlankNode)]
    return out


def _key(g: Graph) -> str:
    return "" if isinstance(g, ox.DefaultGraph) else str(g)


def _referrers(store: ox.Store, node: ox.BlankNode) -> set[str]:
    """The things that reach the blank node ``node`` (walking up through other blank nodes)."""
    found: set[str] = set()
    seen = {node}
    todo = [node]
    while todo:
        current = todo.pop()
        for quad in store.quads_for_pattern(None, None, current, None):
            if isinstance(quad.subject, ox.NamedNode):
                found.add(quad.subject.value)
            elif isinstance(quad.subject, ox.BlankNode) and quad.subject not in seen:
                seen.add(quad.subject)
                todo.append(quad.subject)
    return found


def _state(store: ox.Store, thing: ox.NamedNode, base: str) -> list[ox.Triple]:
    """``thing``'s triples in the union of the data graphs, then those of the blank nodes it
    reaches (each once), in a stable order."""
    triples = _union(store, thing, base)
    seen: set[ox.BlankNode] = set()
    todo = [(o, 1) for o in (t.object for t in triples) if isinstance(o, ox.BlankNode)]
    while todo:
        node, depth = todo.pop()
        if node in seen or depth > MAX_DEPTH:
            continue
        seen.add(node)
        more = _union(store, node, base)
        triples += more
        todo += [(t.object, depth + 1) for t in more if isinstance(t.object, ox.BlankNode)]
    return triples


def _union(store: ox.Store, subject: ox.NamedNode | ox.BlankNode, base: str) -> list[ox.Triple]:
    found = set()
    for q in store.quads_for_pattern(subject, None, None, None):
        g = q.graph_name
        if not isinstance(g, ox.NamedNode) or is_data_graph(g.value, base):
            found.add(q.triple)
    return sorted(found, key=str)


def _canonical(triples: Iterable[ox.Triple]) -> frozenset[str]:
    """A state as text that ignores blank-node labels: a blank node is written as the sorted
    description of its own triples (the states compared are trees of blank nodes under IRIs)."""
    by_subject: dict[ox.BlankNode, list[ox.Triple]] = {}
    roots = []
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            by_subject.setdefault(t.subject, []).append(t)
        else:
            roots.append(t)

    def term(o: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, depth: int) -> str:
        if isinstance(o, ox.BlankNode) and depth <= MAX_DEPTH:
            inner = sorted(
                f"{t.predicate} {term(t.object, depth + 1)}" for t in by_subject.get(o, ())
            )
            return "[" + " ; ".join(inner) + "]"
        return str(o)

    return frozenset(f"{t.subject} {t.predicate} {term(t.object, 1)}" for t in roots)


# -- the files ----------------------------------------------------------------------------------


def encode(versions: Sequence[ThingVersion]) -> list[bytes]:
    """The files of one release: ``PAGE_SIZE`` versions each, at least one (maybe empty)."""
    parts = []
    for start in range(0, max(len(versions), 1), PAGE_SIZE):
        quads: list[ox.Quad] = []
        for v in versions[start : start + PAGE_SIZE]:
            node = ox.NamedNode(v.thing)
            quads.append(ox.Quad(node, RDF_TYPE, ox.NamedNode(AS + v.kind), KIND_GRAPH))
            quads += [ox.Quad(t.subject, t.predicate, t.object, node) for t in v.triples]
        parts.append(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    return parts


def decode(data: bytes) -> list[ThingVersion]:
    """The versions of one file, in the order written."""
    order: list[tuple[str, str]] = []
    states: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(data, ox.RdfFormat.N_QUADS):
        if quad.graph_name == KIND_GRAPH:
            thing = quad.subject.value
            order.append((thing, quad.object.value.removeprefix(AS)))
            states[thing] = []
        else:
            assert isinstance(quad.graph_name, ox.NamedNode)
            states[quad.graph_name.value].append(quad.triple)
    return [ThingVersion(thing, kind, tuple(states[thing])) for thing, kind in order]


class VersionFiles:
    """The versions of each release: files under ``root`` (``versions/`` of the store), or in
    memory when ``root`` is None (an in-memory store)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._memory: dict[str, list[bytes]] = {}
        #: Pages per release and versions per page, once counted: a published release's files
        #: never change (and one without files never gets any), so they are remembered.
        self._pages: dict[str, int] = {}
        self._sizes: dict[tuple[str, int], int] = {}

    def pages(self, release_id: str) -> int:
        """How many files release ``release_id`` has; 0 when it has no versions recorded.
        Ask only about releases of a published log (a release being built is not counted)."""
        if self.root is None:
            return len(self._memory.get(release_id, ()))
        known = self._pages.get(release_id)
        if known is not None:
            return known
        folder = self.root / release_id
        count = 0
        if "/" not in release_id and not release_id.startswith(".") and folder.is_dir():
            count = sum(1 for p in folder.iterdir() if p.suffix == ".nq" and p.stem.isdigit())
        self._pages[release_id] = count
        return count

    def read(self, release_id: str, page: int) -> list[ThingVersion]:
        """The versions in file ``page`` (1-based) of ``release_id``."""
        if self.root is None:
            found = decode(self._memory[release_id][page - 1])
        else:
            found = decode((self.root / release_id / f"{page}.nq").read_bytes())
        self._sizes[(release_id, page)] = len(found)
        return found

    def size(self, release_id: str, page: int) -> int:
        """How many versions file ``page`` of ``release_id`` holds."""
        known = self._sizes.get((release_id, page))
        return known if known is not None else len(self.read(release_id, page))

    def prepare(self, release_id: str, parts: Sequence[bytes]) -> None:
        """Write the files of a release being built (invisible under their final name until
        ``publish``). Call with the store's write lock held."""
        if self.root is None:
            self._memory[BUILDING_PREFIX + release_id] = list(parts)
            return
        folder = self.root / (BUILDING_PREFIX + release_id)
        folder.mkdir(parents=True, exist_ok=True)
        for n, data in enumerate(parts, start=1):
            (folder / f"{n}.nq").write_bytes(data)

    def publish(self, release_id: str) -> None:
        """Give the prepared files their final name (before ``CURRENT`` names the snapshot: a
        release the log names always has them; files of a write killed after this are never
        read, since no log names their release)."""
        if self.root is None:
            self._memory[release_id] = self._memory.pop(BUILDING_PREFIX + release_id)
            return
        (self.root / (BUILDING_PREFIX + release_id)).rename(self.root / release_id)

    def forget(self, release_id: str) -> None:
        """Undo ``prepare``/``publish`` for a write that failed."""
        for name in (BUILDING_PREFIX + release_id, release_id):
            if self.root is None:
                self._memory.pop(name, None)
            else:
                shutil.rmtree(self.root / name, ignore_errors=True)

    def remove_abandoned(self) -> None:
        """Delete files of builds left by killed writes. Call with the write lock held."""
        if self.root is not None and self.root.is_dir():
            for path in self.root.glob(BUILDING_PREFIX + "*"):
                shutil.rmtree(path, ignore_errors=True)
