"""What is in the store: triples per graph, instances per class, links to external datasets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from sinlod.store.graphs import data_graphs

#: External datasets sinlod links to, by the IRI namespaces of their resources.
EXTERNAL_DATASETS: dict[str, tuple[str, ...]] = {
    "NUTS": ("http://data.europa.eu/nuts/",),
    "EU authority tables": ("http://publications.europa.eu/resource/authority/",),
    "Wikidata": ("http://www.wikidata.org/entity/", "https://www.wikidata.org/wiki/"),
    "CORDIS": ("https://cordis.europa.eu/", "http://data.europa.eu/s66/resource/"),
    "GeoNames": ("https://sws.geonames.org/", "http://sws.geonames.org/"),
}


@dataclass(frozen=True)
class Stats:
    """Counts over one snapshot. ``classes`` and ``links`` count the data graphs only (not the
    ontology, reference snapshots or the release log), since those are what a steward published."""

    release_id: str | None
    graphs: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "release": self.release_id,
            "triples": self.triples,
            "graphs": self.graphs,
            "classes": self.classes,
            "links": self.links,
        }


def _rows(
    store: ox.Store, query: str, graphs: list[ox.NamedNode | ox.BlankNode] | None = None
) -> list[Any]:
    result = store.query(query, named_graphs=graphs)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def compute_stats(store: ox.Store, base: str, release_id: str | None) -> Stats:
    """Count with a few aggregate queries (one scan each), never a Python loop over triples."""
    graphs = {
        row["g"].value: int(row["n"].value)
        for row in _rows(
            store,
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
        )
    }
    default = len(store) - sum(graphs.values())
    if default:
        graphs["(default graph)"] = default
    data = data_graphs(store, base)
    classes = {
        row["c"].value: int(row["n"].value)
        for row in _rows(
            store,
            "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } }"
            " GROUP BY ?c ORDER BY DESC(?n) ?c",
            data,
        )
    }
    links = {}
    for name, prefixes in EXTERNAL_DATASETS.items():
        test = " || ".join(f'STRSTARTS(STR(?o), "{p}")' for p in prefixes)
        query = (
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(isIRI(?o) && ({test})) }}"
        )
        links[name] = int(_rows(store, query, data)[0]["n"].value)
    return Stats(release_id=release_id, graphs=graphs, classes=classes, links=links)
