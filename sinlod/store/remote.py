"""The store on a remote SPARQL 1.1 server: Oxigraph's server, Virtuoso, Fuseki, QLever.

``RemoteStore`` implements ``StoreBackend`` over SPARQL 1.1 Query, Update and (when configured)
the Graph Store Protocol, with httpx. The remote server gives no transaction over several
graphs, so a release is made atomic by never changing a graph readers can see:

- each release's graphs are stored under names of their own, ``{base}store/graph/{release}/{n}``
  (a graph a write does not replace keeps the stored name it had: a publish uploads only what
  changed, and a rollback uploads nothing);
- a release's *state* graph ``{base}store/state/{release}`` maps each logical graph name
  (``{base}graph/{dataset}/{table}``) to its stored name and lists the release-log graphs;
- the *pointer* graph ``{base}store/pointer`` holds one triple per published release,
  ``<state> <urn:sinlod:store:sequence> N``. Inserting that one triple is the commit: it is
  written last, after every graph it refers to is complete, and a single-triple insert is atomic
  on any store. Readers take the highest sequence.

Readers scope every query to the published release (``rewrite.py``): its stored graphs are the
dataset (``default-graph-uri``/``named-graph-uri``), graph names in the text are mapped to
stored ones and ``GRAPH ?g`` binds the logical names. A write that fails or is killed leaves
graphs no committed state names; the next write deletes them. The newest ``keep_releases``
releases besides the current one stay readable (``at_release``, ``rollback``), older ones are
pruned; the release log keeps every release. docs/store.md, "A remote backend", has the
guarantees and the differences between engines.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from sinlod.errors import InputError, QueryError, QueryEvaluationError, StoreError
from sinlod.sparql_text import declares_dataset, tokens
from sinlod.store.graphs import releases_graph
from sinlod.store.history import resolve_release
from sinlod.store.layout import KEEP_SNAPSHOTS
from sinlod.store.releases import (
    Release,
    ReleaseInfo,
    ReleaseLog,
    record_release,
    release_triples,
)
from sinlod.store.rewrite import declared_dataset, scope_query
from sinlod.store.search_index import IndexCache, SearchIndex
from sinlod.store.stats import Stats, compute_stats
from sinlod.store.writing import (
    GraphContent,
    QueryResult,
    bulk_load,
    protect_release_log,
    release_log_refusal,
    run_update,
    split_release_log,
    write_file,
)

if TYPE_CHECKING:
    from sinlod.config import Settings

log = logging.getLogger(__name__)

#: The private vocabulary of the pointer and state graphs.
V = "urn:sinlod:store:"
XSD = "http://www.w3.org/2001/XMLSchema#"
#: Triples per upload request (a Graph Store POST or an INSERT DATA); Virtuoso's SPARQL compiler
#: refuses very long INSERT DATA texts, and a request this size takes well under a second.
CHUNK = 20_000

#: Seconds to read the pointer graph: it is one small query, asked on the server's event loop.
POINTER_TIMEOUT = 5.0

_RESULTS_JSON = "application/sparql-results+json"
#: Virtuoso answers in the first type of Accept whatever the query form, so ask for one.
_GRAPH_TYPES = "application/n-triples, text/turtle;q=0.8"


class RemoteQueryTimeout(QueryEvaluationError):
    """The remote store did not answer a query within the query time limit."""


class RemoteStoreError(StoreError):
    """The remote store cannot be reached, refused a write, or answered what sinlod cannot read."""


@dataclass(frozen=True)
class State:
    """One release as the remote store holds it: logical graph → stored graph, and the graphs of
    its release log (oldest first)."""

    release: str
    sequence: int
    graphs: Mapping[str, str]
    default: str | None
    logs: tuple[str, ...]
    modified: datetime | None
    counts: Mapping[str, int] = field(default_factory=dict)

    def stored(self) -> list[str]:
        return sorted({*self.graphs.values(), *([self.default] if self.default else [])})


@dataclass
class _Cached:
    """What a reader fetched for one release: the data as a pyoxigraph store, and its log."""

    data: ox.Store | None = None
    log: ReleaseLog | None = None


class RemoteStore:
    """Published RDF data on a remote SPARQL 1.1 server, as atomic releases (module docstring).

    Implements ``sinlod.store.backend.StoreBackend``.
    """

    #: Queries are answered over HTTP (the server never runs them on its event loop).
    remote = True

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        graph_store_url: str | None = None,
        base_iri: str,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        read_only: bool = False,
        query_timeout: float = 10.0,
        refresh_interval: float = 1.0,
        max_result_bytes: int = 512_000_000,
        namespace: str | None = None,
        keep_releases: int = KEEP_SNAPSHOTS,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.graph_store_url = graph_store_url
        self.base_iri = base_iri
        self._prefix = namespace or f"{base_iri}store/"
        self._keep = max(0, keep_releases)
        self._read_only = read_only
        self._query_timeout = query_timeout
        self._refresh_interval = refresh_interval
        self._max_result_bytes = max_result_bytes
        # TCP_NODELAY: a request's headers and body leave in separate writes, and Nagle's
        # algorithm would hold the body back until the headers are acknowledged.
        transport = httpx.HTTPTransport(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        self._client = httpx.Client(
            auth=auth,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(60.0, connect=10.0),
            transport=transport,
        )
        self._owns_client = True
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._state: State | None = None
        self._checked = float("-inf")
        self._cache: dict[str, _Cached] = {}
        self._fixed = False
        self._search = IndexCache()

    @classmethod
    def from_settings(cls, settings: Settings, *, read_only: bool = False) -> RemoteStore:
        """The remote store the settings name (``remote_*``). Raises ``InputError`` without a
        query URL or with an unknown ``remote_auth``; ``RemoteStoreError`` when unreachable."""
        if not settings.remote_query_url:
            raise InputError("setting 'remote_query_url' is needed with backend = \"remote\"")
        auth: httpx.Auth | None = None
        headers = {}
        if settings.remote_token:
            headers["Authorization"] = f"Bearer {settings.remote_token}"
        elif settings.remote_user:
            password = settings.remote_password or ""
            if settings.remote_auth == "digest":
                auth = httpx.DigestAuth(settings.remote_user, password)
            elif settings.remote_auth == "basic":
                auth = httpx.BasicAuth(settings.remote_user, password)
            else:
                raise InputError(
                    f"setting 'remote_auth': expected basic or digest, got {settings.remote_auth!r}"
                )
        store = cls(
            settings.remote_query_url,
            update_url=settings.remote_update_url,
            graph_store_url=settings.remote_graph_store_url,
            base_iri=settings.base_iri,
            auth=auth,
            headers=headers,
            read_only=read_only,
            query_timeout=settings.query_timeout,
            refresh_interval=settings.remote_refresh_interval,
            max_result_bytes=max(64_000_000, settings.max_results * 4096),
            namespace=settings.remote_namespace,
            keep_releases=settings.keep_releases,
        )
        store._sync()  # unreachable or refusing: said here, when it is opened
        return store

    # -- names ---------------------------------------------------------------------------------

    @property
    def pointer_graph(self) -> str:
        return f"{self._prefix}pointer"

    def _state_iri(self, release: str) -> str:
        return f"{self._prefix}state/{release}"

    @property
    def _missing(self) -> str:
        """A graph name no release has: the dataset of a query that names nothing there."""
        return f"{self._prefix}none"

    # -- HTTP ----------------------------------------------------------------------------------

    def _post(self, url: str, data: Mapping[str, Any] | None = None, **kwargs: Any) -> bytes:
        try:
            response = self._client.post(url, data=data, **kwargs)
        except httpx.TimeoutException as exc:
            raise RemoteQueryTimeout(f"the remote store did not answer in time: {exc}") from exc
        except httpx.HTTPError as exc:
            raise RemoteStoreError(f"remote store {url} cannot be reached: {exc}") from exc
        return self._checked_body(response)

    def _checked_body(self, response: httpx.Response) -> bytes:
        if response.status_code >= 400:
            text = response.text.strip()[:2000]
            message = (
                f"{response.status_code} from {response.request.url.copy_with(query=None)}: {text}"
            )
            if response.status_code in (401, 403):
                raise RemoteStoreError(f"the remote store refused the credentials: {message}")
            if response.status_code == 400 or "SP030" in text or "syntax error" in text.lower():
                raise QueryError(message)
            raise QueryEvaluationError(message)
        return response.content

    def _run_update(self, text: str) -> None:
        """Send one update (sinlod's own bookkeeping or an upload); errors are the store's."""
        if self._read_only:
            raise StoreError("the remote store was opened read-only")
        try:
            self._post(
                self.update_url,
                content=text.encode(),
                headers={"Content-Type": "application/sparql-update"},
            )
        except QueryError as exc:
            raise RemoteStoreError(f"the remote store refused a write: {exc}") from exc

    def _select(
        self,
        text: str,
        dataset: Mapping[str, Sequence[str]] | None = None,
        *,
        timeout: float = 60.0,
    ) -> list[Any]:
        result = self._query_raw(text, dataset or {}, timeout=timeout)
        assert isinstance(result, ox.QuerySolutions)
        return list(result)

    def _query_raw(
        self, text: str, dataset: Mapping[str, Sequence[str]], *, timeout: float
    ) -> QueryResult:
        params: list[tuple[str, str]] = [("query", text)]
        for key, values in dataset.items():
            params += [(key, v) for v in values]
        try:
            with self._client.stream(
                "POST",
                self.query_url,
                content=urlencode(params).encode(),
                headers={
                    "Accept": _accept(text),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                timeout=httpx.Timeout(timeout, connect=10.0),
            ) as response:
                body = bytearray()
                if response.status_code < 400:
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > self._max_result_bytes:
                            raise QueryEvaluationError(
                                f"the remote store's answer is larger than"
                                f" {self._max_result_bytes} bytes"
                            )
                else:
                    response.read()
                    self._checked_body(response)
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                truncated = response.headers.get("x-sparql-maxrows")
        except httpx.TimeoutException as exc:
            raise RemoteQueryTimeout(
                f"the query ran longer than {timeout:g} s on the remote store"
            ) from exc
        except httpx.HTTPError as exc:
            raise RemoteStoreError(
                f"remote store {self.query_url} cannot be reached: {exc}"
            ) from exc
        if truncated and _reached(bytes(body), kind, truncated):
            # Virtuoso cut the answer at its ResultSetMaxRows (it sends the header whenever the
            # limit applies; an answer shorter than it is whole): never pass on a part.
            raise QueryEvaluationError(
                f"the remote store returned only its first {truncated} rows (Virtuoso's"
                " ResultSetMaxRows); raise it above sinlod's max_results"
            )
        return _parse_answer(bytes(body), kind)

    # -- the published release -----------------------------------------------------------------

    def _current(self) -> State | None:
        """The highest committed state, read from the pointer graph (one small query)."""
        rows = self._select(
            f"SELECT ?s ?n WHERE {{ GRAPH <{self.pointer_graph}> {{ ?s <{V}sequence> ?n }} }}"
            " ORDER BY DESC(?n) DESC(?s) LIMIT 1",
            timeout=POINTER_TIMEOUT,
        )
        if not rows:
            return None
        iri, sequence = rows[0]["s"].value, int(rows[0]["n"].value)
        release = iri.rsplit("/", 1)[-1]
        with self._lock:
            if self._state is not None and self._state.release == release:
                return self._state
        return self._read_state(release, sequence)

    def _read_state(self, release: str, sequence: int) -> State:
        state = self._state_iri(release)
        rows = self._select(
            f"SELECT ?p ?o ?x WHERE {{ GRAPH <{state}> {{ <{state}> ?p ?o"
            f" OPTIONAL {{ ?o <{V}name> ?x }} }} }}"
        )
        graphs: dict[str, str] = {}
        default = None
        logs: list[tuple[int, str]] = []
        modified = None
        for row in rows:
            p, o, x = row["p"].value, row["o"], row["x"]
            if p == f"{V}graph" and x is not None:
                graphs[x.value] = o.value
            elif p == f"{V}default":
                default = o.value
            elif p == f"{V}log":
                logs.append((int(o.value.rsplit("#", 1)[-1]), o.value.rsplit("#", 1)[0]))
            elif p == f"{V}modified":
                modified = datetime.fromisoformat(o.value.replace("Z", "+00:00"))
        if modified is None:
            raise RemoteStoreError(f"the remote store's state of release {release} is damaged")
        return State(
            release, sequence, graphs, default, tuple(g for _, g in sorted(logs)), modified
        )

    def refresh(self) -> bool:
        """Pick up a release published by another process; True when there is a newer one.

        Asks the remote store at most every ``refresh_interval`` seconds (one small query)."""
        if self._fixed:
            return False
        now = time.monotonic()
        if now - self._checked < self._refresh_interval:
            return False
        self._checked = now
        try:
            return self._sync()
        except (RemoteStoreError, QueryError) as exc:
            # The server calls this on its event loop for every request: a store that is down
            # must not stall it or fail every page. The release known stays; queries to the
            # store fail on their own (and it is asked again after refresh_interval).
            log.warning("the remote store's published release could not be read: %s", exc)
            return False

    def _sync(self) -> bool:
        state = self._current()
        with self._lock:
            changed = (state and state.release) != (self._state and self._state.release)
            self._state = state
            if changed:
                self._cache = {k: v for k, v in self._cache.items() if state and k == state.release}
            return bool(changed)

    @property
    def release_id(self) -> str | None:
        state = self._state
        return None if state is None else state.release

    @property
    def last_modified(self) -> datetime | None:
        state = self._state
        return None if state is None else state.modified

    @property
    def path(self) -> Path | None:
        return None

    @property
    def memory_copy(self) -> str:
        return "off"

    def wait_for_memory_copy(self, timeout: float | None = None) -> bool:
        return False

    def _cached(self, state: State) -> _Cached:
        with self._lock:
            return self._cache.setdefault(state.release, _Cached())

    # -- reading -------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union_default_graph: bool = True,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run a SPARQL query on the published release, on the remote store (``rewrite.py``).

        The dataset is that release's graphs: with ``union_default_graph`` the default graph is
        their union, as on the embedded store. Raises ``QueryError`` for a query the remote store
        refuses, ``RemoteQueryTimeout`` past ``query_timeout``.
        """
        text, dataset, hidden = self.prepared(
            sparql,
            default_graph=default_graph,
            named_graphs=named_graphs,
            union_default_graph=union_default_graph,
            base_iri=base_iri,
        )
        result = self._query_raw(text, dataset, timeout=self._query_timeout + 1.0)
        if hidden and isinstance(result, ox.QuerySolutions):
            result = _without(result, hidden)
        return result

    def prepared(
        self,
        sparql: str,
        *,
        default_graph: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union_default_graph: bool = True,
        base_iri: str | None = None,
    ) -> tuple[str, dict[str, list[str]], tuple[str, ...]]:
        """What ``query`` sends the remote store: the scoped text, the protocol's dataset
        parameters, and the helper variables to drop from the solutions (``bench/remote.py``
        sends the same to the store directly, to measure what sinlod adds)."""
        state = self._state
        stored = dict(state.graphs) if state else {}
        default = state.default if state else None
        scoped = scope_query(sparql, stored, self._missing, base_iri, named_graphs)
        # A BASE of the query's own comes later in the prologue and is resolved against this.
        text = f"BASE <{base_iri}>\n{scoped.text}" if base_iri else scoped.text
        # The dataset as the embedded store makes it (``Store.query``), in stored names.
        missing = [self._missing]
        dataset: dict[str, list[str]] = {}
        declared = declares_dataset(sparql)
        if default_graph is not None or named_graphs is not None or not declared:
            # pyoxigraph takes what the protocol does not name from the query's own FROM / FROM
            # NAMED, when it has them.
            text_default, text_named = declared_dataset(sparql, base_iri) if declared else ([], [])
            everything = sorted({*stored.values(), *([default] if default else [])})
            if default_graph is not None:
                chosen = [stored.get(g, self._missing) for g in default_graph]
            elif declared:
                chosen = [stored.get(g, self._missing) for g in text_default]
            elif union_default_graph:
                chosen = everything
            else:
                chosen = [default] if default else []
            dataset["default-graph-uri"] = chosen or missing
            if named_graphs is not None:
                named = [stored.get(g, self._missing) for g in named_graphs]
            elif declared:
                named = [stored.get(g, self._missing) for g in text_named]
            else:
                named = sorted(stored.values())
            dataset["named-graph-uri"] = named or missing
        return text, dataset, scoped.hidden

    def _fetch_graph(self, stored: str) -> Iterator[ox.Triple]:
        """The triples of one stored graph (Graph Store GET, or a CONSTRUCT), checked against
        the store's own count: Virtuoso cuts both at its ``ResultSetMaxRows`` (10,000 on a stock
        install), the Graph Store GET without saying so."""
        triples = self._download_graph(stored)
        if triples:
            rows = self._select(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{stored}> {{ ?s ?p ?o }} }}"
            )
            expected = int(rows[0]["n"].value) if rows else 0
            if len(set(triples)) < expected:
                raise RemoteStoreError(
                    f"the remote store returned {len(triples)} of the {expected} triples of"
                    f" <{stored}> (Virtuoso's ResultSetMaxRows?); raise that limit above the"
                    " largest graph"
                )
        return iter(triples)

    def _download_graph(self, stored: str) -> list[ox.Triple]:
        if self.graph_store_url:
            try:
                response = self._client.get(
                    self.graph_store_url,
                    params={"graph": stored},
                    headers={"Accept": "application/n-triples"},
                )
            except httpx.HTTPError as exc:
                raise RemoteStoreError(f"remote store cannot be reached: {exc}") from exc
            if response.status_code == 404:
                return []
            body = self._checked_body(response)
            kind = response.headers.get("content-type", "application/n-triples").split(";")[0]
            fmt = ox.RdfFormat.from_media_type(kind.strip()) or ox.RdfFormat.N_TRIPLES
            return [q.triple for q in ox.parse(body, fmt)]
        result = self._query_raw(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{stored}> {{ ?s ?p ?o }} }}", {}, timeout=600
        )
        assert isinstance(result, ox.QueryTriples)
        return list(result)

    def graph_names(self) -> list[str]:
        state = self._state
        return [] if state is None else sorted(state.graphs)

    def graph_quads(self, graph: str | None) -> Iterator[ox.Quad]:
        """The quads of one graph of the published release (``None``: the default graph)."""
        state = self._state
        if state is None:
            return iter(())
        stored = state.default if graph is None else state.graphs.get(graph)
        if stored is None:
            return iter(())
        name: ox.NamedNode | ox.DefaultGraph = (
            ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        )
        return (ox.Quad(t.subject, t.predicate, t.object, name) for t in self._fetch_graph(stored))

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad of the published release's data (not the release log)."""
        yield from self.graph_quads(None)
        for g in self.graph_names():
            yield from self.graph_quads(g)

    @property
    def oxigraph(self) -> ox.Store:
        """The published release's data in a pyoxigraph store in memory, fetched once per
        release: the write gate and validation compute on it. Do not write to it."""
        state = self._state
        if state is None:
            return ox.Store()
        cached = self._cached(state)
        with self._lock:
            if cached.data is None:
                copy = ox.Store()
                copy.extend(self.graph_quads(None))
                for g in state.graphs:
                    copy.add_graph(ox.NamedNode(g))
                    copy.extend(self.graph_quads(g))
                cached.data = copy
            return cached.data

    def search_index(self) -> SearchIndex:
        """The published release's search and browse index, built in this process from its data
        (``oxigraph``) once per release: a remote store has no snapshot directory to keep one."""
        return self._search.get(
            self.release_id, lambda: SearchIndex.build(self.oxigraph, self.base_iri)
        )

    def dump_default_graph(self, out: BinaryIO, format: ox.RdfFormat) -> None:
        ox.serialize((q.triple for q in self.graph_quads(None)), out, format)

    def releases(self) -> list[Release]:
        return self._log().releases()

    def release_log(self) -> ox.Store:
        return self._log().store()

    def _log(self, state: State | None = None) -> ReleaseLog:
        state = state or self._state
        if state is None:
            return ReleaseLog(b"", self.base_iri)
        cached = self._cached(state)
        with self._lock:
            if cached.log is None:
                g = ox.NamedNode(releases_graph(self.base_iri))
                quads: list[ox.Quad] = []
                for i in range(0, len(state.logs), 200):  # one request per 200 releases
                    found = self._query_raw(
                        "CONSTRUCT WHERE { ?s ?p ?o }",
                        {"default-graph-uri": state.logs[i : i + 200]},
                        timeout=600,
                    )
                    assert isinstance(found, ox.QueryTriples)
                    quads += (ox.Quad(t.subject, t.predicate, t.object, g) for t in found)
                cached.log = ReleaseLog.of(quads, self.base_iri)
            return cached.log

    def stats(self) -> Stats:
        return compute_stats(self.oxigraph, self.base_iri, self.release_id)

    def dump(
        self,
        out: BinaryIO | Path,
        *,
        graph: str | None = None,
        format: ox.RdfFormat = ox.RdfFormat.N_QUADS,
    ) -> int:
        """As ``Store.dump``: the data and the release log (as ``{base}graph/releases``), or one
        graph; a path is written to a temporary file and renamed."""
        if graph is None and not format.supports_datasets:
            raise InputError(
                f"{format.name} holds one graph; choose a graph or use N-Quads or TriG"
            )
        log_graph = releases_graph(self.base_iri)
        if graph is not None and graph != log_graph and graph not in self.graph_names():
            raise InputError(f"no graph <{graph}> in the store")

        def quads() -> Iterator[ox.Quad]:
            if graph is None:
                yield from self.quads()
                yield from self.release_log().quads_for_pattern(None, None, None, None)
            elif graph == log_graph:
                yield from self.release_log().quads_for_pattern(None, None, None, None)
            else:
                yield from self.graph_quads(graph)

        def write(f: BinaryIO) -> int:
            count = 0

            def counted() -> Iterator[ox.Quad]:
                nonlocal count
                for q in quads():
                    count += 1
                    yield q

            if format.supports_datasets:
                ox.serialize(counted(), f, format)
            else:
                ox.serialize((q.triple for q in counted()), f, format)
            return count

        if isinstance(out, Path):
            return write_file(out, write)
        return write(out)

    # -- past releases -------------------------------------------------------------------------

    def _committed(self) -> list[tuple[int, str]]:
        rows = self._select(
            f"SELECT ?s ?n WHERE {{ GRAPH <{self.pointer_graph}> {{ ?s <{V}sequence> ?n }} }}"
        )
        return sorted((int(r["n"].value), r["s"].value.rsplit("/", 1)[-1]) for r in rows)

    def kept_releases(self) -> list[str]:
        """Ids of the releases whose data can still be read, oldest first, the current one last."""
        if self._fixed:
            return [] if self._state is None else [self._state.release]
        return [release for _, release in self._committed()]

    def at_release(self, release_id: str) -> RemoteStore:
        """A read-only view of a kept release (its data and its release log); use in ``with``.
        Raises ``ReleaseNotKept`` for an unknown or pruned release."""
        kept = self._committed()
        found = resolve_release(release_id, [r.id for r in self.releases()], [r for _, r in kept])
        sequence = dict((r, n) for n, r in kept)[found]
        view = RemoteStore.__new__(RemoteStore)
        view.__dict__.update(self.__dict__)
        view._owns_client = False
        view._read_only = True
        view._fixed = True
        view._lock = threading.RLock()
        view._cache = {}
        view._state = self._read_state(found, sequence)
        return view

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    def replace_graphs(
        self, graphs: Mapping[str, GraphContent], *, release: ReleaseInfo | None = None
    ) -> Release:
        """Replace each named graph by new content (empty: remove it) as one atomic release."""
        if releases_graph(self.base_iri) in graphs:
            raise release_log_refusal(self.base_iri)
        for content in graphs.values():
            if isinstance(content, Path) and not content.is_file():
                raise InputError(f"{content}: no such file")
        contents: dict[str | None, GraphContent] = {g: c for g, c in graphs.items()}
        recorded = self._write(contents, release or ReleaseInfo(agent="unknown"), sorted(graphs))
        assert recorded is not None
        return recorded

    def update(
        self, sparql: str, *, base_iri: str | None = None, release: ReleaseInfo | None = None
    ) -> None:
        """Run a SPARQL update as one atomic release. It is computed in memory on the published
        release (pyoxigraph: the same semantics and errors as the embedded store) and the graphs
        it changed are uploaded as the next release; an update that changes nothing records no
        release."""
        with self._write_lock:
            self._sync()
            before = self.oxigraph
            scratch = ox.Store()
            scratch.extend(before.quads_for_pattern(None, None, None, None))
            for g in before.named_graphs():
                scratch.add_graph(g)
            run_update(scratch, sparql, base_iri)
            protect_release_log(scratch, self.base_iri)
            after = {g.value for g in scratch.named_graphs() if isinstance(g, ox.NamedNode)}
            changed = _changed_graphs(before, scratch)
            if not changed and after == set(self.graph_names()):
                return
            contents: dict[str | None, GraphContent] = {
                g: list(_graph(scratch, g)) for g in changed
            }
            new = after - set(self.graph_names())  # created empty (CREATE GRAPH)
            contents.update({g: [] for g in new if g not in contents})
            empty = {g for g in after if not contents.get(g, [None])}
            self._write(
                contents,
                release or ReleaseInfo(agent="unknown"),
                None,
                keep_empty=empty,
                locked=True,
            )

    def restore(self, source: Path, *, release: ReleaseInfo | None = None) -> int:
        """Replace all the data by a whole-store dump's (N-Quads or TriG, ``.gz`` too); returns
        the number of quads in the dump. Into an empty store the dump's release log becomes the
        log and no release is recorded; into published data the dump's releases the log does not
        hold are appended, then the restore's own release (as ``Store.restore``)."""
        if not source.is_file():
            raise InputError(f"{source}: no such file")
        loaded = ox.Store()
        bulk_load(loaded, source, to_graph=None)
        count = len(loaded)
        dumped_log = ox.Store()
        split_release_log(loaded, dumped_log, self.base_iri)
        names = sorted(g.value for g in loaded.named_graphs() if isinstance(g, ox.NamedNode))
        contents: dict[str | None, GraphContent] = {
            g: [q.triple for q in loaded.quads_for_pattern(None, None, None, ox.NamedNode(g))]
            for g in names
        }
        contents[None] = [
            q.triple for q in loaded.quads_for_pattern(None, None, None, ox.DefaultGraph())
        ]
        with self._write_lock:
            self._sync()
            dumped = list(dumped_log.quads_for_pattern(None, None, None, None))
            if self._state is None:
                self._write(contents, None, None, replace_all=True, log_quads=dumped, locked=True)
                return count
            known = {r.id for r in self.releases()}
            new_ids = [
                r.id for r in ReleaseLog.of(dumped, self.base_iri).releases() if r.id not in known
            ]
            carried = [
                t for rid in new_ids for t in release_triples(dumped_log, self.base_iri, rid)
            ]
            changed = _relabelled_differences(self.oxigraph, loaded)
            if changed == [] and not new_ids:
                return count
            self._write(
                contents,
                release or ReleaseInfo(agent="unknown"),
                changed,
                replace_all=True,
                carried_log=carried,
                locked=True,
            )
        return count

    def rollback(self, release_id: str, *, release: ReleaseInfo | None = None) -> Release | None:
        """Publish the data of a kept release again as a new release: its stored graphs are
        named again by the new state, nothing is uploaded. None when the data already is it."""
        with self._write_lock:
            self._sync()
            with self.at_release(release_id) as target:
                wanted = target._state
            assert wanted is not None
            current = self._state
            if current is not None and (dict(current.graphs), current.default) == (
                dict(wanted.graphs),
                wanted.default,
            ):
                return None
            old = dict(current.graphs) if current else {}
            changed = sorted(
                g for g in {*old, *wanted.graphs} if old.get(g) != wanted.graphs.get(g)
            )
            any_change = None if (current and current.default) != wanted.default else changed
            return self._write(
                {},
                release or ReleaseInfo(agent="unknown"),
                any_change,
                mapping=(dict(wanted.graphs), wanted.default),
                locked=True,
            )

    def _write(
        self,
        contents: Mapping[str | None, GraphContent],
        info: ReleaseInfo | None,
        changed: Sequence[str] | None,
        *,
        replace_all: bool = False,
        keep_empty: set[str] | None = None,
        mapping: tuple[dict[str, str], str | None] | None = None,
        log_quads: Sequence[ox.Quad] | None = None,
        carried_log: Sequence[ox.Triple] = (),
        locked: bool = False,
    ) -> Release | None:
        """Upload the new graphs and the state, then commit with the one pointer triple."""
        if self._read_only:
            raise StoreError("the remote store was opened read-only")
        lock = contextlib.nullcontext() if locked else self._write_lock
        with lock:
            if not locked:
                self._sync()
            current = self._state
            sequence = (current.sequence if current else 0) + 1
            name = f"{sequence:06d}-{secrets.token_hex(4)}"
            state_iri = self._state_iri(name)
            started = datetime.now(UTC)
            if info is not None and info.started is None:
                info = replace(info, started=started)
            graphs = dict(current.graphs) if current and not replace_all else {}
            default = current.default if current and not replace_all else None
            if mapping is not None:
                graphs, default = mapping
            uploads: dict[str, Iterable[ox.Triple]] = {}
            for n, (g, content) in enumerate(contents.items(), start=1):
                triples = _triples(content)
                stored = f"{self._prefix}graph/{name}/{n}"
                empty = not triples if isinstance(triples, list) else False
                if g is None:
                    default = None if empty else stored
                elif empty and g not in (keep_empty or set()):
                    graphs.pop(g, None)
                else:
                    graphs[g] = stored
                if not empty:
                    uploads[stored] = triples
            logs = list(current.logs) if current and log_quads is None else []
            log_graph = f"{self._prefix}log/{name}"
            created = [*uploads, state_iri]
            self._run_update(
                f"INSERT DATA {{ GRAPH <{self.pointer_graph}> {{ <{state_iri}> <{V}begun> "
                f"{_dt(started)} }} }}"
            )
            try:
                for stored, data in uploads.items():
                    self._upload(stored, data)
                recorded: Release | None = None
                counts: dict[str, int] = {}
                if info is not None:
                    counts = self._counts(graphs, current)
                    recorded, quads = record_release(self.base_iri, name, info, counts, changed)
                    new_log = [*carried_log, *(q.triple for q in quads)]
                else:
                    new_log = [q.triple for q in log_quads or ()]
                if new_log:
                    self._upload(log_graph, new_log)
                    created.append(log_graph)
                    logs.append(log_graph)
                self._upload(
                    state_iri, self._state_triples(state_iri, graphs, default, logs, started)
                )
                latest = self._current()
                if (latest and latest.release) != (current and current.release):
                    raise RemoteStoreError(
                        "another process published to the remote store during this write;"
                        " nothing was written, try again"
                    )
                self._run_update(
                    f"INSERT DATA {{ GRAPH <{self.pointer_graph}> {{ <{state_iri}> <{V}sequence> "
                    f'"{sequence}"^^<{XSD}integer> }} }}'
                )
            except BaseException:
                self._abandon(name, created)
                raise
            state = State(name, sequence, graphs, default, tuple(logs), started, counts)
            with self._lock:
                self._state = state
                self._cache = {}
                self._checked = time.monotonic()
            try:
                self._prune()
            except SinlodStoreErrors as exc:  # pruning is housekeeping: the release is published
                log.warning("pruning old releases on the remote store failed: %s", exc)
            return recorded

    def _counts(self, graphs: Mapping[str, str], previous: State | None) -> dict[str, int]:
        """Triples per named graph: reused from the previous release where the stored graph is the
        same, counted on the remote store where it is new."""
        known: dict[str, int] = {}
        if previous is not None:
            last = self._log(previous).last()
            if last is not None:
                known = {g: n for g, n in last.graphs.items() if previous.graphs.get(g)}
        counts = {}
        for g, stored in sorted(graphs.items()):
            if previous is not None and previous.graphs.get(g) == stored and g in known:
                counts[g] = known[g]
                continue
            rows = self._select(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{stored}> {{ ?s ?p ?o }} }}"
            )
            counts[g] = int(rows[0]["n"].value) if rows else 0
        return counts

    def _state_triples(
        self,
        state: str,
        graphs: Mapping[str, str],
        default: str | None,
        logs: Sequence[str],
        modified: datetime,
    ) -> list[ox.Triple]:
        s = ox.NamedNode(state)
        out = [ox.Triple(s, ox.NamedNode(f"{V}modified"), _literal_dt(modified))]
        for g, stored in sorted(graphs.items()):
            out.append(ox.Triple(s, ox.NamedNode(f"{V}graph"), ox.NamedNode(stored)))
            out.append(ox.Triple(ox.NamedNode(stored), ox.NamedNode(f"{V}name"), ox.NamedNode(g)))
        if default is not None:
            out.append(ox.Triple(s, ox.NamedNode(f"{V}default"), ox.NamedNode(default)))
        for n, stored in enumerate(logs):
            out.append(ox.Triple(s, ox.NamedNode(f"{V}log"), ox.NamedNode(f"{stored}#{n}")))
        return out

    def _upload(self, stored: str, triples: Iterable[ox.Triple]) -> None:
        """Put ``triples`` into the (new, empty) stored graph, in requests of ``CHUNK`` triples.

        Blank-node labels are scoped to one request, so every triple with a blank node goes into
        one last request."""
        plain: list[ox.Triple] = []
        blank: list[ox.Triple] = []
        for t in triples:
            (blank if _has_blank(t) else plain).append(t)
            if len(plain) >= CHUNK:
                self._send(stored, plain)
                plain = []
        if plain:
            self._send(stored, plain)
        if blank:
            self._send(stored, blank)

    def _send(self, stored: str, triples: Sequence[ox.Triple]) -> None:
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        if self.graph_store_url:
            if self._read_only:
                raise StoreError("the remote store was opened read-only")
            try:
                response = self._client.post(
                    self.graph_store_url,
                    params={"graph": stored},
                    content=body,
                    headers={"Content-Type": "application/n-triples"},
                )
            except httpx.HTTPError as exc:
                raise RemoteStoreError(f"remote store cannot be reached: {exc}") from exc
            try:
                self._checked_body(response)
            except QueryError as exc:
                raise RemoteStoreError(f"the remote store refused an upload: {exc}") from exc
            return
        # INSERT { } WHERE { }: Virtuoso refuses blank nodes in INSERT DATA.
        verb = "INSERT" if any(_has_blank(t) for t in triples) else "INSERT DATA"
        tail = " WHERE {}" if verb == "INSERT" else ""
        self._run_update(f"{verb} {{ GRAPH <{stored}> {{ {body.decode()} }} }}{tail}")

    def _abandon(self, name: str, created: Sequence[str]) -> None:
        """Remove what a failed write uploaded (best effort: the next write's pruning finds the
        rest through the pointer's ``begun`` triple)."""
        try:
            self._drop(created)
            self._forget(name)
        except (StoreError, QueryError) as exc:
            log.warning("cleaning up a failed write on the remote store: %s", exc)

    def _drop(self, graphs: Iterable[str]) -> None:
        names = sorted(set(graphs))
        for i in range(0, len(names), 50):
            self._run_update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in names[i : i + 50]))

    def _prune(self, keep: int | None = None) -> None:
        """Delete the graphs of releases older than the newest ``keep`` + 1, and of writes that
        began before the current release and never committed (failed or killed)."""
        rows = self._select(f"SELECT ?s ?p WHERE {{ GRAPH <{self.pointer_graph}> {{ ?s ?p ?o }} }}")
        begun: set[str] = set()
        committed: dict[str, int] = {}
        for row in rows:
            release = row["s"].value.rsplit("/", 1)[-1]
            if row["p"].value == f"{V}sequence":
                committed[release] = int(release.split("-", 1)[0])
            begun.add(release)
        current = self._state
        if current is None:
            return
        ordered = sorted(committed, key=lambda r: committed[r])
        kept = set(ordered[-((self._keep if keep is None else keep) + 1) :])
        failed = {r for r in begun - set(committed) if int(r.split("-", 1)[0]) <= current.sequence}
        old = (set(ordered) - kept) | failed
        if not old:
            return
        in_use: set[str] = set()
        for r in kept:
            state = current if r == current.release else self._read_state(r, committed[r])
            in_use |= {*state.stored(), *state.logs, self._state_iri(r)}
        doomed: set[str] = set()
        for r in old:
            doomed.add(self._state_iri(r))
            doomed.add(f"{self._prefix}log/{r}")
            rows = self._select(
                f"SELECT ?o WHERE {{ GRAPH <{self._state_iri(r)}> {{ ?s <{V}graph> ?o }} }}"
            )
            doomed |= {row["o"].value for row in rows}
        for r in failed:  # graphs a failed write uploaded before its state graph
            doomed |= self._graphs_of(r)
        self._drop(doomed - in_use)
        for r in sorted(old):
            self._forget(r)

    def _forget(self, release: str) -> None:
        """Remove a release's triples from the pointer graph."""
        state = self._state_iri(release)
        self._run_update(f"DELETE WHERE {{ GRAPH <{self.pointer_graph}> {{ <{state}> ?p ?o }} }}")

    def _graphs_of(self, release: str) -> set[str]:
        """Stored data graphs of ``release`` that hold a triple (a failed write's uploads)."""
        prefix = f"{self._prefix}graph/{release}/"
        rows = self._select(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(STRSTARTS(STR(?g), "{prefix}")) }}'
        )
        return {row["g"].value for row in rows}


