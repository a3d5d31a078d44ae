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
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Sequence
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

    def __init__(self, max_lines: int, deadline: float, cancel: threading.Event) -> None:
        super().__init__()
        self.max_lines = max_lines
        self.deadline = deadline
        self.cancel = cancel
        self.buffer = bytearray()
        self.lines = 0
        self.reason: str | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if self.cancel.is_set() or time.monotonic() > self.deadline:
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


async def run_query(
    store: Store, request: QueryRequest, *, timeout: float, max_results: int
) -> Answer:
    """Evaluate ``request`` within ``timeout`` seconds and ``max_results`` rows.

    Raises ``QueryError`` (bad query), ``NotAcceptable``, ``ResultTooLarge`` or ``QueryTimeout``.
    """
    cancel = threading.Event()
    sink = _Sink(max_results, time.monotonic() + timeout, cancel)
    work: Callable[[], Answer] = lambda: _evaluate(store, request, sink)  # noqa: E731
    try:
        with anyio.fail_after(timeout):
            return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    except TimeoutError:
        cancel.set()
        raise _limits_error("timeout", max_results, timeout) from None
    except _Stopped:
        raise _limits_error(sink.reason, max_results, timeout) from None
