"""Past releases: which ones can still be read, and which graphs differ between two snapshots.

Each release is a snapshot directory named by its id (``layout.py``); the newest few are kept
(``KEEP_SNAPSHOTS`` besides the current one, and any a reader has pinned), older ones are pruned.
A kept snapshot can be read as it was (``Store.at_release``), compared with another
(``sinlod.history``) and brought back as a new release (``Store.rollback``). The release log,
by contrast, keeps every release ever recorded: only the data of old releases goes.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from sinlod.errors import StoreError


class ReleaseNotKept(StoreError):
    """A release asked for by id whose data cannot be read: unknown, or its snapshot was pruned.

    ``kept`` lists the releases that can be read (oldest first), so the message can say which.
    """

    def __init__(self, message: str, kept: Sequence[str]) -> None:
        super().__init__(message)
        self.kept = list(kept)


def resolve_release(wanted: str, logged: Sequence[str], kept: Sequence[str]) -> str:
    """The id of the kept release ``wanted`` names: its id, or a prefix of exactly one id
    (``000003`` for ``000003-3f9a1c2e``).

    Raises ``ReleaseNotKept`` for an id the release log does not know, an ambiguous prefix, or a
    release whose snapshot was pruned, naming the releases that are kept.

    >>> resolve_release("000002", ["000001-aa", "000002-bb"], ["000001-aa", "000002-bb"])
    '000002-bb'
    >>> resolve_release("000001", ["000001-aa", "000002-bb"], ["000002-bb"])
    Traceback (most recent call last):
    ...
    sinlod.store.history.ReleaseNotKept: release 000001-aa: its data was pruned (only the newest \
snapshots are kept); releases that can be read: 000002-bb
    """
    known = list(dict.fromkeys([*logged, *kept]))
    matches = [r for r in known if r == wanted] or [r for r in known if r.startswith(wanted)]
    readable = ", ".join(kept) or "none"
    if not wanted or not matches:
        raise ReleaseNotKept(
            f"no release {wanted!r} in the release log; releases that can be read: {readable}",
            kept,
        )
    if len(matches) > 1:
        raise ReleaseNotKept(
            f"{wanted!r} names {len(matches)} releases ({', '.join(matches[:5])}); "
            "give more of the id",
            kept,
        )
    found = matches[0]
    if found not in kept:
        raise ReleaseNotKept(
            f"release {found}: its data was pruned (only the newest snapshots are kept); "
            f"releases that can be read: {readable}",
            kept,
        )
    return found


def graph_names(store: ox.Store) -> list[str]:
    return sorted(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode))


def _same(old: ox.Store, new: ox.Store, graph: str | None) -> bool:
    """Whether one graph holds the same quads in both stores.

    Each graph as N-Triples written by Oxigraph (in Rust: one line per triple, one text per
    term; much faster than sets of Python quads, bench/history.py): equal bytes are equal
    quads. Oxigraph writes a graph on disk in index order, the same for the same quads; in
    memory the order can follow insertion, so bytes that differ are compared as sets of lines.
    """
    name: ox.NamedNode | ox.DefaultGraph = (
        ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    )
    dumped = [s.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name) or b"" for s in (old, new)]
    if dumped[0] == dumped[1]:
        return True
    lines = [set(d.split(b"\n")) for d in dumped]
    del dumped
    if lines[0] == lines[1]:
        return True
    if len(lines[0]) != len(lines[1]) or not any(b"_:" in line for line in lines[0]):
        return False  # no blank node (a literal may hold "_:": then only a little slower)
    quads = [set(s.quads_for_pattern(None, None, None, name)) for s in (old, new)]
    # A restore bulk-loads, which gives blank nodes new labels (the ontology's OWL lists): the
    # same graph up to those labels is the same graph (RDF 1.1 graph isomorphism).
    same = [ox.Dataset(q) for q in quads]
    for dataset in same:
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return same[0] == same[1]


def differing_graphs(old: ox.Store, new: ox.Store) -> list[str] | None:
    """The named graphs whose quads differ between two snapshots (present in one only counts),
    sorted; None when the default graph differs (a release then says "any graph changed").

    Graphs are compared as RDF graphs: blank nodes by their label first, and when the labels
    differ (a restore relabels them), up to isomorphism.
    """
    if not _same(old, new, None):
        return None
    names = sorted(set(graph_names(old)) | set(graph_names(new)))
    return [g for g in names if not _same(old, new, g)]