SinlodStoreErrors = (StoreError, QueryError)


def _graph(store: ox.Store, graph: str | None) -> Iterator[ox.Triple]:
    name: ox.NamedNode | ox.DefaultGraph = (
        ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    )
    return (q.triple for q in store.quads_for_pattern(None, None, None, name))


def _changed_graphs(old: ox.Store, new: ox.Store) -> list[str | None]:
    """The graphs whose triples differ (``None``: the default graph), present in one only too."""
    names = {g.value for s in (old, new) for g in s.named_graphs() if isinstance(g, ox.NamedNode)}
    candidates: list[str | None] = [None, *sorted(names)]
    return [g for g in candidates if set(_graph(old, g)) != set(_graph(new, g))]


def _relabelled_differences(old: ox.Store, new: ox.Store) -> list[str] | None:
    """As ``history.differing_graphs``, blank-node labels aside: a remote store relabels blank
    nodes on upload, so a dump read back has labels of its own."""

    def lines(store: ox.Store, graph: str | None) -> set[str]:
        return {_BLANK_LABEL.sub("_:b", str(t)) for t in _graph(store, graph)}

    if lines(old, None) != lines(new, None):
        return None
    names = {g.value for s in (old, new) for g in s.named_graphs() if isinstance(g, ox.NamedNode)}
    return [g for g in sorted(names) if lines(old, g) != lines(new, g)]


