"""Run a SPARQL query for the endpoint within its limits: time, result size.

Oxigraph evaluates lazily: ``store.query`` returns at once and the work happens while the results
are serialised. So evaluation *and* serialisation run together in a worker thread, writing into a
``_Sink`` that

* counts result rows (lines of TSV, or of N-Triples for graphs: both formats write exactly one line
  per row or triple, escaping newlines inside literals) and stops at ``max_results + 1``, so an
  oversize result is refused early instead of being built in full and never truncated silently;
* checks a cancel flag and a deadline on every write, so a query that keeps producing output is
  really stopped at the time limit.

pyoxigraph 0.5 has no way to cancel a query that is computing without writing (a big ORDER BY or
aggregate): the request still answers 503 at the deadline, but that thread runs on until Oxigraph
yields its first output. Results are buffered (bounded by ``max_results``) rather than streamed,
which is what lets a failure still become a proper error response.

Handing a query to a worker thread costs 100-200 µs of CPU per request (a single-resource lookup
through the whole app, one request at a time: 890 → 720-810 µs; more under concurrency, when the
thread and the loop contend for the GIL), about what Oxigraph needs to answer it (150 µs). So a
query whose *shape* (its text with every ``<IRI>`` blanked) last took under ``INLINE_BUDGET``
seconds of CPU on this release runs on the event loop itself; the first runs of a shape, and
every shape that was slower on the loop or hit a limit, run in a worker thread. A
dereferencing-style lookup thus pays for the thread only on its first runs, and a slow query
blocks the loop at most once per shape and release (the limits still apply inline: the sink
checks the deadline and the row count on every write). A run on the loop that is only somewhat
over the budget (a garbage collection in the middle of a lookup) sends the shape back to the
thread until a fast run there; only one over ``STUCK_AFTER`` rules the shape out for the release.
"""

from __future__ import annotations

import io
import math
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

import anyio
import anyio.to_thread
from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    parse,
    parse_query_results,
    serialize,
)

from sinlod.errors import QueryError
from sinlod.namespaces import PREFIXES
from sinlod.server.negotiation import (
    GRAPH_FORMATS,
    N_TRIPLES,
    RESULT_FORMATS,
    SPARQL_TSV,
    Format,
    by_name,
    negotiate,
)
from sinlod.server.problems import QueryTimeout, ResultTooLarge

if TYPE_CHECKING:
    from sinlod.store import Store

#: Prefixes written into Turtle/TriG output of CONSTRUCT and DESCRIBE, for readability.
OUTPUT_PREFIXES = {
    k: PREFIXES[k]
    for k in (
        "sinlod",
        "roles",
        "rdf",
        "rdfs",
        "xsd",
        "owl",
        "skos",
        "dct",
        "foaf",
        "org",
        "schema",
        "m8g",
        "prov",
        "dcat",
        "void",
        "sd",
        "nuts",
        "wd",
    )
}


class _Stopped(Exception):
    """Raised inside the serializer's write to abandon a query (time is up or too many rows)."""


class _Sink(io.RawIOBase):
    """A binary writer that buffers, counts lines and can stop the writer."""

    def __init__(self, max_lines: int, deadline: float) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.deadline = deadline
        self.cancelled = False  # set by the event loop when the request has given up
        self.buffer = bytearray()
        self.lines = 0
        self.reason: str | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if self.cancelled or time.monotonic() > self.deadline:
            self.reason = "timeout"
            raise _Stopped("timeout")
        self.lines += chunk.count(b"\n")
        self.buffer += chunk
        if self.lines > self.max_lines:
            self.reason = "size"
            raise _Stopped("size")
        return len(chunk)


@dataclass(frozen=True)
class QueryRequest:
    """A query as the protocol delivers it: text, dataset parameters, what the client accepts."""

    query: str
    default_graphs: Sequence[str] = ()
    named_graphs: Sequence[str] = ()
    accept: str | None = None
    format: str | None = None
    base_iri: str | None = None


@dataclass(frozen=True)
class Answer:
    body: bytes
    format: Format


def choose(request: QueryRequest, available: Sequence[Format]) -> Format:
    """``?format=`` wins over ``Accept`` (for links and browsers that cannot set headers)."""
    if request.format:
        return by_name(request.format, available)
    return negotiate(request.accept, available)


