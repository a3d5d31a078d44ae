"""The datasets in a store: each with its graphs, their triples and the release that last wrote it.

A dataset is the unit of publishing (issue 11). Which graph belongs to which dataset is in the
graph's name, ``{base}graph/{dataset}/{table}`` (``graphs.dataset_of``), which no other graph of
sinlod's can have; so the store needs no second record of it that could disagree. The release
log says when each dataset was last written: the last release that replaced one of its graphs.
Graphs outside any dataset (written over HTTP under another name, or by a sinlod from before
datasets) are in no dataset: ``sinlod stats`` lists them with the graphs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sinlod.store.graphs import dataset_of
from sinlod.store.releases import Release
from sinlod.store.stats import Stats


class _Readable(Protocol):
    base_iri: str

    def stats(self) -> Stats: ...

    def releases(self) -> list[Release]: ...


@dataclass(frozen=True)
class Dataset:
    """One dataset: its graphs with their triples, and the last release that wrote any of them
    (None when no recorded release did, e.g. after a restore of data without its log)."""

    name: str
    graphs: dict[str, int] = field(default_factory=dict)
    last_release: Release | None = None

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())

    def to_json(self) -> dict[str, Any]:
        last = self.last_release
        return {
            "name": self.name,
            "triples": self.triples,
            "graphs": dict(self.graphs),
            "last_release": None
            if last is None
            else {"id": last.id, "ended": last.ended.isoformat(), "agent": last.agent},
        }


def group_datasets(
    graph_triples: Mapping[str, int], base: str, releases: Sequence[Release]
) -> list[Dataset]:
    """The datasets among ``graph_triples`` (graph → triples), sorted by name.

    >>> base = "https://w3id.org/sinlod/"
    >>> counts = {base + "graph/sinlod/places": 5, base + "graph/ontology": 9,
    ...           base + "graph/steward/places": 2, base + "graph/sinlod/projects": 1}
    >>> [(d.name, d.triples, len(d.graphs)) for d in group_datasets(counts, base, [])]
    [('sinlod', 6, 2), ('steward', 2, 1)]
    """
    grouped: dict[str, dict[str, int]] = {}
    for graph, count in sorted(graph_triples.items()):
        name = dataset_of(graph, base)
        if name is not None:
            grouped.setdefault(name, {})[graph] = count
    return [
        Dataset(name, graphs, _last_release(name, base, releases))
        for name, graphs in sorted(grouped.items())
    ]


def _last_release(name: str, base: str, releases: Sequence[Release]) -> Release | None:
    """The last release that replaced or removed a graph of the dataset ``name``."""
    for release in reversed(releases):
        if any(dataset_of(g, base) == name for g in release.changed or ()):
            return release
    return None


def datasets(store: _Readable) -> list[Dataset]:
    """Every dataset in ``store`` (a ``Store`` or any store with its ``stats`` and
    ``releases``), with its graphs, triples and last release."""
    return group_datasets(store.stats().graphs, store.base_iri, store.releases())
