"""The names of sinlod's graphs (the one place that spells them), and which of them hold data.

``publish`` puts each source of a dataset in ``{base}graph/{dataset}/{stem}``
(``minting.dataset_graph_iri``: a graph's dataset is its IRI's segment after ``graph/``; the
reserved names below are never datasets, so the prefix is unambiguous), the ontology in
``{base}graph/ontology``, vocabularies in ``{base}graph/vocabularies/{name}`` and the reference
tables in ``{base}graph/reference`` (or ``{base}graph/reference/{name}``). Statistics, VoID and
the catalogue describe the data graphs only: every named graph but those. The release log is
named ``{base}graph/releases`` in dumps, but is not a graph of the snapshot at all
(``store/layout.py``).
"""

from __future__ import annotations

import pyoxigraph as ox

from sinlod.minting import RESERVED_DATASETS, graph_iri, is_slug


def graphs_prefix(base: str) -> str:
    """The prefix of every graph sinlod names: ``{base}graph/``."""
    return graph_iri(base, "")


def ontology_graph(base: str) -> str:
    """The graph of the ontology (``ontology/sinlod.ttl``)."""
    return graph_iri(base, "ontology")


def vocabularies_prefix(base: str) -> str:
    """The prefix of the vocabulary graphs, one per ``ontology/vocabularies/*.ttl``."""
    return graph_iri(base, "vocabularies/")


def vocabulary_graph(base: str, name: str) -> str:
    """The graph of the vocabulary ``name`` (its file's stem)."""
    return vocabularies_prefix(base) + name


def reference_graph(base: str) -> str:
    """The graph of the reference tables (``data/reference/*.ttl``)."""
    return graph_iri(base, "reference")


def releases_graph(base: str) -> str:
    """The name of the release log in dumps and restores (never a graph of the snapshot)."""
    return graph_iri(base, "releases")


def system_graph_prefixes(base: str) -> tuple[str, ...]:
    """IRI prefixes of the graphs that are not data (the model and the link targets).

    >>> system_graph_prefixes("https://w3id.org/sinlod/")[0]
    'https://w3id.org/sinlod/graph/ontology'
    """
    return (
        ontology_graph(base),
        vocabularies_prefix(base),
        reference_graph(base),
        releases_graph(base),
    )


def is_data_graph(iri: str, base: str) -> bool:
    """Whether ``iri`` names a graph of published data.

    >>> is_data_graph("https://w3id.org/sinlod/graph/projects", "https://w3id.org/sinlod/")
    True
    >>> is_data_graph("https://w3id.org/sinlod/graph/reference/nuts-2021", "https://w3id.org/sinlod/")
    False
    """
    return not iri.startswith(system_graph_prefixes(base))


def data_graphs(store: ox.Store, base: str) -> list[ox.NamedNode | ox.BlankNode]:
    """The data graphs of ``store``, sorted: pass them as a query's ``named_graphs`` so that
    ``GRAPH ?g`` ranges over them alone (a FILTER on ``?g`` would visit every quad of every graph
    first: 0.4-0.7 s a query with the reference tables published, against milliseconds)."""
    names = [g for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    return sorted((g for g in names if is_data_graph(g.value, base)), key=lambda g: g.value)


def dataset_prefix(base: str, dataset: str) -> str:
    """The prefix of every graph of ``dataset``: ``{base}graph/{dataset}/``."""
    return graph_iri(base, f"{dataset}/")


def dataset_of(iri: str, base: str) -> str | None:
    """The dataset a graph belongs to, by its name ``{base}graph/{dataset}/{table}``; None for
    sinlod's own graphs and for graphs not named so (written over HTTP, or by a sinlod from
    before datasets: see ``legacy_table``).

    >>> dataset_of("https://w3id.org/sinlod/graph/sinlod/places", "https://w3id.org/sinlod/")
    'sinlod'
    >>> dataset_of("https://w3id.org/sinlod/graph/vocabularies/roles", "https://w3id.org/sinlod/")
    >>> dataset_of("https://w3id.org/sinlod/graph/places", "https://w3id.org/sinlod/")
    """
    prefix = graphs_prefix(base)
    if not iri.startswith(prefix):
        return None
    dataset, slash, table = iri[len(prefix) :].partition("/")
    if not slash or not table or dataset in RESERVED_DATASETS or not is_slug(dataset):
        return None
    return dataset


def legacy_table(iri: str, base: str) -> str | None:
    """The table of a graph named as a sinlod from before datasets named a source's graph
    (``{base}graph/{table}``), else None.

    >>> legacy_table("https://w3id.org/sinlod/graph/places", "https://w3id.org/sinlod/")
    'places'
    >>> legacy_table("https://w3id.org/sinlod/graph/reference", "https://w3id.org/sinlod/")
    """
    prefix = graphs_prefix(base)
    if not iri.startswith(prefix):
        return None
    rest = iri[len(prefix) :]
    if not rest or "/" in rest or rest in RESERVED_DATASETS:
        return None
    return rest