def _store_query(store: Store, request: QueryRequest) -> Any:
    return store.query(
        request.query,
        default_graph=list(request.default_graphs) or None,
        named_graphs=list(request.named_graphs) or None,
        base_iri=request.base_iri,
    )


def _select(results: QuerySolutions, fmt: Format, sink: _Sink) -> bytes:
    """Rows counted as TSV, then re-serialised by Oxigraph into the wanted format."""
    results.serialize(cast(IO[bytes], sink), QueryResultsFormat.TSV)
    tsv = bytes(sink.buffer)
    if fmt == SPARQL_TSV:
        return tsv
    assert isinstance(fmt.oxigraph, QueryResultsFormat)
    again = parse_query_results(tsv, QueryResultsFormat.TSV)
    return bytes(again.serialize(format=fmt.oxigraph) or b"")


def _graph(results: QueryTriples, fmt: Format, sink: _Sink) -> bytes:
    """Triples counted as N-Triples, then re-serialised by Oxigraph into the wanted format."""
    results.serialize(cast(IO[bytes], sink), RdfFormat.N_TRIPLES)
    nt = bytes(sink.buffer)
    if fmt == N_TRIPLES:
        return nt
    assert isinstance(fmt.oxigraph, RdfFormat)
    quads = parse(nt, RdfFormat.N_TRIPLES)
    return bytes(serialize(quads, format=fmt.oxigraph, prefixes=used_prefixes(nt)) or b"")


def used_prefixes(ntriples: bytes) -> dict[str, str]:
    """The output prefixes whose namespace occurs in the data, so Turtle declares no unused ones."""
    return {k: ns for k, ns in OUTPUT_PREFIXES.items() if b"<" + ns.encode() in ntriples}


def _evaluate(store: Store, request: QueryRequest, sink: _Sink) -> Answer:
    """Evaluate and serialise in the calling (worker) thread.

    pyoxigraph's result objects are bound to the thread that made them and must be dropped there;
    an exception leaving this thread would carry them away in its traceback's frames, so the
    traceback is cut here, after the results are gone.
    """
    results = _store_query(store, request)
    try:
        return _serialize(results, request, sink)
    except (OSError, RuntimeError) as exc:
        # Oxigraph evaluates lazily: evaluation errors surface here, not in store.query.
        del results
        raise QueryError(f"query failed: {exc}") from None
    except BaseException as exc:
        del results
        raise exc.with_traceback(None) from None


def _serialize(results: Any, request: QueryRequest, sink: _Sink) -> Answer:
    if isinstance(results, QueryBoolean):
        fmt = choose(request, RESULT_FORMATS)
        assert isinstance(fmt.oxigraph, QueryResultsFormat)
        return Answer(bytes(results.serialize(format=fmt.oxigraph) or b""), fmt)
    if isinstance(results, QuerySolutions):
        fmt = choose(request, RESULT_FORMATS)
        sink.max_lines += 1  # the TSV header line
        return Answer(_select(results, fmt, sink), fmt)
    fmt = choose(request, GRAPH_FORMATS)
    return Answer(_graph(results, fmt, sink), fmt)


def _limits_error(reason: str | None, max_results: int, timeout: float) -> Exception:
    if reason == "size":
        return ResultTooLarge(
            f"the result has more than {max_results} rows or triples, the most this endpoint"
            " returns; add a LIMIT (and OFFSET to page)",
            max_results=max_results,
        )
    return QueryTimeout(f"the query ran longer than {timeout:g} s, the limit on this endpoint")


#: A shape whose latest run took at most this many seconds of CPU runs on the event loop.
INLINE_BUDGET = 0.002
#: A run on the loop this slow keeps its shape off the loop for the rest of the release.
STUCK_AFTER = 10 * INLINE_BUDGET
#: Shapes remembered per store (least recently used dropped first).
_SHAPES_KEPT = 1024
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")


