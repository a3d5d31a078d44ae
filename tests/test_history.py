"""A store's history (issue 11): exact diffs between releases, rollback, restore recorded, past
releases read as they were, and clear errors for releases whose data was pruned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sinlod.change_summary import summarise, summarise_stores
from sinlod.errors import StoreError
from sinlod.history import (
    ReleaseDiff,
    diff_releases,
    render_nq,
    render_patch,
    restore,
    rollback,
    summarise_snapshots,
)
from sinlod.store import ReleaseInfo, ReleaseNotKept, Store
from sinlod.store.backend import StoreBackend
from sinlod.store.layout import KEEP_SNAPSHOTS

BASE = "https://w3id.org/sinlod/"
G = BASE + "graph/projects"
H = BASE + "graph/people"
P = ox.NamedNode("https://example.org/p")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


def thing(i: int) -> ox.NamedNode:
    return ox.NamedNode(f"https://example.org/s/{i}")


def triples(n: int, version: str = "v1") -> list[ox.Triple]:
    return [ox.Triple(thing(i), P, ox.Literal(version)) for i in range(n)]


def quads(store: StoreBackend) -> set[ox.Quad]:
    return set(store.quads())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "store")


def three_releases(store: Store) -> list[str]:
    """A: two graphs and a blank node; B: one graph changed, one gone, the default graph
    written; C: a graph added back."""
    bnode = ox.BlankNode("b0")
    a = store.replace_graphs(
        {G: [*triples(3), ox.Triple(bnode, LABEL, ox.Literal("x", language="en"))], H: triples(2)},
        release=ReleaseInfo(agent="alice", comment="A"),
    )
    b = store.replace_graphs(
        {
            G: [*triples(2), ox.Triple(thing(0), LABEL, ox.Literal("zero")), *triples(1, "v2")],
            H: [],
        },
        release=ReleaseInfo(agent="alice", comment="B"),
    )
    store.update(f"INSERT DATA {{ <https://example.org/d> <{P.value}> 'default' }}")
    c = store.replace_graphs({H: triples(4, "v3")}, release=ReleaseInfo(agent="bob"))
    return [a.id, b.id, c.id]


def apply_patch(before: set[ox.Quad], patch: str) -> set[ox.Quad]:
    """Apply an RDF Patch (https://afs.github.io/rdf-patch/) as a reader of the format would:
    headers, one transaction, ``A`` and ``D`` rows of N-Quads terms."""
    lines = patch.split("\n")[:-1]  # LF only: literals may hold U+2028 and the like
    assert lines[0].startswith("H id <") and lines[1].startswith("H prev <")
    assert lines[2] == "TX ." and lines[-1] == "TC ."
    out = set(before)
    for line in lines[3:-1]:
        op, _, row = line.partition(" ")
        (quad,) = ox.parse(row.encode(), ox.RdfFormat.N_QUADS)
        if op == "A":
            out.add(quad)
        else:
            assert op == "D"
            out.remove(quad)  # a D line names a quad that is there
    return out


def test_diff_between_any_two_kept_releases_is_exact(store: Store) -> None:
    ids = three_releases(store)
    kept = store.kept_releases()
    assert ids[0] in kept and kept[-1] == store.release_id == ids[2]
    contents = {}
    for r in kept:
        with store.at_release(r) as view:
            contents[r] = quads(view)
    for old in kept:
        for new in kept:
            diff = diff_releases(store, old, new)
            patch = render_patch(diff, BASE)
            assert apply_patch(contents[old], patch) == contents[new], (old, new)
            added = {q for q in contents[new] if q not in contents[old]}
            removed = {q for q in contents[old] if q not in contents[new]}
            assert set(diff.summary.added_quads) == added
            assert set(diff.summary.removed_quads) == removed
            nq = render_nq(diff).split("\n")[:-1]
            assert [x[0] for x in nq] == ["-"] * len(removed) + ["+"] * len(added)
            plus = {q for x in nq if x[0] == "+" for q in ox.parse(x[2:], ox.RdfFormat.N_QUADS)}
            assert plus == added
    header = render_patch(diff_releases(store, ids[0], ids[1]), BASE).splitlines()[:2]
    assert header == [f"H id <{BASE}release/{ids[1]}> .", f"H prev <{BASE}release/{ids[0]}> ."]


def test_diff_summary_per_graph_and_per_thing(store: Store) -> None:
    ids = three_releases(store)
    diff = diff_releases(store, ids[0], ids[1])
    assert diff.old == ids[0] and diff.new == ids[1]
    graphs = {g.graph: (g.added, g.removed) for g in diff.summary.graphs}
    assert graphs == {G: (2, 2), H: (0, 2)}  # s/2 and the blank node gone; s/0 relabelled, v2
    things = {t.iri: (t.change, t.properties) for t in diff.summary.things}
    assert things == {
        thing(0).value: ("changed", (LABEL.value, P.value)),
        thing(2).value: ("removed", (P.value,)),
    }
    body = diff.to_json()
    assert body["from"] == ids[0] and body["to"] == ids[1] and body["added"] == 2


def test_diff_defaults_to_the_previous_and_the_current_release(store: Store) -> None:
    three_releases(store)
    kept = store.kept_releases()
    diff = diff_releases(store)
    assert (diff.old, diff.new) == (kept[-2], kept[-1])
    only_old = diff_releases(store, kept[0])
    assert (only_old.old, only_old.new) == (kept[0], kept[-1])
    same = diff_releases(store, kept[-1], kept[-1])
    assert not same.summary and render_nq(same) == ""


def test_a_prefix_names_a_release(store: Store) -> None:
    ids = three_releases(store)
    with store.at_release(ids[0][:6]) as view:
        assert view.release_id == ids[0]
        assert [r.comment for r in view.releases()] == ["A"]  # its log as it was then


def test_pruned_and_unknown_releases_are_clear_errors(store: Store) -> None:
    first = store.replace_graphs({G: triples(1)}).id
    for n in range(KEEP_SNAPSHOTS + 2):
        store.replace_graphs({G: triples(n + 2)})
    kept = store.kept_releases()
    assert first not in kept and len(kept) == KEEP_SNAPSHOTS + 1
    readable = ", ".join(kept)
    with pytest.raises(ReleaseNotKept) as info:
        diff_releases(store, first)
    assert str(info.value) == (
        f"release {first}: its data was pruned (only the newest snapshots are kept);"
        f" releases that can be read: {readable}"
    )
    assert info.value.kept == kept
    with pytest.raises(ReleaseNotKept) as info:
        rollback(store, first)
    assert f"release {first}: its data was pruned" in str(info.value)
    with pytest.raises(ReleaseNotKept) as info:
        store.at_release("999999")
    assert str(info.value) == (
        f"no release '999999' in the release log; releases that can be read: {readable}"
    )
    with pytest.raises(ReleaseNotKept) as info:
        store.at_release("00000")
    assert "names 6 releases" in str(info.value)


def test_no_diff_without_an_earlier_release(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store")
    only = store.replace_graphs({G: triples(1)}).id
    with pytest.raises(ReleaseNotKept) as info:
        diff_releases(store)
    assert str(info.value) == (
        f"there is no earlier release to compare with; releases that can be read: {only}"
    )


def test_rollback_brings_back_the_exact_quads_and_lengthens_the_log(store: Store) -> None:
    ids = three_releases(store)
    with store.at_release(ids[0]) as view:
        old = quads(view)
    log_before = [r.id for r in store.releases()]
    done = rollback(store, ids[0], agent="carol", message="the import of B was wrong")
    assert done.target == ids[0] and done.release is not None
    assert quads(store) == old  # blank-node labels included
    log = store.releases()
    assert [r.id for r in log] == [*log_before, done.release.id]  # longer, nothing erased
    last = log[-1]
    assert last.agent == "carol" and last.id == store.release_id
    assert last.comment == f"the import of B was wrong (rollback to release {ids[0]})"
    assert last.changed is None  # the default graph differed: any graph may have changed
    assert last.graphs == {G: 4, H: 2}
    assert done.summary.added == len(done.summary.added_quads) > 0
    # The data of the rolled-back-from release can still be read and rolled back to.
    again = rollback(store, ids[2])
    with store.at_release(ids[2]) as view:
        assert quads(store) == quads(view)
    assert again.release is not None and len(store.releases()) == len(log) + 1


def test_rollback_lists_the_graphs_it_changed(store: Store) -> None:
    a = store.replace_graphs({G: triples(2), H: triples(1)}).id
    store.replace_graphs({G: triples(3)})
    done = rollback(store, a)
    assert done.release is not None and done.release.changed == (G,)
    assert done.release.graphs == {G: 2, H: 1}


def test_rollback_to_the_current_data_writes_nothing(store: Store) -> None:
    a = store.replace_graphs({G: triples(2)}).id
    b = store.replace_graphs({G: triples(3)}).id
    log = store.releases()
    done = rollback(store, b)
    assert done.release is None and not done.summary
    assert store.release_id == b and store.releases() == log
    rollback(store, a)
    assert rollback(store, a).release is None  # the same data again: no-op
    assert store.release_id is not None and store.release_id > b


def test_restore_into_published_data_is_a_release_and_erases_nothing(
    store: Store, tmp_path: Path
) -> None:
    store.replace_graphs({G: triples(2)}, release=ReleaseInfo(agent="a", comment="one"))
    dump = tmp_path / "old.nq"
    store.dump(dump)
    old_data = quads(store)
    store.replace_graphs({G: triples(5)}, release=ReleaseInfo(agent="a", comment="two"))
    store.replace_graphs({H: triples(1)}, release=ReleaseInfo(agent="a", comment="three"))
    done = restore(store, dump, agent="dave", message="back to the first")
    assert done.release is not None
    assert done.quads == len(dump.read_text().splitlines())  # the data and release one's log
    assert quads(store) == old_data
    log = store.releases()
    assert [r.comment for r in log] == [
        "one",
        "two",
        "three",
        "back to the first (restore from old.nq)",
    ]
    last = log[-1]
    assert last.agent == "dave" and last.id == store.release_id == done.release.id
    assert last.changed == (H, G)  # people gone, projects back to two triples
    assert [(f.path, f.role) for f in last.files] == [(str(dump), "dump")]
    assert len(last.files[0].sha256) == 64
    # The same dump again changes nothing: no release.
    again = restore(store, dump)
    assert again.release is None and len(store.releases()) == 4


def test_restore_of_another_stores_dump_keeps_both_logs(tmp_path: Path) -> None:
    other = Store.open(tmp_path / "other")
    other.replace_graphs({H: triples(3)}, release=ReleaseInfo(agent="o", comment="other's"))
    dump = tmp_path / "other.nq.gz"
    other.dump(dump)
    store = Store.open(tmp_path / "store")
    store.replace_graphs({G: triples(1)}, release=ReleaseInfo(agent="m", comment="mine"))
    restore(store, dump, message="moved")
    comments = [r.comment for r in store.releases()]
    assert comments == ["other's", "mine", "moved (restore from other.nq.gz)"]
    assert quads(store) == {
        ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(H)) for t in triples(3)
    }
    # Reopened from disk, the log is the same (appended to the file, not rewritten).
    reopened = Store.open(tmp_path / "store", read_only=True)
    assert [r.comment for r in reopened.releases()] == comments


def test_restore_into_an_empty_store_is_exact_and_records_nothing(
    store: Store, tmp_path: Path
) -> None:
    three_releases(store)
    dump = tmp_path / "all.nq"
    store.dump(dump)
    empty = Store.open(tmp_path / "empty")
    done = restore(empty, dump)
    assert done.release is None
    assert empty.releases() == store.releases()
    assert sorted(map(str, empty.release_log())) == sorted(map(str, store.release_log()))
    assert len(quads(empty)) == len(quads(store))


def test_a_past_release_reads_as_it_was(store: Store, tmp_path: Path) -> None:
    ids = three_releases(store)
    with store.at_release(ids[0]) as view:
        result = view.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}")
        assert isinstance(result, ox.QuerySolutions)
        assert int(next(iter(result))["n"].value) == 4
        assert view.dump(tmp_path / "a.nq") == 6 + len(view.release_log())
        assert not view.refresh()  # a view of a past release never moves on
        assert view.release_id == ids[0]
    store.replace_graphs({G: []})  # the view is closed: pruning may go on as usual


def test_keep_releases_sets_how_many_past_releases_can_be_read(tmp_path: Path) -> None:
    import dataclasses

    from sinlod.config import Settings
    from sinlod.store.backend import open_backend

    config = Settings.load(env={}, store_path=tmp_path / "store")
    with open_backend(dataclasses.replace(config, keep_releases=6), read_only=False) as store:
        ids = [store.replace_graphs({G: triples(n + 1)}).id for n in range(8)]
        assert store.kept_releases() == ids[1:]  # six past releases and the current one
        rollback(store, ids[1])  # far back, still kept
        assert quads(store) == {
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(G)) for t in triples(2)
        }
    few = Store.open(tmp_path / "store", keep_releases=0)
    few.replace_graphs({G: triples(1)})
    assert few.kept_releases() == [few.release_id]
    assert len(few.releases()) == 10  # the log keeps every release


# -- the patch and nq renderings, for any quads ----------------------------------------------------


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
_iri = st.sampled_from(["http://e/a", "http://e/b", "https://e/ü", "urn:x:1"]).map(ox.NamedNode)
_literal = st.one_of(
    _text.map(ox.Literal),
    st.tuples(_text, st.sampled_from(["en", "nl", "de-at"])).map(
        lambda t: ox.Literal(t[0], language=t[1])
    ),
    st.integers().map(
        lambda n: ox.Literal(
            str(n), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
        )
    ),
)
_subject = st.one_of(_iri, st.sampled_from(["b1", "b2"]).map(ox.BlankNode))
_graph = st.one_of(st.just(ox.DefaultGraph()), _iri)
_quad = st.builds(ox.Quad, _subject, _iri, st.one_of(_iri, _literal, _subject), _graph)


@settings(max_examples=200, deadline=None)
@given(st.sets(_quad, max_size=12), st.sets(_quad, max_size=12))
def test_the_patch_turns_any_quads_into_any_others(
    before: set[ox.Quad], after: set[ox.Quad]
) -> None:
    diff = ReleaseDiff("000001-a", "000002-b", summarise(before, after))
    assert apply_patch(before, render_patch(diff, BASE)) == after
    lines = render_nq(diff).split("\n")[:-1]
    minus = {q for x in lines if x[0] == "-" for q in ox.parse(x[2:], ox.RdfFormat.N_QUADS)}
    plus = {q for x in lines if x[0] == "+" for q in ox.parse(x[2:], ox.RdfFormat.N_QUADS)}
    assert (before - minus) | plus == after and not minus & plus


@settings(max_examples=50, deadline=None)
@given(st.lists(_quad, max_size=20), st.randoms())
def test_graphs_with_the_same_quads_in_any_order_do_not_differ(
    quads_: list[ox.Quad], rnd: Any
) -> None:
    from sinlod.store.history import differing_graphs

    one, two = ox.Store(), ox.Store()
    one.extend(quads_)
    shuffled = list(quads_)
    rnd.shuffle(shuffled)
    two.extend(shuffled)
    assert differing_graphs(one, two) == []
    if quads_:
        two.remove(quads_[0])
        named = quads_[0].graph_name
        expected = None if isinstance(named, ox.DefaultGraph) else [named.value]
        assert differing_graphs(one, two) == expected


def test_a_rollback_that_fails_half_way_changes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = three_releases(store)
    before, log = quads(store), store.releases()

    def broken(old: ox.Store, new: ox.Store) -> list[str]:
        raise OSError("disk full")

    monkeypatch.setattr("sinlod.store.core.differing_graphs", broken)
    with pytest.raises(StoreError, match="disk full"):
        store.rollback(ids[0])
    assert store.release_id == ids[2] and quads(store) == before and store.releases() == log
    snapshots = store.path / "snapshots"  # type: ignore[operator]
    assert not list(snapshots.glob("building-*"))
    reopened = Store.open(store.path, read_only=True)  # type: ignore[arg-type]
    assert reopened.release_id == ids[2] and reopened.releases() == log


def test_restoring_the_current_data_with_blank_nodes_is_no_change(
    store: Store, tmp_path: Path
) -> None:
    """A restore gives blank nodes new labels; the same graphs up to them are no change."""
    ids = three_releases(store)  # G holds a blank node
    dump = tmp_path / "now.nq"
    store.dump(dump)
    assert restore(store, dump).release is None
    assert store.release_id == ids[2] and len(store.releases()) == 4
    store.replace_graphs({G: triples(1)})
    done = restore(store, dump, message="back")
    assert done.release is not None and done.release.changed == (G,)


def test_blank_nodes_are_compared_up_to_their_labels() -> None:
    from sinlod.store.history import differing_graphs

    g = ox.NamedNode(G)

    def store(*quads: tuple[ox.BlankNode, ox.BlankNode]) -> ox.Store:
        out = ox.Store()
        for a, b in quads:
            out.add(ox.Quad(a, P, b, g))
            out.add(ox.Quad(a, LABEL, ox.Literal("x"), g))
        return out

    x, y, z = ox.BlankNode("x"), ox.BlankNode("y"), ox.BlankNode("z")
    assert differing_graphs(store((x, y)), store((y, z))) == []  # relabelled: the same graph
    assert differing_graphs(store((x, y), (y, x)), store((x, y), (y, z))) == [G]  # not


def test_the_fast_summary_of_two_releases_is_the_summary(store: Store) -> None:
    """``summarise_snapshots`` reads only the graphs that differ; it must say exactly what
    ``change_summary.summarise_stores`` (every quad of both) says."""
    three_releases(store)
    for old in store.kept_releases():
        for new in store.kept_releases():
            with store.at_release(old) as a, store.at_release(new) as b:
                fast = summarise_snapshots(a.oxigraph, b.oxigraph)
                assert fast == summarise_stores(a.oxigraph, b.oxigraph), (old, new)


@settings(max_examples=150, deadline=None)
@given(st.lists(_quad, max_size=15), st.lists(_quad, max_size=15), st.randoms())
def test_the_fast_summary_of_any_two_stores_is_the_summary(
    before: list[ox.Quad], after: list[ox.Quad], rnd: Any
) -> None:
    old, new = ox.Store(), ox.Store()
    old.extend(before)
    shuffled = before + after
    rnd.shuffle(shuffled)  # memory stores write in insertion order: the bytes differ
    new.extend(q for q in shuffled if q in set(after) or rnd.random() < 0.5)
    assert summarise_snapshots(old, new) == summarise_stores(old, new)
