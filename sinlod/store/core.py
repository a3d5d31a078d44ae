"""The Store: one interface over a pyoxigraph snapshot directory (or memory, for tests).

Contract (each point has a test in ``tests/test_store.py``):

- **Atomic writes.** ``replace_graphs``, ``update`` and ``restore`` build a new snapshot and
  publish it with one rename (see ``layout.py``). On any error, or if the process is killed, the
  previous snapshot stays the published one, unchanged. Raises ``StoreError`` on storage failure,
  ``InputError`` for an unreadable source file, ``QueryError`` for a bad update.
- **Consistent reads.** A query runs on one snapshot from start to end; ``refresh()`` moves a
  long-lived reader (the server) to the newest snapshot between queries.
- **One writer at a time.** Writers take an fcntl lock on ``write.lock`` and wait for each other.
- **A release per write.** Each write records a release (``releases.py``) in the release log of
  the new snapshot: N-Quads beside the snapshot's data (an append-only file, of which each
  snapshot names its prefix), published by the same ``CURRENT`` rename (``layout.py``). The
  log is not part of the queried dataset: queries, the named graphs, ``stats`` and the memory
  copy never see it; ``releases()`` and ``release_log()`` read it, and a whole-store ``dump``
  carries it as the graph ``{base}graph/releases`` (which ``restore`` splits back out, so a dump
  and restore keep it exact). No write may create a data graph under that name
  (``ReleaseLogProtected``). ``release_id`` names the published snapshot and changes on every
  write, so it can serve as an ETag. A ``restore`` into an empty store records no release, since
  it must give back exactly the dumped quads and log; into published data it is recorded like
  any write, and the log keeps both its releases and the dump's (nothing is ever erased).
- **Past releases.** The newest snapshots are kept (``keep_releases``); ``at_release``
  reads one as it was and ``rollback`` publishes its data again as a new release
  (``history.py``).
- **Old stores.** A format-1 store (log inside the data) opens; a writer moves the log out on
  open and marks the directory format 2. A read-only reader of a format-1 store reads the log
  from the graph and, until a writer migrates it, still sees that graph in queries.
- **A memory copy for readers** (``memory_copy_max_quads``, the server's choice): Oxigraph answers
  from its in-memory storage 2 to 5 times faster than from RocksDB on disk (bench/RESULTS.md). A
  snapshot never changes, so a copy of it in memory is exact for as long as it is the published
  one: a background thread copies each newly published snapshot that is small enough, and reads
  go to the copy once it is complete and still current, to the disk snapshot before that. The
  disk snapshot stays the truth: writes, pins and releases are unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

import pyoxigraph as ox

from sinlod.errors import InputError, QueryError, QueryEvaluationError, StoreError
from sinlod.namespaces import DEFAULT_BASE
from sinlod.sparql_text import declares_dataset
from sinlod.store import search_index
from sinlod.store.graphs import releases_graph
from sinlod.store.history import ReleaseNotKept, differing_graphs, resolve_release
from sinlod.store.layout import FORMAT_VERSION, KEEP_SNAPSHOTS, StoreDirectory
from sinlod.store.releases import (
    Release,
    ReleaseInfo,
    ReleaseLog,
)
from sinlod.store.search_index import IndexCache, SearchIndex, index_path
from sinlod.store.stats import Stats, compute_stats
from sinlod.store.versions import ThingVersion, VersionFiles, encode, thing_versions
from sinlod.store.writing import (
    Change,
    GraphContent,
    QueryResult,
    apply,
    build,
    bulk_load,
    cheaper_to_rebuild,
    copy_graphs_except,
    release_log_refusal,
    run_update,
    split_release_log,
    write_file,
)

log = logging.getLogger(__name__)


class Store:
    """Published RDF data: named graphs in snapshots, queried as one dataset.

    >>> store = Store.in_memory()
    >>> g = "https://w3id.org/sinlod/graph/demo"
    >>> t = ox.Triple(ox.NamedNode("http://e/a"), ox.NamedNode("http://e/p"), ox.Literal("1"))
    >>> store.replace_graphs({g: [t]}, release=ReleaseInfo(agent="doctest")).graphs[g]
    1
    >>> bool(store.query("ASK { <http://e/a> ?p ?o }"))
    True
    """

    def __init__(
        self,
        directory: StoreDirectory | None,
        *,
        read_only: bool,
        base_iri: str,
        lock_timeout: float,
        memory_copy_max_quads: int = 0,
    ) -> None:
        self._dir = directory
        self._read_only = read_only
        self.base_iri = base_iri
        self._lock_timeout = lock_timeout
        self._lock = threading.RLock()
        self._snapshot = ox.Store()
        self._name: str | None = None
        self._stamp: tuple[int, int] | None = None
        self._pin: IO[bytes] | None = None
        self._modified: datetime | None = None
        self._memory_sequence = 0
        self._memory_copy_max = memory_copy_max_quads
        self._copy: ox.Store | None = None
        self._copy_state = "off" if directory is None or memory_copy_max_quads <= 0 else "empty"
        self._copy_done = threading.Condition(self._lock)
        #: The release log of the published snapshot, read when first asked for.
        self._log: ReleaseLog | None = ReleaseLog(b"", base_iri) if directory is None else None
        #: The search index of the published release, opened when first asked for.
        self._search = IndexCache()
        #: A view of one past release (``at_release``): never moves to a newer snapshot.
        self._fixed = False
        #: Past snapshots a write keeps besides the current one (the rest are pruned).
        self._keep = KEEP_SNAPSHOTS
        #: What each release did to each thing, for the change feed (``versions.py``).
        self._versions = VersionFiles(None if directory is None else directory.root / "versions")

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        read_only: bool = False,
        base_iri: str = DEFAULT_BASE,
        lock_timeout: float = 60.0,
        memory_copy_max_quads: int = 0,
        keep_releases: int = KEEP_SNAPSHOTS,
    ) -> Store:
        """Open the store directory at ``path``, creating it unless ``read_only``.

        A write keeps the data of ``keep_releases`` past releases besides the current one (for
        ``at_release`` and ``rollback``) and prunes older snapshots.

        A read-only open of a path with no store yet gives an empty store that ``refresh()``
        fills once something is published there. With ``memory_copy_max_quads`` > 0, reads are
        served from a memory copy of each published snapshot of at most that many quads.

        Raises ``StoreError`` with the path and the problem for a regular file, a directory that
        is not a sinlod store, a store written by a newer sinlod, or a damaged snapshot.
        """
        directory = StoreDirectory(Path(path))
        exists = directory.check(create=not read_only)
        if not read_only:
            directory.try_cleanup()
        store = cls(
            directory,
            read_only=read_only,
            base_iri=base_iri,
            lock_timeout=lock_timeout,
            memory_copy_max_quads=memory_copy_max_quads,
        )
        store._keep = max(0, keep_releases)
        if exists:
            store._load_current()
            if not read_only and directory.format_version() < FORMAT_VERSION:
                store._migrate()
            if not read_only:
                store._keep_search_index()
        return store

    def _migrate(self) -> None:
        """Move a format-1 store's release log out of its data (a write that records nothing)."""
        log_graph = ox.NamedNode(releases_graph(self.base_iri))

        def change(w: ox.Store, carry: ox.Store | None, log: ox.Store) -> None:
            w.remove_graph(log_graph)  # the next log starts from it: see ``_read_log``
            return None

        log.info("%s: moving the release log out of the data (store format 1 -> 2)", self.path)
        self._write(change, None)

    @classmethod
    def in_memory(cls, *, base_iri: str = DEFAULT_BASE) -> Store:
        """A store that lives in memory only, with the same contract (for tests)."""
        return cls(None, read_only=False, base_iri=base_iri, lock_timeout=0)

    def _load_current(self) -> bool:
        """Point this object at the published snapshot; True if that changed anything.

        Serialized by the object's lock: the server refreshes from many threads at once.
        """
        with self._lock:
            return self._load_current_locked()

    def _load_current_locked(self) -> bool:
        assert self._dir is not None
        for attempt in range(3):
            stamp = self._dir.current_stamp()
            name = self._dir.current()
            if name == self._name:
                self._stamp = stamp
                return False
            if name is None:
                return False
            pin = self._dir.pin(name)
            try:
                snapshot = ox.Store.read_only(str(self._dir.snapshot_path(name)))
            except (OSError, RuntimeError) as exc:
                if pin is not None:
                    pin.close()
                if attempt < 2 and self._dir.current() != name:
                    continue  # pruned between reading CURRENT and opening: read CURRENT again
                raise StoreError(
                    f"{self._dir.root}: corrupt store: snapshot {name} cannot be opened: {exc}"
                ) from exc
            old_pin = self._pin
            self._copy = None  # never the new release id over the old copy's data
            self._log = None
            self._snapshot, self._name, self._stamp, self._pin = snapshot, name, stamp, pin
            self._modified = _mtime(self._dir.current_file)
            if old_pin is not None:
                old_pin.close()
            self._start_copy(name, snapshot)
            return True
        return False  # pragma: no cover - the loop returns or raises

    def refresh(self) -> bool:
        """Pick up a release published by another process (a cheap stat when nothing changed).

        Returns True when this store now shows a newer snapshot.
        """
        if self._fixed or self._dir is None or self._dir.current_stamp() == self._stamp:
            return False
        if self._name is None:
            self._dir.check(create=False)  # the store appeared after a read-only open
        return self._load_current()

    # -- the memory copy ---------------------------------------------------------------------

    def _start_copy(self, name: str, snapshot: ox.Store) -> None:
        """Copy ``snapshot`` (now published as ``name``) into memory in a background thread.
        Called under the lock; the previous copy is dropped at once, since it is out of date."""
        self._copy = None
        if self._copy_state == "off":
            return
        self._copy_state = "copying"
        thread = threading.Thread(
            target=self._copy_snapshot, args=(name, snapshot), name=f"sinlod-copy-{name}"
        )
        thread.daemon = True  # a server stopping mid-copy has nothing to save
        thread.start()

    def _copy_snapshot(self, name: str, snapshot: ox.Store) -> None:
        copy: ox.Store | None = None
        state = "too large"
        try:
            if self._name != name:
                return  # already out of date: the copy of the newer release is under way
            if len(snapshot) <= self._memory_copy_max:
                copy = _memory_copy(snapshot)
                state = "ready"
        except (OSError, RuntimeError, ValueError) as exc:
            # Most likely the snapshot was replaced and pruned meanwhile; a newer copy follows.
            log.warning("memory copy of snapshot %s abandoned: %s", name, exc)
            copy, state = None, "failed"
        del snapshot
        with self._lock:
            if self._name == name:
                self._copy, self._copy_state = copy, state
                self._copy_done.notify_all()

    @property
    def memory_copy(self) -> str:
        """What the memory copy of the published snapshot is: ``off`` (not wanted), ``empty``
        (nothing published yet), ``copying``, ``ready`` (reads use it), ``too large`` or
        ``failed`` (reads use the disk)."""
        return self._copy_state

    def wait_for_memory_copy(self, timeout: float | None = None) -> bool:
        """Block until the copy of the published snapshot is finished (or ``timeout`` seconds
        have passed); True when reads are now served from memory."""
        with self._lock:
            self._copy_done.wait_for(lambda: self._copy_state != "copying", timeout)
            return self._copy is not None

    def _reader(self) -> ox.Store:
        """The fastest store that holds exactly the published snapshot."""
        copy = self._copy
        return self._snapshot if copy is None else copy

    def close(self) -> None:
        """Let go of the snapshot, so that writers may prune it."""
        with self._lock:
            self._copy = None
            self._log = None
            self._snapshot = ox.Store()
            if self._pin is not None:
                self._pin.close()
                self._pin = None

    def __del__(self) -> None:
        # A store dropped without close() must not leak its pin file (nor warn about it).
        pin = getattr(self, "_pin", None)
        if pin is not None:
            pin.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    @property
    def oxigraph(self) -> ox.Store:
        """The current snapshot as a pyoxigraph store (its memory copy when there is one), for
        reading. Do not write to it."""
        return self._reader()

    @property
    def release_id(self) -> str | None:
        """Names the published snapshot; changes on every write. None for an empty new store."""
        return self._name

    @property
    def last_modified(self) -> datetime | None:
        """When the published snapshot was published (UTC)."""
        return self._modified

    @property
    def path(self) -> Path | None:
        return None if self._dir is None else self._dir.root

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union_default_graph: bool = True,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run a SPARQL query on the current snapshot.

        By default the default graph is the union of all graphs; ``default_graph`` and
        ``named_graphs`` restrict the dataset as the SPARQL protocol's parameters do.
        Raises ``QueryError`` with the parser's message (``error at 1:8: ...``).
        """
        kwargs: dict[str, Any] = {"base_iri": base_iri}
        if default_graph is not None:
            kwargs["default_graph"] = [_graph_name(g) for g in default_graph]
        elif union_default_graph and not declares_dataset(sparql):
            # The union of all graphs. Oxigraph's own union flag, not an explicit list of graphs:
            # a list makes every triple pattern a union over the graphs, 4 to 6 times slower on
            # joins and aggregates (bench/RESULTS.md). The release log is not in the snapshot, so
            # the union is the data alone. A query with FROM / FROM NAMED gets exactly the
            # dataset it names (pyoxigraph ignores FROM when the flag is set).
            kwargs["use_default_graph_as_union"] = True
        if named_graphs is not None:
            kwargs["named_graphs"] = [_graph_name(g) for g in named_graphs]
        try:
            result: QueryResult = self._reader().query(sparql, **kwargs)
        except SyntaxError as exc:
            raise QueryError(str(exc)) from exc
        except ValueError as exc:  # the base IRI (from the request's Host, for the server)
            raise QueryError(f"invalid base IRI {base_iri!r}: {exc}") from exc
        except (OSError, RuntimeError) as exc:
            raise QueryEvaluationError(f"query failed: {exc}") from exc
        return result

    def graph_names(self) -> list[str]:
        """The named graphs of the current snapshot, sorted."""
        return sorted(g.value for g in self._reader().named_graphs() if isinstance(g, ox.NamedNode))

    def graph_quads(self, graph: str | None) -> Iterator[ox.Quad]:
        """The quads of one graph of the current snapshot, lazily (``None``: the default graph);
        none for a graph that is not there. Routes read graphs through here, not ``oxigraph``."""
        name: ox.NamedNode | ox.DefaultGraph = (
            ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        )
        return iter(self._reader().quads_for_pattern(None, None, None, name))

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad of the current snapshot's data, lazily (the release log is not data)."""
        return iter(self._reader().quads_for_pattern(None, None, None, None))

    def dump_default_graph(self, out: BinaryIO, format: ox.RdfFormat) -> None:
        """Write the default graph alone to ``out`` (Oxigraph's serializer, in Rust)."""
        self._reader().dump(out, format, from_graph=ox.DefaultGraph())

    def releases(self) -> list[Release]:
        """The release log, oldest first."""
        return self._current_log().releases()

    def release_log(self) -> ox.Store:
        """The release log of the published snapshot as a pyoxigraph store (PROV-O and DCAT-AP in
        the graph ``{base}graph/releases``), for reading and serialising. Do not write to it."""
        return self._current_log().store()

    def _current_log(self) -> ReleaseLog:
        with self._lock:
            if self._log is None:
                self._log = self._read_log(self._name, self._snapshot)
            return self._log

    def _read_log(self, name: str | None, snapshot: ox.Store) -> ReleaseLog:
        """The log file of snapshot ``name``, or for a format-1 snapshot its releases graph."""
        if self._dir is None or name is None:
            return ReleaseLog(b"", self.base_iri)
        data = self._dir.read_log(name)
        if data is not None:
            try:
                log = ReleaseLog(data, self.base_iri)
                log.store()  # parse now: a damaged file is the store's error, said here
            except SyntaxError as exc:
                raise StoreError(f"{self._dir.root}: corrupt release log of {name}: {exc}") from exc
            return log
        g = ox.NamedNode(releases_graph(self.base_iri))
        return ReleaseLog.of(snapshot.quads_for_pattern(None, None, None, g), self.base_iri)

    def stats(self) -> Stats:
        return compute_stats(self._reader(), self.base_iri, self._name)

    # -- the search index ----------------------------------------------------------------------

    def search_index(self) -> SearchIndex:
        """The search and browse index of the published release (``search_index.py``): the file
        its publish wrote into the snapshot, opened read-only. A release written without one (by
        an older sinlod) or a store in memory gets one built for this process, with a warning
        for the first: a writable open of the store (any ``sinlod`` write) keeps one for good."""
        with self._lock:
            name, snapshot = self._name, self._reader()

        def make() -> SearchIndex:
            if self._dir is not None and name is not None:
                index = SearchIndex.open(index_path(self._dir.snapshot_path(name)))
                if index is not None:
                    return index
                log.warning(
                    "%s: release %s has no search index (written by an older sinlod); built"
                    " one for this process. Open the store for writing once to keep one.",
                    self._dir.root,
                    name,
                )
            return SearchIndex.build(snapshot, self.base_iri)

        return self._search.get(name, make)

    def _keep_search_index(self) -> None:
        """Write the search index of the published release into its snapshot when it has none
        (a release published by an older sinlod): a file beside the data, renamed into place,
        so a reader sees it whole or not at all. Never waits for the write lock: when another
        process holds it (a writer, or another server worker writing this index), it goes on
        without, and reads fall back until the file is there."""
        assert self._dir is not None
        name = self._name
        if name is None or index_path(self._dir.snapshot_path(name)).is_file():
            return
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self._dir.write_lock(0))
            except StoreError:
                return
            path = index_path(self._dir.snapshot_path(name))
            if self._dir.current() == name and not path.is_file():
                log.info("%s: writing the search index of release %s", self._dir.root, name)
                search_index.write(self._snapshot, self.base_iri, path)

    # -- past releases -------------------------------------------------------------------------

    def kept_releases(self) -> list[str]:
        """Ids of the releases whose data can still be read, oldest first, the current one last
        (``sinlod.store.history``: older snapshots are pruned; the release log keeps them all)."""
        if self._dir is None or self._fixed:
            return [] if self._name is None else [self._name]
        current = self._dir.current()
        if current is None:
            return []
        return [n for n in self._dir.snapshot_names() if n < current] + [current]

    def at_release(self, release_id: str) -> Store:
        """A read-only store showing a kept release as it was published: its data and its release
        log (``query``, ``dump``, ``releases`` answer for that release). It pins the snapshot
        against pruning until closed; use it in a ``with`` block.

        ``release_id`` may be a prefix of exactly one id. Raises ``ReleaseNotKept`` (a
        ``StoreError``) for an unknown id or a release whose data was pruned, naming the
        releases that can be read.
        """
        kept = self.kept_releases()
        found = resolve_release(release_id, [r.id for r in self.releases()], kept)
        view = Store(
            self._dir, read_only=True, base_iri=self.base_iri, lock_timeout=self._lock_timeout
        )
        view._fixed = True
        if self._dir is None:
            view._snapshot, view._name, view._log = self._snapshot, self._name, self._current_log()
            view._modified = self._modified
            return view
        pin = self._dir.pin(found)
        try:
            snapshot = ox.Store.read_only(str(self._dir.snapshot_path(found)))
        except (OSError, RuntimeError) as exc:
            if pin is not None:
                pin.close()
            raise ReleaseNotKept(
                f"release {found}: its data was pruned meanwhile; releases that can be read: "
                + ", ".join(self.kept_releases()),
                self.kept_releases(),
            ) from exc
        view._snapshot, view._name, view._pin = snapshot, found, pin
        view._modified = _mtime(self._dir.snapshot_path(found))
        return view

    def dump(
        self,
        out: BinaryIO | Path,
        *,
        graph: str | None = None,
        format: ox.RdfFormat = ox.RdfFormat.N_QUADS,
    ) -> int:
        """Write the dataset (or one ``graph``) to ``out``; returns the number of quads written.

        The whole dataset is the data plus the release log, as the graph ``{base}graph/releases``
        (``restore`` takes it back out); that graph can be dumped alone too. A path ending in
        ``.gz`` is gzip-compressed. A path is written to a temporary file and renamed, so an
        interrupted dump never leaves a truncated backup under the final name. Raises
        ``InputError`` for an unknown graph or a format that cannot hold several graphs.
        """
        snapshot, log = self._reader(), self.release_log()
        if graph is None and not format.supports_datasets:
            raise InputError(
                f"{format.name} holds one graph; choose a graph or use N-Quads or TriG"
            )
        if graph == releases_graph(self.base_iri):
            snapshot, log = log, ox.Store()
        if graph is not None and not snapshot.contains_named_graph(ox.NamedNode(graph)):
            raise InputError(f"no graph <{graph}> in the store")
        if isinstance(out, Path):
            return write_file(out, lambda f: self._dump_to(snapshot, log, f, graph, format))
        return self._dump_to(snapshot, log, out, graph, format)

    @staticmethod
    def _dump_to(
        snapshot: ox.Store, log: ox.Store, out: BinaryIO, graph: str | None, format: ox.RdfFormat
    ) -> int:
        if graph is None:
            snapshot.dump(out, format)  # in Rust, fast; then the (small) log after it
            ox.serialize(log.quads_for_pattern(None, None, None, None), out, format)
            return len(snapshot) + len(log)
        quads = snapshot.quads_for_pattern(None, None, None, ox.NamedNode(graph))
        count = 0

        def counted() -> Iterator[ox.Quad]:
            nonlocal count
            for quad in quads:
                count += 1
                yield quad

        if format.supports_datasets:
            ox.serialize(counted(), out, format)
        else:
            ox.serialize((q.triple for q in counted()), out, format)
        return count

    # -- writing -------------------------------------------------------------------------------

    def replace_graphs(
        self,
        graphs: Mapping[str, GraphContent],
        *,
        release: ReleaseInfo | None = None,
    ) -> Release:
        """Replace each named graph by new content, all in one atomic write, and record a release.

        A ``Path`` value is bulk-loaded from the file (format from its extension), which is the
        fast way for big sources. Empty content removes the graph. Returns the recorded release.
        """
        replaced = [ox.NamedNode(name) for name in graphs]
        if releases_graph(self.base_iri) in graphs:
            raise release_log_refusal(self.base_iri)
        for content in graphs.values():
            if isinstance(content, Path) and not content.is_file():
                raise InputError(f"{content}: no such file")

        def change(w: ox.Store, carry: ox.Store | None, log: ox.Store) -> Sequence[str]:
            if carry is not None:
                copy_graphs_except(carry, w, replaced)
            for g, content in zip(replaced, graphs.values(), strict=True):
                if carry is None:
                    w.remove_graph(g)
                if isinstance(content, Path):
                    bulk_load(w, content, to_graph=g)
                else:  # the snapshot being built has no readers: no transaction needed, 2x faster
                    w.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in content)
            return sorted(graphs)

        recorded = self._write(
            change,
            release or ReleaseInfo(agent="unknown"),
            rebuild=lambda base: cheaper_to_rebuild(base, replaced),
        )
        assert recorded is not None
        return recorded

    def update(
        self, sparql: str, *, base_iri: str | None = None, release: ReleaseInfo | None = None
    ) -> None:
        """Run a SPARQL update as one atomic write (a release with ``changed=None`` is recorded).

        An update that changes no quad (``INSERT DATA {}``, a ``WHERE`` that matches nothing,
        deleting what is not there) records no release and publishes no snapshot, for stores of
        up to ``UNCHANGED_CHECK_MAX_QUADS`` quads (the check reads them all, twice).

        Raises ``QueryError`` with the parser's message; the store is then unchanged.
        """

        def change(w: ox.Store, carry: ox.Store | None, log: ox.Store) -> None:
            before = _digest(w) if len(w) <= UNCHANGED_CHECK_MAX_QUADS else None
            run_update(w, sparql, base_iri)
            if before is not None and _digest(w) == before:
                raise _Unchanged
            return None

        try:
            self._write(change, release or ReleaseInfo(agent="unknown"))
        except _Unchanged:
            return  # the snapshot being built was thrown away by _write

    def restore(self, source: Path, *, release: ReleaseInfo | None = None) -> int:
        """Replace all the data by an N-Quads (or TriG, ``.gz`` too) dump's, atomically; returns
        the number of quads in the dump (data and release log).

        Into a store where nothing was published yet the dump comes back exactly: its data and,
        from its graph ``{base}graph/releases``, its release log; no release of its own is
        recorded. Into a store with published data nothing of the existing log is erased: the
        dump's releases that the log does not hold yet are appended to it, then the restore's
        own release (``release``: who, why, the dump file), listing the graphs whose data
        changed. A dump that changes neither the data nor the log writes nothing.
        """
        if not source.is_file():
            raise InputError(f"{source}: no such file")
        count = 0

        def change(w: ox.Store, carry: ox.Store | None, log: ox.Store) -> Sequence[str] | None:
            nonlocal count
            bulk_load(w, source, to_graph=None)
            count = len(w)
            split_release_log(w, log, self.base_iri)
            return None if carry is None else differing_graphs(carry, w)

        info = release or ReleaseInfo(agent="unknown")
        try:
            self._write(change, info, rebuild=lambda b: True, new_log=True)
        except _Unchanged:
            pass  # the snapshot being built was thrown away by _write
        return count

    def rollback(self, release_id: str, *, release: ReleaseInfo | None = None) -> Release | None:
        """Publish the data of a kept release again, as a new release: the log only grows.

        The new snapshot holds exactly the quads of release ``release_id`` (a prefix of exactly
        one id is enough), blank-node labels included, written like any other write (atomic,
        under the write lock); its release lists the graphs that changed. Returns None and
        writes nothing when the data already equals that release's (the no-op rule of
        ``sinlod.changes``). Raises ``ReleaseNotKept`` when that release's data was pruned.
        """
        with self.at_release(release_id) as target:

            def change(w: ox.Store, carry: ox.Store | None, log: ox.Store) -> Sequence[str] | None:
                assert carry is not None  # w starts as the old release; carry is the published
                changed = differing_graphs(carry, w)
                if changed == []:
                    raise _Unchanged
                return changed

            info = release or ReleaseInfo(agent="unknown")
            try:
                return self._write(change, info, start_from=target._snapshot)
            except _Unchanged:
                return None

    def version_pages(self, release_id: str) -> int:
        """How many pages of versions release ``release_id`` has for the change feed (0: none
        recorded, e.g. a release restored from a dump); see ``versions.py``."""
        return self._versions.pages(release_id)

    def versions(self, release_id: str, page: int) -> list[ThingVersion]:
        """The things release ``release_id`` created, updated or deleted, page ``page`` (from 1)
        of ``version_pages``, with each thing's state after the release."""
        return self._versions.read(release_id, page)

    def version_count(self, release_id: str, page: int) -> int:
        """How many versions page ``page`` of release ``release_id`` holds."""
        return self._versions.size(release_id, page)

    def _recording(
        self,
        change: Change,
        before: ox.Store | None,
        last: Release | None,
        info: ReleaseInfo | None,
    ) -> tuple[Change, list[ThingVersion]]:
        """``change``, then (when the write records a release) what it did to each thing,
        compared with ``before``, into the list returned. The first write after a release
        without versions records a baseline (``versions.py``)."""
        found: list[ThingVersion] = []
        baseline = last is not None and self._versions.pages(last.id) == 0

        def recording(w: ox.Store, carry: ox.Store | None, log: ox.Store) -> Sequence[str] | None:
            changed = change(w, carry, log)
            if info is not None:
                found.extend(thing_versions(before, w, changed, self.base_iri, baseline=baseline))
            return changed

        return recording, found

    def _write(
        self,
        change: Change,
        info: ReleaseInfo | None,
        *,
        rebuild: Callable[[ox.Store], bool] = lambda base: False,
        new_log: bool = False,
        start_from: ox.Store | None = None,
    ) -> Release | None:
        """Run ``change`` on a new snapshot and publish it, under the write lock.

        The new snapshot starts as a checkpoint of the published one, or empty when ``rebuild``
        says so; ``change`` then gets the published snapshot to carry over what it keeps. With
        ``start_from`` (a rollback) it starts as a checkpoint of that snapshot instead, and
        ``change`` gets the published one to compare with. The
        new release log is the published one plus this write's release, or with ``new_log``
        exactly what ``change`` put in the store it is given for it (a restore).
        """
        if self._read_only:
            raise StoreError(f"{self._dir.root if self._dir else 'store'}: opened read-only")
        if info is not None and info.started is None:
            info = dataclasses.replace(info, started=datetime.now(UTC))
        if self._dir is None:
            return self._write_memory(change, info, rebuild, new_log, start_from)
        with self._dir.write_lock(self._lock_timeout):
            self._dir.remove_abandoned()
            self._versions.remove_abandoned()
            current = self._dir.current()
            if new_log and current is None:
                info = None  # a restore into an empty store gives back the dump's log exactly
            name = self._dir.new_snapshot_name()
            building = self._dir.building_path(name)
            try:
                base = None
                previous = ReleaseLog(b"", self.base_iri)
                if current is not None:
                    mine = current == self._name
                    base = (
                        self._snapshot
                        if mine
                        else ox.Store.read_only(str(self._dir.snapshot_path(current)))
                    )
                    previous = self._current_log() if mine else self._read_log(current, base)
                carry = base if base is not None and rebuild(base) else None
                if start_from is not None:
                    start_from.backup(str(building))  # hard links: cheap, exact, labels kept
                    carry = base
                elif base is not None and carry is None:
                    base.backup(str(building))
                sink = ox.Store()
                recording, versions = self._recording(change, base, previous.last(), info)
                last = previous.last()
                recorded, quads = build(
                    str(building), recording, carry, sink, info, self.base_iri, name, last
                )
                del base, carry
                if recorded is not None:
                    self._versions.prepare(name, encode(versions))
                    self._versions.publish(name)
                log, added = _next_log(previous, sink, recorded, quads, new_log)
                if new_log and current is None:
                    self._dir.write_log(name, None, 0, lambda: b"", added)
                else:  # usually appends this release to the published log's file
                    self._dir.write_log(name, current, previous.size, lambda: previous.data, added)
                self._dir.commit(name)
                if self._dir.format_version() < FORMAT_VERSION:
                    self._dir.upgrade_format()
            except BaseException as exc:
                shutil.rmtree(building, ignore_errors=True)
                self._dir.forget_log(name)
                self._versions.forget(name)
                if isinstance(exc, OSError):  # the file system, not the caller's data
                    raise StoreError(f"{self._dir.root}: write failed: {exc}") from exc
                raise
            self._load_current()
            with self._lock:
                if self._name == name:
                    self._log = log  # already parsed as far as it was: no need to read the file
            self._dir.prune(self._keep)
            return recorded

    def _write_memory(
        self,
        change: Change,
        info: ReleaseInfo | None,
        rebuild: Callable[[ox.Store], bool],
        new_log: bool,
        start_from: ox.Store | None = None,
    ) -> Release | None:
        with self._lock:
            if new_log and self._name is None:
                info = None  # a restore into an empty store gives back the dump's log exactly
            new = ox.Store()
            carry = self._snapshot if rebuild(self._snapshot) else None
            if start_from is not None:
                new.extend(start_from.quads_for_pattern(None, None, None, None))
                carry = self._snapshot
            elif carry is None:
                new.extend(self._snapshot.quads_for_pattern(None, None, None, None))
            self._memory_sequence += 1
            name = f"{self._memory_sequence:06d}-memory"
            previous, sink = self._current_log(), ox.Store()
            recording, versions = self._recording(change, self._snapshot, previous.last(), info)
            recorded, quads = apply(
                new, recording, carry, sink, info, self.base_iri, name, previous.last()
            )
            if recorded is not None:
                self._versions.prepare(name, encode(versions))
                self._versions.publish(name)
            log, _ = _next_log(previous, sink, recorded, quads, new_log)
            self._snapshot, self._name, self._log = new, name, log
            self._modified = datetime.now(UTC)
            return recorded