_BLANK_LABEL = re.compile(r"_:[A-Za-z0-9_.-]+")


def _triples(content: GraphContent) -> list[ox.Triple]:
    if isinstance(content, Path):
        loaded = ox.Store()
        bulk_load(loaded, content, to_graph=None)
        return [q.triple for q in loaded.quads_for_pattern(None, None, None, None)]
    return [t.triple if isinstance(t, ox.Quad) else t for t in content]


def _has_blank(t: ox.Triple) -> bool:
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


def _literal_dt(value: datetime) -> ox.Literal:
    text = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "dateTime"))


def _dt(value: datetime) -> str:
    return f'"{_literal_dt(value).value}"^^<{XSD}dateTime>'


def _parse_answer(body: bytes, kind: str) -> QueryResult:
    """A remote answer as pyoxigraph's result objects (what the server serialises)."""
    if kind in (_RESULTS_JSON, "application/json"):
        if b"nodeID://" in body:
            body = _virtuoso_blank_nodes(body)
        result = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        return _virtuoso_ask(result, body)
    if kind == "application/sparql-results+xml":
        result = ox.parse_query_results(body, ox.QueryResultsFormat.XML)
        return _virtuoso_ask(result, body)
    fmt = ox.RdfFormat.from_media_type(kind) if kind else None
    if fmt is None:
        raise RemoteStoreError(f"the remote store answered {kind or 'no content type'}")
    # pyoxigraph makes QueryTriples only from a query: load the graph and CONSTRUCT it back.
    graph = ox.Store()
    graph.bulk_load(body, fmt, to_graph=ox.DefaultGraph())
    return graph.query("CONSTRUCT WHERE { ?s ?p ?o }")