class _Timings:
    """Per store and (release, query shape): the CPU time of the latest evaluation, or ``inf`` once
    the shape has blocked the loop (over ``STUCK_AFTER`` inline) or hit a limit.

    A shape's first runs happen in a thread and may be slow only because caches are cold, so a
    later fast run in a thread makes it cheap; a really slow run *on the loop* disqualifies it for
    good, a run only somewhat over the budget until the next fast one.

    >>> t = _Timings()
    >>> key = ("r1", "ASK { <> ?p ?o }", None)
    >>> t.is_cheap(key)  # never seen: run it in a thread first
    False
    >>> t.record(key, 0.01, inline=False)  # cold first run
    >>> t.is_cheap(key)
    False
    >>> t.record(key, 0.0001, inline=False)
    >>> t.is_cheap(key), t.is_cheap(("r2", "ASK { <> ?p ?o }", None))
    (True, False)
    >>> t.record(key, 0.004, inline=True)  # a hiccup on the loop: back to a thread for now
    >>> t.is_cheap(key)
    False
    >>> t.record(key, 0.0001, inline=False)
    >>> t.is_cheap(key)
    True
    >>> t.record(key, 0.5, inline=True)  # blocked the loop: always in a thread on this release
    >>> t.record(key, 0.0001, inline=False)
    >>> t.is_cheap(key)
    False
    """

    def __init__(self) -> None:
        self.latest: OrderedDict[tuple[str | None, str, str | None], float] = OrderedDict()
        self.lock = threading.Lock()

    def is_cheap(self, key: tuple[str | None, str, str | None]) -> bool:
        with self.lock:
            seen = self.latest.get(key)
            if seen is not None:
                self.latest.move_to_end(key)
        return seen is not None and seen <= INLINE_BUDGET

    def record(
        self, key: tuple[str | None, str, str | None], seconds: float, *, inline: bool
    ) -> None:
        with self.lock:
            if self.latest.get(key) == math.inf:
                return
            self.latest[key] = math.inf if inline and seconds > STUCK_AFTER else seconds
            self.latest.move_to_end(key)
            while len(self.latest) > _SHAPES_KEPT:
                self.latest.popitem(last=False)


_TIMINGS: weakref.WeakKeyDictionary[Store, _Timings] = weakref.WeakKeyDictionary()


def _timings(store: Store) -> _Timings:
    found = _TIMINGS.get(store)
    if found is None:
        found = _TIMINGS.setdefault(store, _Timings())
    return found


def shape_of(request: QueryRequest) -> str | None:
    """The query with its IRIs blanked: lookups of different resources share a shape. None when
    the request names its own dataset (graph parameters change what the query costs).

    >>> shape_of(QueryRequest("DESCRIBE <http://e/a> WHERE { ?s ?p ?o FILTER (?o < 3) }"))
    'DESCRIBE <> WHERE { ?s ?p ?o FILTER (?o < 3) }'
    >>> shape_of(QueryRequest("SELECT * { ?s ?p ?o }", default_graphs=["http://e/g"])) is None
    True
    """
    if request.default_graphs or request.named_graphs:
        return None
    return _IRI.sub("<>", request.query)


async def run_query(
    store: Store, request: QueryRequest, *, timeout: float, max_results: int
) -> Answer:
    """Evaluate ``request`` within ``timeout`` seconds and ``max_results`` rows.

    Raises ``QueryError`` (bad query), ``NotAcceptable``, ``ResultTooLarge`` or ``QueryTimeout``.
    """
    sink = _Sink(max_results, time.monotonic() + timeout)
    shape = shape_of(request)
    timings = _timings(store)
    key = (store.release_id, shape or "", request.base_iri)

    inline = shape is not None and timings.is_cheap(key)

    def work() -> Answer:
        # CPU time of this thread: what the loop would be blocked for, without the waits for the
        # GIL or a core that a loaded machine adds to a worker thread's wall time.
        started = time.thread_time()
        answer = _evaluate(store, request, sink)
        if shape is not None:
            timings.record(key, time.thread_time() - started, inline=inline)
        return answer

    try:
        if inline:
            return work()
        with anyio.fail_after(timeout):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except TimeoutError:
        sink.cancelled = True
        if shape is not None:
            timings.record(key, math.inf, inline=True)
        raise _limits_error("timeout", max_results, timeout) from None
    except _Stopped:
        if shape is not None:
            timings.record(key, math.inf, inline=True)  # never inline a shape that hit a limit
        raise _limits_error(sink.reason, max_results, timeout) from None
