"""The store: atomic, versioned releases of named graphs in pyoxigraph, with dumps and restore.

``Store`` is the one interface the CLI, the publish pipeline and the server use (DESIGN.md 5, 7).
"""

from __future__ import annotations

from sinlod.store.core import Store
from sinlod.store.datasets import Dataset, datasets, group_datasets
from sinlod.store.graphs import (
    ontology_graph,
    reference_graph,
    releases_graph,
    vocabularies_prefix,
    vocabulary_graph,
)
from sinlod.store.history import ReleaseNotKept
from sinlod.store.layout import FORMAT_VERSION
from sinlod.store.releases import (
    FileInfo,
    Release,
    ReleaseInfo,
    current_fingerprints,
    release_iri,
    release_triples,
)
from sinlod.store.stats import EXTERNAL_DATASETS, Stats
from sinlod.store.writing import GraphContent, QueryResult, release_log_refusal, run_update

__all__ = [
    "Dataset",
    "datasets",
    "group_datasets",
    "EXTERNAL_DATASETS",
    "FORMAT_VERSION",
    "FileInfo",
    "GraphContent",
    "QueryResult",
    "Release",
    "ReleaseInfo",
    "ReleaseNotKept",
    "Stats",
    "Store",
    "current_fingerprints",
    "ontology_graph",
    "reference_graph",
    "release_iri",
    "release_log_refusal",
    "release_triples",
    "releases_graph",
    "run_update",
    "vocabularies_prefix",
    "vocabulary_graph",
]
