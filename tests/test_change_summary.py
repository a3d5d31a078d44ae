"""The change summary (issue 11): per graph and per thing, for dry runs, diffs and previews."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from hypothesis import given
from hypothesis import strategies as st

from sinlod.change_summary import summarise, summarise_contents

E = "http://e/"
subjects = st.sampled_from([ox.NamedNode(E + s) for s in "abc"] + [ox.BlankNode("b1")])
predicates = st.sampled_from([ox.NamedNode(E + p) for p in ("p", "q")])
objects = st.sampled_from([ox.Literal("1"), ox.Literal("2"), ox.NamedNode(E + "a")])
graphs = st.sampled_from([ox.NamedNode(E + "g1"), ox.NamedNode(E + "g2"), ox.DefaultGraph()])
quads = st.builds(ox.Quad, subjects, predicates, objects, graphs)
quad_sets = st.sets(quads, max_size=12)


def facts(quads: set[ox.Quad], iri: str) -> set[ox.Triple]:
    return {q.triple for q in quads if q.subject == ox.NamedNode(iri)}


@given(quad_sets, quad_sets)
def test_the_summary_is_exactly_the_set_difference(old: set[ox.Quad], new: set[ox.Quad]) -> None:
    summary = summarise(old, new)
    assert set(summary.added_quads) == new - old
    assert set(summary.removed_quads) == old - new
    assert sum(g.added for g in summary.graphs) == len(new - old)
    assert sum(g.removed for g in summary.graphs) == len(old - new)
    for g in summary.graphs:
        assert g.after - g.before == g.added - g.removed
    assert bool(summary) == (old != new)
    listed = {t.iri: t for t in summary.things}
    for iri in (E + s for s in "abc"):
        was, now = facts(old, iri), facts(new, iri)
        if was == now:
            assert iri not in listed  # facts moved between graphs do not change the thing
            continue
        thing = listed[iri]
        expected = "added" if not was else "removed" if not now else "changed"
        assert thing.change == expected
        assert set(thing.properties) == {t.predicate.value for t in was ^ now}


def test_a_fact_moved_between_graphs_changes_graphs_not_things() -> None:
    s, p, o = ox.NamedNode(E + "s"), ox.NamedNode(E + "p"), ox.Literal("x")
    old = [ox.Quad(s, p, o, ox.NamedNode(E + "g1"))]
    new = [ox.Quad(s, p, o, ox.NamedNode(E + "g2"))]
    summary = summarise(old, new)
    assert [(g.graph, g.added, g.removed) for g in summary.graphs] == [
        (E + "g1", 0, 1),
        (E + "g2", 1, 0),
    ]
    assert summary.things == ()
    assert summary.to_json()["things"] == []


def test_contents_count_graphs_as_written_and_things_as_the_store_shows_them(
    tmp_path: Path,
) -> None:
    """A thing another graph already describes is changed, not added; a file counts as parsed."""
    s, label = ox.NamedNode(E + "s"), ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    store = ox.Store()
    store.add(ox.Quad(s, label, ox.Literal("S", language="en"), ox.NamedNode(E + "theirs")))
    store.add(ox.Quad(ox.NamedNode(E + "gone"), label, ox.Literal("G"), ox.NamedNode(E + "mine")))
    data = tmp_path / "mine.nt"
    data.write_text(f'<{E}s> <{label.value}> "S"@nl .\n<{E}new> <{label.value}> "N" .\n')
    summary = summarise_contents(store, {E + "mine": data})
    assert [(g.graph, g.before, g.after, g.added, g.removed) for g in summary.graphs] == [
        (E + "mine", 1, 2, 2, 1)
    ]
    assert [(t.iri, t.change, t.properties) for t in summary.things] == [
        (E + "gone", "removed", (label.value,)),
        (E + "new", "added", (label.value,)),
        (E + "s", "changed", (label.value,)),
    ]
    text = summary.render_human()
    assert text.splitlines() == [
        "2 triples added, 1 removed",
        f"  +2 -1  <{E}mine> (1 -> 2)",
        "things: 1 added, 1 removed, 1 changed",
        f"  - <{E}gone>",
        f"  + <{E}new>",
        f"  ~ <{E}s>: skos:prefLabel",
    ]
