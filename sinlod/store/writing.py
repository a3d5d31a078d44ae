"""How a write builds the next snapshot: carry over, change, count, record the release.

These run on the snapshot being built (a private, read-write pyoxigraph store that no reader can
see yet), so they may use pyoxigraph's non-transactional bulk operations freely. The release is
recorded in the next release log, an in-memory store that ``Store`` writes beside the snapshot
(``layout.py`` says why the log is not in the data).
"""

from __future__ import annotations

import gc
import gzip
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, BinaryIO, cast

import pyoxigraph as ox

from sinlod.errors import (
    InputError,
    QueryError,
    QueryEvaluationError,
    ReleaseLogProtected,
    SourceLocation,
    StoreError,
)
from sinlod.rdf_guard import check_rdf_file
from sinlod.store import search_index
from sinlod.store.graphs import releases_graph
from sinlod.store.releases import (
    Release,
    ReleaseInfo,
    record_release,
)

QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
#: What a graph can be replaced with: triples (or quads, whose graph is ignored) or an RDF file.
GraphContent = Iterable[ox.Triple] | Iterable[ox.Quad] | Path
#: How a write changes the snapshot being built, given the published snapshot when it must carry
#: over what it keeps itself, and a store for a whole new release log (only ``restore`` fills
#: it); returns the graphs it replaced (None: any graph may have changed).
Change = Callable[[ox.Store, ox.Store | None, ox.Store], Sequence[str] | None]


def run_update(store: ox.Store, sparql: str, base_iri: str | None) -> None:
    """Run a SPARQL update on a pyoxigraph store, its failures as the library's errors: one that
    does not parse is a ``QueryError`` (400 over HTTP), one that parses and fails when run a
    ``QueryEvaluationError`` (500). The snapshot being built and the write gate's scratch copy
    both run updates through here, so the split is the same whichever path a write takes."""
    try:
        store.update(sparql, base_iri=base_iri)
    except SyntaxError as exc:
        raise QueryError(str(exc)) from exc
    except (OSError, RuntimeError) as exc:
        raise QueryEvaluationError(f"update failed: {exc}") from exc


COUNT = "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"


def cheaper_to_rebuild(base: ox.Store, replaced: Sequence[ox.NamedNode]) -> bool:
    """True when copying the kept graphs into an empty snapshot beats deleting the replaced ones.

    Deleting quads from RocksDB one by one is about twice as slow per quad as bulk-copying them
    (measured: 300k quads deleted in 10 s, copied in 5 s), so a publish that replaces most of the
    store starts from empty instead of from a checkpoint.
    """
    removed = 0
    for g in replaced:
        if base.contains_named_graph(g):
            result = base.query(COUNT.format(graph=g))
            assert isinstance(result, ox.QuerySolutions)
            removed += int(next(iter(result))["n"].value)
    return removed > 10_000 and removed * 2 > len(base) - removed


def copy_graphs_except(source: ox.Store, target: ox.Store, skip: Sequence[ox.NamedNode]) -> None:
    graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.DefaultGraph()]
    graphs += [g for g in source.named_graphs() if g not in skip]
    for g in graphs:
        target.bulk_extend(source.quads_for_pattern(None, None, None, g))


def build(
    path: str,
    change: Change,
    carry: ox.Store | None,
    log: ox.Store,
    info: ReleaseInfo | None,
    base: str,
    name: str,
    previous: Release | None,
) -> tuple[Release | None, list[ox.Quad]]:
    """Open the snapshot being built read-write, change it, write its search index
    (``search_index.py``), and close it before it is published.

    The read-write handle must be gone (RocksDB closed, background work finished) before
    ``CURRENT`` points at the directory, since readers open it read-only from then on.
    """
    try:
        w = ox.Store(path)
    except (OSError, RuntimeError) as exc:
        raise StoreError(f"{path}: cannot create the next snapshot: {exc}") from exc
    try:
        recorded = apply(w, change, carry, log, info, base, name, previous)
        w.flush()
        # The search index is one of the release's files: written before CURRENT names it.
        search_index.write(w, base, search_index.index_path(Path(path)))
    except OSError as exc:  # pyoxigraph's storage errors; others come from the caller's data
        raise StoreError(f"{path}: write failed: {exc}") from exc
    finally:
        del w
        gc.collect()
    return recorded


