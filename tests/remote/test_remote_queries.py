"""Queries on a remote store answer as on the embedded store, graph names and all.

The same two graphs (and a default graph) are written to an embedded store in memory and to a
remote store, whose releases keep their graphs under stored names of their own; every query below
must give the same solutions on both: that is what the scoping of ``rewrite.py`` promises.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from sinlod.store import ReleaseInfo, Store
from sinlod.store.backend import StoreBackend, open_backend
from tests.remote.servers import Endpoint
from tests.server.conftest import DATA, DATA_GRAPH, ONTOLOGY, ONTOLOGY_GRAPH, triples

DEFAULT_TRIPLE = '<https://w3id.org/sinlod/id/x> <https://w3id.org/sinlod/def/note> "default"'
SKOS = "http://www.w3.org/2004/02/skos/core#"

QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "SELECT * WHERE { GRAPH ?g { ?s a ?c } }",
    f"SELECT ?s ?c WHERE {{ GRAPH <{DATA_GRAPH}> {{ ?s a ?c }} }}",
    f"SELECT ?s ?o WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}",
    f"SELECT ?s ?p ?o FROM <{ONTOLOGY_GRAPH}> WHERE {{ ?s ?p ?o }}",
    f"SELECT ?g ?s FROM NAMED <{ONTOLOGY_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s a ?c }} FILTER(?g = <{DATA_GRAPH}>) }}",
    'SELECT ?g ?s WHERE { GRAPH ?g { ?s a ?c } FILTER(STRENDS(STR(?g), "/ontology")) }',
    f"SELECT ?s WHERE {{ VALUES ?g {{ <{DATA_GRAPH}> }} GRAPH ?g {{ ?s a ?c }} }}",
    "SELECT ?g1 ?g2 ?s WHERE { GRAPH ?g1 { ?s a ?c } GRAPH ?g2 { ?c ?p ?o } }",
    "SELECT ?s ?g WHERE { ?s a ?c OPTIONAL { GRAPH ?g { ?c ?p ?o } } }",
    "ASK { GRAPH <https://w3id.org/sinlod/graph/none> { ?s ?p ?o } }",
    f"ASK FROM NAMED <{ONTOLOGY_GRAPH}> {{ GRAPH <{DATA_GRAPH}> {{ ?s ?p ?o }} }}",
    f"SELECT ?s FROM <{DATA_GRAPH}> WHERE {{ OPTIONAL {{ GRAPH <{DATA_GRAPH}> {{ ?s ?p ?o }} }} }}",
    f"ASK {{ GRAPH <{DATA_GRAPH}> {{ ?s ?p ?o }} }}",
    "PREFIX g: <https://w3id.org/sinlod/graph/> SELECT ?s WHERE { GRAPH g:data { ?s a ?c } }",
    f"CONSTRUCT {{ ?s <{SKOS}prefLabel> ?l }} WHERE {{ GRAPH ?g {{ ?s <{SKOS}prefLabel> ?l }} }}",
    f"DESCRIBE <https://w3id.org/sinlod/id/project/sic> FROM <{DATA_GRAPH}>",
    "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?s HAVING (COUNT(DISTINCT ?g) > 1)",
    "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
    'SELECT ?s WHERE { GRAPH ?g { ?s ?p "GRAPH ?g { }" } }',
]


@pytest.fixture
def stores(endpoint: Endpoint, tmp_path: Path) -> Iterator[tuple[Store, StoreBackend]]:
    contents = {DATA_GRAPH: triples(DATA), ONTOLOGY_GRAPH: triples(ONTOLOGY)}
    embedded = Store.in_memory()
    embedded.replace_graphs(contents, release=ReleaseInfo(agent="t"))
    embedded.update(f"INSERT DATA {{ {DEFAULT_TRIPLE} }}")
    with open_backend(endpoint.settings(tmp_path), read_only=False) as remote:
        remote.replace_graphs(contents, release=ReleaseInfo(agent="t"))
        remote.update(f"INSERT DATA {{ {DEFAULT_TRIPLE} }}")
        yield embedded, remote


def answer(store: StoreBackend, query: str, **dataset: Any) -> Any:
    """A comparable form of the answer: sorted rows, blank nodes blanked."""
    result = store.query(query, **dataset)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = sorted(v.value for v in result.variables)  # SELECT * leaves the order open
        rows = [tuple(_term(row[name]) for name in names) for row in result]
        return names, sorted(rows)
    return sorted(_term(t) for t in result)


def _term(term: Any) -> str:
    return "" if term is None else re.sub(r"_:\w+", "_:b", str(term))


@pytest.mark.parametrize("query", QUERIES)
def test_a_query_answers_as_on_the_embedded_store(
    stores: tuple[Store, StoreBackend], query: str, endpoint: Endpoint
) -> None:
    embedded, remote = stores
    if query.startswith("DESCRIBE") and endpoint.engine == "virtuoso":
        # What DESCRIBE returns is the engine's choice (SPARQL 1.1 §16.4): Virtuoso adds the
        # triples that point at the resource and leaves out blank nodes' own triples.
        ours = set(answer(remote, query))
        assert {t for t in answer(embedded, query) if not t.startswith("_:")} <= ours
        return
    assert answer(remote, query) == answer(embedded, query)


@pytest.mark.parametrize(
    "dataset",
    [
        {"default_graph": [DATA_GRAPH]},
        {"named_graphs": [ONTOLOGY_GRAPH]},
        {"default_graph": [ONTOLOGY_GRAPH], "named_graphs": [DATA_GRAPH]},
        {"union_default_graph": False},
        {"default_graph": ["https://w3id.org/sinlod/graph/none"]},
    ],
    ids=["default", "named", "both", "strict", "unknown"],
)
def test_the_protocol_dataset_applies_as_on_the_embedded_store(
    stores: tuple[Store, StoreBackend], dataset: dict[str, Any]
) -> None:
    embedded, remote = stores
    for query in (
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
        "SELECT ?g ?s WHERE { GRAPH ?g { ?s a ?c } }",
    ):
        assert answer(remote, query, **dataset) == answer(embedded, query, **dataset), query


def test_graph_names_and_graphs_read_as_on_the_embedded_store(
    stores: tuple[Store, StoreBackend],
) -> None:
    embedded, remote = stores
    assert remote.graph_names() == embedded.graph_names()
    for graph in (None, DATA_GRAPH, ONTOLOGY_GRAPH):
        ours = sorted(_term(q) for q in remote.graph_quads(graph))
        assert ours == sorted(_term(q) for q in embedded.graph_quads(graph))
    assert remote.stats().graphs == embedded.stats().graphs
