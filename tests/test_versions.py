"""What a write did to each thing (``sinlod.store.versions``), against a plain reference.

The fast comparison (N-Triples lines, only blank-node trees parsed) must find exactly the things
whose state in the union of the data graphs differs, blank-node labels aside. Hypothesis builds
two random datasets (things with literal and blank-node values, in two data graphs and a
vocabulary graph that does not count) and, for the second, relabels its blank nodes as a reload
does; the reference compares every thing's whole state.
"""

from __future__ import annotations

from typing import cast

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from sinlod.store.versions import (
    CREATE,
    DELETE,
    UPDATE,
    _canonical,
    _state,
    decode,
    encode,
    thing_versions,
)

BASE = "https://w3id.org/sinlod/"
GRAPHS = [ox.NamedNode(BASE + "graph/d/a"), ox.NamedNode(BASE + "graph/d/b")]
VOCABULARY = ox.NamedNode(BASE + "graph/vocabularies/topics")  # not a data graph
THINGS = [ox.NamedNode(f"{BASE}id/t/{i}") for i in range(4)]
P = [ox.NamedNode(f"{BASE}def/p{i}") for i in range(2)]

# A statement: (graph, thing, predicate, value) where value is a literal or a small blank-node
# tree: (predicate, literal) pairs hanging off one blank node, and whether those pairs are
# stated in the other data graph (a tree that no thing of that graph reaches).
pairs = st.lists(st.tuples(st.integers(0, 1), st.sampled_from(["u", "v"])), min_size=1, max_size=2)
value = st.one_of(
    st.sampled_from(["x", "y"]).map(lambda v: ("lit", v)),
    st.tuples(pairs, st.booleans()).map(lambda tree: ("tree", (tuple(tree[0]), tree[1]))),
)
statement = st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 1), value)
dataset = st.lists(statement, max_size=8)


def build(statements: list[tuple[int, int, int, tuple[str, object]]]) -> ox.Store:
    """A store from statements; every tree gets fresh blank nodes (as a load does)."""
    store = ox.Store()
    graphs = [*GRAPHS, VOCABULARY]
    for g, s, p, (kind, v) in statements:
        graph, subject, predicate = graphs[g], THINGS[s], P[p]
        if kind == "lit":
            store.add(ox.Quad(subject, predicate, ox.Literal(str(v)), graph))
            continue
        tree, elsewhere = cast(tuple[tuple[tuple[int, str], ...], bool], v)
        node = ox.BlankNode()
        store.add(ox.Quad(subject, predicate, node, graph))
        home = GRAPHS[(g + 1) % 2] if elsewhere and g < 2 else graph
        for q, text in tree:
            store.add(ox.Quad(node, P[q], ox.Literal(text), home))
    return store


def reference(old: ox.Store, new: ox.Store) -> dict[str, str]:
    """Every thing whose whole state differs, by brute force, with the kind of change."""
    out = {}
    for thing in THINGS:
        was, now = _state(old, thing, BASE), _state(new, thing, BASE)
        if not was and not now:
            continue
        if not now:
            out[thing.value] = DELETE
        elif not was:
            out[thing.value] = CREATE
        elif _canonical(was) != _canonical(now):
            out[thing.value] = UPDATE
    return out


@settings(max_examples=150, deadline=None)
@given(dataset, dataset)
def test_the_versions_are_exactly_the_things_whose_state_differs(
    before: list[tuple[int, int, int, tuple[str, object]]],
    after: list[tuple[int, int, int, tuple[str, object]]],
) -> None:
    old, new = build(before), build(after)
    changed = [g.value for g in (*GRAPHS, VOCABULARY)]
    found = thing_versions(old, new, changed, BASE)
    assert {v.thing: v.kind for v in found} == reference(old, new)
    assert thing_versions(old, new, None, BASE) == found  # a SPARQL update compares every graph


@settings(max_examples=60, deadline=None)
@given(dataset)
def test_reloading_the_same_data_with_new_blank_nodes_changes_nothing(
    statements: list[tuple[int, int, int, tuple[str, object]]],
) -> None:
    old, new = build(statements), build(statements)
    assert thing_versions(old, new, [g.value for g in GRAPHS], BASE) == []


def test_a_vocabulary_graph_is_not_data() -> None:
    old = ox.Store()
    new = build([(2, 0, 0, ("lit", "x"))])
    assert thing_versions(old, new, [VOCABULARY.value], BASE) == []


@settings(max_examples=40, deadline=None)
@given(dataset, dataset)
def test_the_versions_files_read_back_as_written(
    before: list[tuple[int, int, int, tuple[str, object]]],
    after: list[tuple[int, int, int, tuple[str, object]]],
) -> None:
    found = thing_versions(build(before), build(after), None, BASE, baseline=True)
    back = [v for part in encode(found) for v in decode(part)]
    assert [(v.thing, v.kind) for v in back] == [(v.thing, v.kind) for v in found]
    assert [_canonical(v.triples) for v in back] == [_canonical(v.triples) for v in found]