def _reached(body: bytes, kind: str, limit: str) -> bool:
    """Whether an answer has as many rows (or triples) as a cut one would: ``limit`` or more
    (parsed once here to count, in the rare case that the header came)."""
    try:
        cut = int(limit)
    except ValueError:
        return True
    result = _parse_answer(body, kind)
    if isinstance(result, ox.QueryBoolean):
        return False
    return sum(1 for _ in result) >= cut


def _accept(text: str) -> str:
    """The answer type to ask for: N-Triples for CONSTRUCT and DESCRIBE, SPARQL JSON else."""
    for tok in tokens(text):
        if tok.is_keyword("CONSTRUCT", "DESCRIBE"):
            return _GRAPH_TYPES
        if tok.is_keyword("SELECT", "ASK"):
            return _RESULTS_JSON
    return _RESULTS_JSON


def _virtuoso_blank_nodes(body: bytes) -> bytes:
    """Virtuoso names blank nodes ``nodeID://b10001`` in JSON results, which is not a blank node
    label; ``b10001`` is."""
    data = json.loads(body)
    for row in data.get("results", {}).get("bindings", []):
        for term in row.values():
            if term.get("type") == "bnode" and term.get("value", "").startswith("nodeID://"):
                term["value"] = term["value"][len("nodeID://") :]
    return json.dumps(data).encode()


