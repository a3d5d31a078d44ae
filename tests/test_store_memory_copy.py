"""The memory copy of the published snapshot: exact, never ahead of or behind the release."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinlod.store import ReleaseInfo, Store

BASE = "https://w3id.org/sinlod/"
G = BASE + "graph/a"
H = BASE + "graph/b"
P = ox.NamedNode("https://example.org/p")
WHO = ReleaseInfo(agent="test")


def _quads(store: ox.Store) -> set[str]:
    return {str(q) for q in store}


def _objects_of_x(store: Store) -> list[str]:
    result = store.query("SELECT ?o WHERE { <https://example.org/x> ?p ?o }")
    assert isinstance(result, ox.QuerySolutions)
    return [row["o"].value for row in result]


def _answer(store: Store, query: str) -> list[str]:
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    return sorted(str(row) for row in result)


def test_reads_move_to_an_exact_copy_and_answer_the_same(tmp_path: Path) -> None:
    writer = Store.open(tmp_path / "s")
    literals = [
        ox.Literal("plain"),
        ox.Literal("Straße", language="de"),
        ox.Literal("007", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ox.Literal('a\nb\t"c" \\ \u00e9\U0001f600'),
    ]
    node = ox.BlankNode("b1")
    writer.replace_graphs(
        {
            G: [
                ox.Triple(ox.NamedNode(f"https://example.org/s{i}"), P, o)
                for i, o in enumerate(literals)
            ],
            H: [ox.Triple(node, P, ox.NamedNode("https://example.org/s0"))],
        },
        release=WHO,
    )
    reader = Store.open(tmp_path / "s", read_only=True, memory_copy_max_quads=1000)
    disk = Store.open(tmp_path / "s", read_only=True)  # no copy: the reference
    assert reader.wait_for_memory_copy(timeout=30)
    assert reader.memory_copy == "ready"
    assert reader.oxigraph is not reader._snapshot  # reads do go to memory now
    assert _quads(reader.oxigraph) == _quads(disk.oxigraph)  # blank nodes too
    graphs = {q.graph_name for q in reader.oxigraph}
    assert graphs == {ox.NamedNode(G), ox.NamedNode(H)}  # the release log is beside, not in it
    for query in (
        "SELECT ?s ?o WHERE { ?s ?p ?o }",  # the union default graph
        "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
        f"SELECT ?s FROM <{H}> WHERE {{ ?s ?p ?o }}",
        "SELECT ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o) && lang(?o) = 'de') }",
    ):
        assert _answer(reader, query) == _answer(disk, query), query
    assert reader.releases() == disk.releases() == writer.releases()
    reader.close()
    disk.close()


def test_a_new_release_is_read_from_disk_until_its_copy_is_complete(tmp_path: Path) -> None:
    writer = Store.open(tmp_path / "s")
    writer.replace_graphs(
        {G: [ox.Triple(ox.NamedNode("https://example.org/x"), P, ox.Literal("1"))]}, release=WHO
    )
    reader = Store.open(tmp_path / "s", read_only=True, memory_copy_max_quads=1000)
    assert reader.wait_for_memory_copy(timeout=30)
    old_copy = reader.oxigraph

    writer.replace_graphs(
        {G: [ox.Triple(ox.NamedNode("https://example.org/x"), P, ox.Literal("2"))]}, release=WHO
    )
    assert reader.refresh()
    # At once: the new release's id and its data, never the old copy's.
    assert reader.oxigraph is not old_copy
    assert _objects_of_x(reader) == ["2"]
    assert reader.wait_for_memory_copy(timeout=30)
    assert reader.memory_copy == "ready"
    assert _objects_of_x(reader) == ["2"]
    reader.close()


def test_a_release_over_the_limit_is_read_from_disk(tmp_path: Path) -> None:
    writer = Store.open(tmp_path / "s")
    writer.replace_graphs(
        {
            G: [
                ox.Triple(ox.NamedNode(f"https://example.org/s{i}"), P, ox.Literal("v"))
                for i in range(50)
            ]
        },
        release=WHO,
    )
    reader = Store.open(tmp_path / "s", read_only=True, memory_copy_max_quads=10)
    assert not reader.wait_for_memory_copy(timeout=30)
    assert reader.memory_copy == "too large"
    assert reader.oxigraph is reader._snapshot
    assert len(_answer(reader, "SELECT ?s WHERE { ?s ?p 'v' }")) == 50
    reader.close()


def test_no_copy_unless_asked_for(tmp_path: Path) -> None:
    assert Store.open(tmp_path / "s").memory_copy == "off"
    assert Store.in_memory().memory_copy == "off"
    waiting = Store.open(tmp_path / "t", read_only=True, memory_copy_max_quads=10)
    assert waiting.memory_copy == "empty"  # nothing published yet


def test_the_writer_process_copies_its_own_writes(tmp_path: Path) -> None:
    """The server with a write token writes through the same Store object it reads from."""
    store = Store.open(tmp_path / "s", memory_copy_max_quads=1000)
    for value in ("1", "2"):
        store.replace_graphs(
            {G: [ox.Triple(ox.NamedNode("https://example.org/x"), P, ox.Literal(value))]},
            release=WHO,
        )
        assert _objects_of_x(store) == [value]
        assert store.wait_for_memory_copy(timeout=30)
        assert _objects_of_x(store) == [value]
    store.close()


_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
_iri = st.from_regex(r"https://example\.org/[a-z0-9]{1,6}", fullmatch=True).map(ox.NamedNode)
_literal = st.one_of(
    _text.map(ox.Literal),
    st.tuples(_text, st.sampled_from(["en", "nl", "de-AT"])).map(
        lambda t: ox.Literal(t[0], language=t[1])
    ),
    st.integers().map(ox.Literal),
    st.floats(allow_nan=False).map(ox.Literal),
)
_term = st.one_of(
    _iri, _literal, st.from_regex(r"b[a-z0-9]{1,4}", fullmatch=True).map(ox.BlankNode)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(objects=st.lists(_term, min_size=1, max_size=30))
def test_copy_equals_disk_for_any_terms(tmp_path: Path, objects: list[ox.Literal]) -> None:
    path = tmp_path / f"s{abs(hash(tuple(map(str, objects))))}"
    writer = Store.open(path)
    writer.replace_graphs(
        {
            G: [
                ox.Triple(ox.NamedNode(f"https://example.org/s{i}"), P, o)
                for i, o in enumerate(objects)
            ]
        },
        release=WHO,
    )
    reader = Store.open(path, read_only=True, memory_copy_max_quads=10_000)
    assert reader.wait_for_memory_copy(timeout=30)
    assert _quads(reader.oxigraph) == _quads(reader._snapshot)
    reader.close()