def apply(
    w: ox.Store,
    change: Change,
    carry: ox.Store | None,
    log: ox.Store,
    info: ReleaseInfo | None,
    base: str,
    name: str,
    previous: Release | None,
) -> tuple[Release | None, list[ox.Quad]]:
    """Change ``w``; then (if ``info``) the release and its quads for the release log, counting
    only the graphs that changed since ``previous``, the last release."""
    changed = change(w, carry, log)
    protect_release_log(w, base)
    if info is None:
        return None, []
    counts = graph_counts(w, base, previous, changed)
    return record_release(base, name, info, counts, changed)


def protect_release_log(w: ox.Store, base: str) -> None:
    """Refuse data under the release log's graph name: a dump would mix it into the log. An
    empty graph of that name (``CREATE GRAPH``) holds nothing and is dropped, as a gated write
    over HTTP, which writes only graphs whose triples changed, would drop it."""
    g = ox.NamedNode(releases_graph(base))
    if not w.contains_named_graph(g):
        return
    if next(iter(w.quads_for_pattern(None, None, None, g)), None) is not None:
        raise release_log_refusal(base)
    w.remove_graph(g)


def release_log_refusal(base: str) -> ReleaseLogProtected:
    name = releases_graph(base)
    return ReleaseLogProtected(
        f"the graph <{name}> is the release log's name; sinlod writes the log itself and a"
        " write may not create or change that graph"
    )


def split_release_log(w: ox.Store, log: ox.Store, base: str) -> None:
    """Move the graph ``{base}graph/releases`` out of ``w`` into ``log`` (a restored dump, or a
    format-1 snapshot): that graph is the release log, kept beside the data."""
    g = ox.NamedNode(releases_graph(base))
    if w.contains_named_graph(g):
        log.extend(w.quads_for_pattern(None, None, None, g))
        w.remove_graph(g)


def graph_counts(
    w: ox.Store, base: str, previous: Release | None, changed: Sequence[str] | None
) -> dict[str, int]:
    """Triples per named graph after a write; unchanged graphs reuse the previous release's count.

    Counting only what changed keeps a publish of one big source from rescanning the store.
    """
    names = sorted(g.value for g in w.named_graphs() if isinstance(g, ox.NamedNode))
    known = previous.graphs if previous is not None and changed is not None else {}
    counts = {}
    for name in names:
        if name in known and name not in (changed or ()):
            counts[name] = known[name]
            continue
        result = w.query(COUNT.format(graph=ox.NamedNode(name)))
        assert isinstance(result, ox.QuerySolutions)
        counts[name] = int(next(iter(result))["n"].value)
    return counts


def bulk_load(w: ox.Store, path: Path, *, to_graph: ox.NamedNode | None) -> None:
    """Bulk-load an RDF file (``.gz`` decompressed on the fly); syntax errors become InputError."""
    inner = path.with_suffix("") if path.suffix == ".gz" else path
    extension = inner.suffix.lstrip(".").lower()
    try:
        fmt = ox.RdfFormat.from_extension("rdf" if extension == "owl" else extension)
    except ValueError:
        fmt = None
    if fmt is None:
        raise InputError(f"{path}: unknown RDF format (use .nt, .nq, .ttl, .trig, .rdf, .jsonld)")
    check_rdf_file(path, fmt)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                w.bulk_load(cast(IO[bytes], f), fmt, to_graph=to_graph)
        else:
            w.bulk_load(path=str(path), format=fmt, to_graph=to_graph)
    except SyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(exc.msg, SourceLocation(str(path), line)) from exc
    except (EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: not a readable gzip file: {exc}") from exc


def write_file(path: Path, write: Callable[[BinaryIO], int]) -> int:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if path.suffix == ".gz":
            with gzip.GzipFile(tmp, "wb", mtime=0) as gz:
                count = write(gz)  # type: ignore[arg-type]
        else:
            with open(tmp, "wb") as f:
                count = write(f)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return count