def _virtuoso_ask(result: Any, body: bytes) -> QueryResult:
    """Virtuoso answers ASK as a one-row SELECT of ``?__ASK_RETVAL`` (1 or 0)."""
    if isinstance(result, ox.QuerySolutions) and [v.value for v in result.variables] == [
        "__ASK_RETVAL"
    ]:
        rows = list(result)
        value = bool(rows) and rows[0][0] is not None and rows[0][0].value not in ("0", "false")
        answer = b'{"head":{},"boolean":' + (b"true" if value else b"false") + b"}"
        return ox.parse_query_results(answer, ox.QueryResultsFormat.JSON)
    assert isinstance(result, ox.QuerySolutions | ox.QueryBoolean)
    return result


def _without(result: ox.QuerySolutions, hidden: Sequence[str]) -> ox.QuerySolutions:
    """The solutions without the helper variables of ``rewrite.scope_query``."""
    data = json.loads(result.serialize(format=ox.QueryResultsFormat.JSON) or b"{}")
    data["head"]["vars"] = [v for v in data["head"]["vars"] if v not in hidden]
    for row in data["results"]["bindings"]:
        for v in hidden:
            row.pop(v, None)
    again = ox.parse_query_results(json.dumps(data).encode(), ox.QueryResultsFormat.JSON)
    assert isinstance(again, ox.QuerySolutions)
    return again