def _next_log(
    previous: ReleaseLog,
    sink: ox.Store,
    recorded: Release | None,
    quads: list[ox.Quad],
    new_log: bool,
) -> tuple[ReleaseLog, bytes]:
    """The release log of the snapshot a write publishes, and the bytes it adds to the previous
    log. With ``new_log`` (a restore) ``sink`` holds the restored log: into an empty store
    (nothing recorded) it is the whole new log; else its releases not in the log yet come
    first, then the restore's own. Raises ``_Unchanged`` for a restore that changes nothing."""
    if new_log and recorded is None:
        log = ReleaseLog.of(sink.quads_for_pattern(None, None, None, None), previous.base)
        return log, log.data
    brought = b""
    if new_log:
        have = previous.store()
        new = [q for q in sink.quads_for_pattern(None, None, None, None) if q not in have]
        if not new and recorded is not None and recorded.changed == ():
            raise _Unchanged
        brought = ox.serialize(new, format=ox.RdfFormat.N_QUADS) or b""
    if recorded is None:
        return previous, b""
    added = brought + (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
    if brought:  # releases of another store: parse the log again, in order
        return ReleaseLog(previous.data + added, previous.base), added
    return previous.appended(added, recorded), added


def _graph_name(iri: str) -> ox.NamedNode:
    """A dataset parameter as a graph name; ``QueryError`` (the client's 400) if not an IRI."""
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise QueryError(f"invalid graph IRI {iri!r}: {exc}") from exc


_BLANK = "FILTER (isBlank(?s) || isBlank(?o))"
_ANY_BLANK = f"ASK {{ {{ ?s ?p ?o {_BLANK} }} UNION {{ GRAPH ?g {{ ?s ?p ?o {_BLANK} }} }} }}"
_DROP_BLANK = (
    f"DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o {_BLANK} }};"
    f" DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o {_BLANK} }} }}"
)
_BLANK_QUADS = (
    f"SELECT ?s ?p ?o ?g WHERE {{ {{ ?s ?p ?o {_BLANK} }}"
    f" UNION {{ GRAPH ?g {{ ?s ?p ?o {_BLANK} }} }} }}"
)


def _memory_copy(snapshot: ox.Store) -> ox.Store:
    """An in-memory store with exactly the quads of ``snapshot``.

    Dumping to N-Quads and bulk-loading run in Rust without the GIL, so the server keeps
    answering meanwhile (copying quad by quad through Python held the GIL for seconds: 50
    requests/s while it ran). Oxigraph's loaders rename blank nodes, though, so the quads with
    blank nodes are then replaced by the originals, read by a query. The release log is not in
    the snapshot, so it is not in the copy either (``Store.release_log`` reads it).
    """
    copy = ox.Store()
    copy.bulk_load(snapshot.dump(format=ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS)
    if not copy.query(_ANY_BLANK):
        return copy
    copy.update(_DROP_BLANK)
    rows = snapshot.query(_BLANK_QUADS)
    assert isinstance(rows, ox.QuerySolutions)
    copy.extend(
        ox.Quad(row["s"], row["p"], row["o"], row["g"] or ox.DefaultGraph()) for row in rows
    )
    return copy


#: Largest store (in quads) on which ``Store.update`` checks whether anything changed.
UNCHANGED_CHECK_MAX_QUADS = 500_000


class _Unchanged(Exception):
    """Raised inside a write to abandon it: the update changed nothing."""


def _digest(store: ox.Store) -> tuple[int, int, frozenset[str]]:
    """An order-independent fingerprint of every quad: (count, sum of 128-bit hashes), and the
    named graphs (``CREATE GRAPH`` makes one that holds no quad)."""
    total = 0
    count = 0
    for quad in store.quads_for_pattern(None, None, None, None):
        digest = hashlib.blake2b(str(quad).encode(), digest_size=16).digest()
        total = (total + int.from_bytes(digest, "big")) % (1 << 128)
        count += 1
    return count, total, frozenset(str(g) for g in store.named_graphs())


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None
