"""A store's history for a steward: compare two releases, go back to one, restore a dump.

The library behind ``sinlod diff``, ``sinlod rollback`` and ``sinlod restore`` (issue 11). Each
release is a snapshot; the newest are kept (``sinlod.store.history``), and those can be compared
and rolled back to. Nothing here rewrites history: a rollback and a restore into published data
are new releases, recorded in the release log with who, when and why (``message``), and the log
only grows.

A diff is ``sinlod.change_summary`` over the two releases' quads (per graph, per thing, the exact
quads), printed three ways besides the summary:

- ``render_nq``: the removed quads, then the added ones, each an N-Quads line after ``- `` or
  ``+ `` (``grep '^+ ' | cut -c3-`` gives the added quads as N-Quads);
- ``render_patch``: an RDF Patch (https://afs.github.io/rdf-patch/): ``H id`` the newer release,
  ``H prev`` the older, then in one ``TX``/``TC`` transaction a ``D`` line per removed quad and an
  ``A`` line per added one. Applied to the older release's quads it gives the newer's exactly;
- ``ReleaseDiff.to_json``: the summary's stable shape plus ``from`` and ``to``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from sinlod.change_summary import ChangeSummary, GraphChange, ThingChange, classify
from sinlod.errors import InputError
from sinlod.store import (
    FileInfo,
    Release,
    ReleaseInfo,
    ReleaseNotKept,
    current_fingerprints,
    release_iri,
)
from sinlod.store.backend import StoreBackend
from sinlod.store.history import graph_names


@dataclass(frozen=True)
class ReleaseDiff:
    """What changed from release ``old`` to release ``new``."""

    old: str
    new: str
    summary: ChangeSummary

    def to_json(self) -> dict[str, Any]:
        return {"from": self.old, "to": self.new, **self.summary.to_json()}


def default_pair(store: StoreBackend) -> tuple[str, str]:
    """The previous kept release and the current one: what ``sinlod diff`` compares by default.

    Raises ``ReleaseNotKept`` when fewer than two releases can be read.
    """
    kept = store.kept_releases()
    if len(kept) < 2:
        raise ReleaseNotKept(
            "there is no earlier release to compare with; releases that can be read: "
            + (", ".join(kept) or "none"),
            kept,
        )
    return kept[-2], kept[-1]


def diff_releases(
    store: StoreBackend, old: str | None = None, new: str | None = None
) -> ReleaseDiff:
    """The difference between two kept releases (ids or unique prefixes). Without ``old``: the
    release before the current one; without ``new``: the current one.

    Raises ``ReleaseNotKept`` for an unknown release or one whose data was pruned.
    """
    if old is None:
        old, current = default_pair(store)
        new = new or current
    elif new is None:
        new = store.kept_releases()[-1] if store.kept_releases() else ""
    with store.at_release(old) as a, store.at_release(new) as b:
        assert a.release_id is not None and b.release_id is not None
        return ReleaseDiff(a.release_id, b.release_id, summarise_snapshots(a.oxigraph, b.oxigraph))


def summarise_snapshots(old: ox.Store, new: ox.Store) -> ChangeSummary:
    """``change_summary.summarise_stores(old, new)``, the same summary, computed the fast way
    for two snapshots: each graph is compared as the N-Triples Oxigraph writes (in Rust; one
    line per triple, one text per term), as a whole and, when it differs, line by line; only
    the lines added or removed become quads again. The things touched are then looked up by
    subject in both snapshots (every graph, as ``summarise`` does). Python never holds every
    quad as an object (``bench/history.py``; the same answers: ``tests/test_history.py``).
    """
    names: list[str | None] = [None, *sorted(set(graph_names(old)) | set(graph_names(new)))]
    graphs, added, removed = [], set(), set()
    for graph in names:
        name: ox.NamedNode | ox.DefaultGraph = (
            ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        )
        dumped = [s.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name) or b"" for s in (old, new)]
        if dumped[0] == dumped[1]:
            if count := dumped[0].count(b"\n"):  # one line per triple: N-Triples escapes LF
                graphs.append(GraphChange(graph, count, count, 0, 0))
            continue
        was, now = (set(d.split(b"\n")) - {b""} for d in dumped)
        plus, minus = now - was, was - now
        if was or now:
            graphs.append(GraphChange(graph, len(was), len(now), len(plus), len(minus)))
        added |= _quads(plus, name)
        removed |= _quads(minus, name)
    return ChangeSummary(
        tuple(graphs),
        _things(old, new, added | removed),
        tuple(sorted(added, key=str)),
        tuple(sorted(removed, key=str)),
    )


def _quads(lines: set[bytes], graph: ox.NamedNode | ox.DefaultGraph) -> set[ox.Quad]:
    """N-Triples lines as quads in ``graph`` (blank-node labels kept as written)."""
    if not lines:
        return set()
    parsed = ox.parse(b"\n".join(lines) + b"\n", ox.RdfFormat.N_TRIPLES)
    return {ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed}


def _things(old: ox.Store, new: ox.Store, changed: set[ox.Quad]) -> tuple[ThingChange, ...]:
    """Each subject IRI of a changed quad: added, removed or changed, with the predicates whose
    triples differ, its triples read from every graph (``change_summary._things``' rules)."""
    out = []
    for iri in sorted({q.subject.value for q in changed if isinstance(q.subject, ox.NamedNode)}):
        subject = ox.NamedNode(iri)
        was, now = (
            {q.triple for q in s.quads_for_pattern(subject, None, None, None)} for s in (old, new)
        )
        thing = classify(iri, was, now)
        if thing is not None:
            out.append(thing)
    return tuple(out)


def _lines(quads: tuple[ox.Quad, ...]) -> list[str]:
    """One N-Quads line per quad. Split on LF alone: N-Quads escapes CR and LF in literals but
    not U+2028, U+0085 and the like, which ``str.splitlines`` would also split on."""
    text = (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").decode("utf-8")
    return text.split("\n")[:-1]


def render_nq(diff: ReleaseDiff) -> str:
    """The exact quads: ``- `` before each removed one, then ``+ `` before each added one."""
    lines = [f"- {line}" for line in _lines(diff.summary.removed_quads)]
    lines += [f"+ {line}" for line in _lines(diff.summary.added_quads)]
    return "".join(line + "\n" for line in lines)


def render_patch(diff: ReleaseDiff, base_iri: str) -> str:
    """An RDF Patch from release ``old`` to release ``new`` (see the module docstring).

    >>> s, p = ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p")
    >>> from sinlod.change_summary import summarise
    >>> change = summarise([ox.Quad(s, p, ox.Literal("a"))], [ox.Quad(s, p, ox.Literal("b"))])
    >>> print(render_patch(ReleaseDiff("000001-a", "000002-b", change), "https://x/"), end="")
    H id <https://x/release/000002-b> .
    H prev <https://x/release/000001-a> .
    TX .
    D <http://e/s> <http://e/p> "a" .
    A <http://e/s> <http://e/p> "b" .
    TC .
    """
    lines = [
        f"H id <{release_iri(base_iri, diff.new)}> .",
        f"H prev <{release_iri(base_iri, diff.old)}> .",
        "TX .",
    ]
    lines += [f"D {line}" for line in _lines(diff.summary.removed_quads)]
    lines += [f"A {line}" for line in _lines(diff.summary.added_quads)]
    lines.append("TC .")
    return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class Rollback:
    """A rollback: the release whose data came back (``target``), the release recorded for it
    (None when the data already was that release's: nothing was written) and what it changed."""

    target: str
    release: Release | None
    summary: ChangeSummary


def rollback(
    store: StoreBackend, release_id: str, *, agent: str | None = None, message: str | None = None
) -> Rollback:
    """Publish the data of a kept release again as a new release (``Store.rollback``), recorded
    with ``agent`` (default: the user), ``message`` (why) and which release it went back to.

    The release lists, for each graph it changes, the file that graph's data came from as of
    that release, with its fingerprint: publishing those same files afterwards is then "nothing
    changed", as it would have been then (``publish`` skips a source by fingerprint).

    Raises ``ReleaseNotKept`` for an unknown release or one whose data was pruned.
    """
    from sinlod.publish import default_agent

    with store.at_release(release_id) as target:
        assert target.release_id is not None
        found = target.release_id
        summary = summarise_snapshots(store.oxigraph, target.oxigraph)
    logged = store.releases()
    ids = [r.id for r in logged]
    then = logged[: ids.index(found) + 1] if found in ids else []
    changed = {g.graph for g in summary.graphs if g.added or g.removed}
    info = ReleaseInfo(
        agent=agent or default_agent(),
        files=_files_as_of(then, changed),
        comment=_why(message, f"rollback to release {found}"),
    )
    recorded = store.rollback(found, release=info) if summary else None
    return Rollback(found, recorded, summary)


@dataclass(frozen=True)
class Restored:
    """A restore: the quads the dump held, and the release recorded for it (None into an empty
    store, which takes the dump's log as it is, and when the dump changed nothing)."""

    quads: int
    release: Release | None


def restore(
    store: StoreBackend, dump: Path, *, agent: str | None = None, message: str | None = None
) -> Restored:
    """Restore a whole-store dump (``Store.restore``); into published data the restore is a
    release of its own, with the dump file and its SHA-256, ``agent`` and ``message``."""
    from sinlod.publish import default_agent, sha256_file

    if not dump.is_file():
        raise InputError(f"{dump}: no such file")
    before = store.release_id
    info = ReleaseInfo(
        agent=agent or default_agent(),
        files=[FileInfo(str(dump), sha256_file(dump), role="dump")],
        comment=_why(message, f"restore from {dump.name}"),
    )
    count = store.restore(dump, release=info)
    recorded = None
    if before is not None and store.release_id != before:
        recorded = next((r for r in store.releases() if r.id == store.release_id), None)
    return Restored(count, recorded)


def _files_as_of(releases: Sequence[Release], graphs: set[str | None]) -> list[FileInfo]:
    """For each of ``graphs``, the file its data came from after ``releases`` (the last release
    that published it with the fingerprint still valid then), if any."""
    known = current_fingerprints(releases)
    found: dict[str, FileInfo] = {}
    for release in releases:
        for f in release.files:
            graph = f.graph
            if graph in graphs and graph and f.fingerprint and known.get(graph) == f.fingerprint:
                found[graph] = f
    return [found[g] for g in sorted(found)]


def _why(message: str | None, what: str) -> str:
    """The release's comment: the steward's reason, then what was done."""
    return f"{message} ({what})" if message else what
