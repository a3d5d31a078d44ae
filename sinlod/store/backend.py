"""The store interface, and the one place that picks its implementation from the settings.

DESIGN.md 7: the published data sits behind one small interface, so that a remote SPARQL 1.1
store (Oxigraph's server, Virtuoso, Fuseki, QLever) can replace the embedded one when users
outgrow one machine. ``StoreBackend`` is that interface: what ``sinlod publish``, the write gate
(``sinlod.changes``), ``dump``/``restore``/``rollback`` and every route of the server use. Two
classes implement it:

- ``sinlod.store.Store``: pyoxigraph snapshots on local disk (``backend = "embedded"``, the
  default);
- ``sinlod.store.remote.RemoteStore``: a remote store spoken to over SPARQL 1.1 Query, Update
  and the Graph Store Protocol (``backend = "remote"``); docs/store.md, "A remote backend", says
  how releases stay atomic there.

Routes never reach past it (issue 16): no ``ox.Store`` of the data except ``oxigraph``, which the
write gate and validation use to compute a change on the release they read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, runtime_checkable

import pyoxigraph as ox

from sinlod.errors import InputError

if TYPE_CHECKING:
    from sinlod.config import Settings
    from sinlod.store.releases import Release, ReleaseInfo
    from sinlod.store.search_index import SearchIndex
    from sinlod.store.stats import Stats
    from sinlod.store.writing import GraphContent, QueryResult

#: The values of the ``backend`` setting.
BACKENDS = ("embedded", "remote")


@runtime_checkable
class StoreBackend(Protocol):
    """Published RDF data: named graphs in atomic, versioned releases, queried as one dataset.

    Contract (the embedded store's tests in ``tests/test_store.py``, the remote store's in
    ``tests/remote/``): every write is atomic and records a release (PROV-O, DCAT-AP) in a
    release log that is not part of the queried data; a query runs on one release from start to
    end; ``release_id`` names the published release and changes on every write.
    """

    base_iri: str

    @property
    def release_id(self) -> str | None: ...

    @property
    def last_modified(self) -> datetime | None: ...

    @property
    def path(self) -> Path | None:
        """The store's directory on local disk (None: memory, or a remote store)."""
        ...

    @property
    def memory_copy(self) -> str: ...

    @property
    def oxigraph(self) -> ox.Store:
        """The published release's data as a pyoxigraph store, for reading (the write gate
        computes a change on it). A remote store fetches it once per release."""
        ...

    def refresh(self) -> bool: ...

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union_default_graph: bool = True,
        base_iri: str | None = None,
    ) -> QueryResult: ...

    def graph_names(self) -> list[str]: ...

    def graph_quads(self, graph: str | None) -> Iterator[ox.Quad]: ...

    def quads(self) -> Iterator[ox.Quad]: ...

    def dump_default_graph(self, out: BinaryIO, format: ox.RdfFormat) -> None: ...

    def releases(self) -> list[Release]: ...

    def release_log(self) -> ox.Store: ...

    def stats(self) -> Stats: ...

    def search_index(self) -> SearchIndex:
        """The published release's search and browse index (``sinlod.store.search_index``)."""
        ...

    def dump(
        self,
        out: BinaryIO | Path,
        *,
        graph: str | None = None,
        format: ox.RdfFormat = ox.RdfFormat.N_QUADS,
    ) -> int: ...

    def replace_graphs(
        self, graphs: Mapping[str, GraphContent], *, release: ReleaseInfo | None = None
    ) -> Release: ...

    def update(
        self, sparql: str, *, base_iri: str | None = None, release: ReleaseInfo | None = None
    ) -> None: ...

    def restore(self, source: Path, *, release: ReleaseInfo | None = None) -> int: ...

    def kept_releases(self) -> list[str]: ...

    def at_release(self, release_id: str) -> StoreBackend: ...

    def rollback(
        self, release_id: str, *, release: ReleaseInfo | None = None
    ) -> Release | None: ...

    def close(self) -> None: ...

    def __enter__(self) -> StoreBackend: ...

    def __exit__(self, *exc: object) -> None: ...


def open_backend(
    settings: Settings, *, read_only: bool, memory_copy_max_quads: int = 0
) -> StoreBackend:
    """The store the settings name: the embedded store at ``store_path``, or the remote one.

    Raises ``InputError`` for an unknown ``backend`` or a remote backend without
    ``remote_query_url``; ``StoreError`` when the store cannot be opened or reached.
    """
    from sinlod.store.core import Store

    if settings.backend == "embedded":
        return Store.open(
            settings.store_path,
            read_only=read_only,
            base_iri=settings.base_iri,
            memory_copy_max_quads=memory_copy_max_quads,
            keep_releases=settings.keep_releases,
        )
    if settings.backend == "remote":
        from sinlod.store.remote import RemoteStore

        return RemoteStore.from_settings(settings, read_only=read_only)
    raise InputError(
        f"setting 'backend': expected one of {', '.join(BACKENDS)}, got {settings.backend!r}"
    )
