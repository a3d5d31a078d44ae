"""Run a SPARQL query for the endpoint within its limits: time, result size.

Oxigraph evaluates lazily: ``store.query`` returns at once and the work happens while the results
are serialised. So evaluation *and* serialisation run together in a worker thread, writing into a
``_Sink`` that

* counts result rows (lines of TSV, or of N-Triples for graphs: both formats write exactly one line
  per row or triple, escaping newlines inside literals) and stops at ``max_results + 1``, so an
  oversize result is refused early instead of being built in full and never truncated silently;
* checks a cancel flag and a deadline on every write, so a query that keeps producing output is
  really stopped at the time limit.

pyoxigraph 0.5 has no way to cancel a query that is computing without writing (a big ORDER BY,
aggregate or join). Such a query is answered at its deadline (503 ``query-timeout``), or when the
worker's resident memory passes ``worker_memory_limit`` (503 ``memory-limit``, checked every
100 ms while it runs); the evaluation it leaves behind is ended by recycling the worker
(``watchdog.py``: under ``sinlod serve`` the worker is replaced and exits; in-process nothing can
end it). Results are buffered (bounded by ``max_results``) rather than streamed, which is what
lets a failure still become a proper error response.

Where a query runs. Handing a query to a worker thread costs 100-200 µs of CPU (a
single-resource lookup through the whole app: 890 → 720-810 µs), about what Oxigraph needs to
answer it, so cheap queries run on the event loop itself. Nothing whose cost depends on the data
may run there without a hard bound (issue 13: a query *shape* once learnt as cheap then blocked
the loop for 23 s), so which queries run inline is decided by a structural rule on the text, not
by what earlier runs cost: ``streams`` admits only a single triple pattern with a constant
subject or object, no repeated variable, under ``SELECT``, ``CONSTRUCT`` or ``ASK``, with at most a
``LIMIT``. Oxigraph answers such a pattern from one index range in which every entry is a
solution, so output is written continuously (in 8 KB chunks, a fraction of a millisecond apart),
and the inline sink checks a deadline ``INLINE_BUDGET`` ahead on every write. A query past the
budget is abandoned there and run again in a thread with its full limits. The loop is therefore
never blocked for more than the budget plus one chunk's work, whatever the data.
"""

from __future__ import annotations

import functools
import io
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

from sinlod.errors import QueryEvaluationError
from sinlod.namespaces import PREFIXES
from sinlod.server.http.negotiation import (
    GRAPH_FORMATS,
    N_TRIPLES,
    RESULT_FORMATS,
    SPARQL_TSV,
    Format,
    by_name,
    negotiate,
)
from sinlod.server.http.problems import MemoryLimit, QueryTimeout, ResultTooLarge
from sinlod.server.operations import watchdog
from sinlod.sparql_text import Token, tokens
from sinlod.store.remote import RemoteQueryTimeout

if TYPE_CHECKING:
    from sinlod.store.backend import StoreBackend

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
    #: The default graph is the union of all graphs (setting ``union_default_graph``).
    union_default_graph: bool = True


@dataclass(frozen=True)
class Answer:
    body: bytes
    format: Format


def choose(request: QueryRequest, available: Sequence[Format]) -> Format:
    """``?format=`` wins over ``Accept`` (for links and browsers that cannot set headers)."""
    if request.format:
        return by_name(request.format, available)
    return negotiate(request.accept, available)


def _store_query(store: StoreBackend, request: QueryRequest) -> Any:
    return store.query(
        request.query,
        default_graph=list(request.default_graphs) or None,
        named_graphs=list(request.named_graphs) or None,
        union_default_graph=request.union_default_graph,
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


def _evaluate(store: StoreBackend, request: QueryRequest, sink: _Sink) -> Answer:
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
        raise QueryEvaluationError(f"query failed: {exc}") from None  # 500, as store.query
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


#: Seconds a query may run on the event loop before it is moved to a thread.
INLINE_BUDGET = 0.005
#: Seconds between two looks at the worker's memory while a query runs in a thread.
MEMORY_CHECK_EVERY = 0.1

_CONSTANT_KINDS = ("iri", "string")
_FORMS = ("SELECT", "CONSTRUCT", "ASK")


def _is_constant(tok: Token) -> bool:
    """An IRI, a prefixed name, a literal or a number: not a variable, not a blank node."""
    if tok.kind in _CONSTANT_KINDS:
        return True
    if tok.kind != "word" or tok.text.startswith("_:"):
        return False
    return ":" in tok.text or tok.text.lower() in ("true", "false") or tok.text[0].isdigit()


def _is_term(tok: Token) -> bool:
    return tok.kind == "var" or _is_constant(tok)


def _pattern(toks: Sequence[Token], i: int) -> int | None:
    """Index after ``{ s p o [.] }`` at ``i`` if it is one triple pattern with a constant subject
    or object and no variable twice, else None."""
    if i + 4 >= len(toks) or toks[i].kind != "open":
        return None
    s, p, o = toks[i + 1], toks[i + 2], toks[i + 3]
    j = i + 4
    if j < len(toks) and toks[j].kind == "word" and toks[j].text.startswith("@"):
        if o.kind != "string":
            return None
        j += 1  # a language tag
    if j < len(toks) and toks[j].text == ".":
        j += 1
    if j >= len(toks) or toks[j].kind != "close":
        return None
    if not (_is_term(s) and (_is_term(p) or p.text == "a") and _is_term(o)):
        return None
    if not (_is_constant(s) or _is_constant(o)):
        return None
    variables = [t.text[1:] for t in (s, p, o) if t.kind == "var"]
    if len(set(variables)) != len(variables):  # ?x ?p ?x: a filter over the range
        return None
    return j + 1


#: Longer queries are never run inline (and never cached by ``streams``: 4096 entries of at most
#: this size bound its memory to 16 MB).
STREAMING_MAX_CHARS = 4096


def streams(query: str) -> bool:
    """Whether ``query`` provably writes output all along: it may then run on the event loop.

    >>> streams("CONSTRUCT { <http://e/a> ?p ?o } WHERE { <http://e/a> ?p ?o }")
    True
    >>> streams("PREFIX s: <http://e/> SELECT ?s WHERE { ?s a s:Thing } LIMIT 10")
    True
    >>> streams('ASK { ?s <http://e/label> "x"@en . }')
    True
    >>> streams("SELECT * { ?s <http://e/p> ?o }")  # the whole predicate: may be huge
    False
    >>> streams("SELECT * { <http://e/a> ?p ?o } ORDER BY ?o")  # nothing out until sorted
    False
    >>> streams("SELECT DISTINCT ?p { <http://e/a> ?p ?o }")
    False
    >>> streams("SELECT * { <http://e/a> ?p ?p }")  # a filter over the range
    False
    >>> streams("SELECT * { <http://e/a> ?p ?o . ?o ?q ?r }")
    False
    """
    return len(query) <= STREAMING_MAX_CHARS and _streams(query)


@functools.lru_cache(maxsize=4096)
def _streams(query: str) -> bool:
    toks = list(tokens(query))
    i, n = 0, len(toks)
    while i < n and toks[i].is_keyword("PREFIX", "BASE"):
        i += 3 if toks[i].is_keyword("PREFIX") else 2
    if i >= n or not toks[i].is_keyword(*_FORMS):
        return False
    form = toks[i].text.upper()
    i += 1
    if form == "SELECT":
        if i < n and toks[i].text == "*":
            i += 1
        elif i < n and toks[i].kind == "var":
            while i < n and toks[i].kind == "var":
                i += 1
        else:
            return False  # DISTINCT, REDUCED, expressions
    elif form == "CONSTRUCT" and i < n and toks[i].kind == "open":
        i += 1
        while i < n and (_is_term(toks[i]) or toks[i].text in (".", ";", ",", "a")):
            i += 1
        if i >= n or toks[i].kind != "close":
            return False
        i += 1
    elif form == "CONSTRUCT" and not (i < n and toks[i].is_keyword("WHERE")):
        return False
    if i < n and toks[i].is_keyword("WHERE"):
        i += 1
    end = _pattern(toks, i)
    if end is None:
        return False
    if end + 1 < n and toks[end].is_keyword("LIMIT") and toks[end + 1].text.isdigit():
        end += 2
    return end == n


def _outcome(work: Callable[[], Answer]) -> Callable[[], Answer | BaseException]:
    """``work`` returning its exception instead of raising it (it then never passes through the
    task group below as an exception group)."""

    def run() -> Answer | BaseException:
        try:
            return work()
        except Exception as exc:
            return exc

    return run


async def _in_thread(
    work: Callable[[], Answer], timeout: float, memory_limit: int
) -> Answer | BaseException | None:
    """Run ``work`` in a thread; None when it passed ``timeout`` (abandoned), ``MemoryError`` when
    the process's memory passed ``memory_limit`` bytes first (abandoned too)."""
    outcome: Answer | BaseException | None = None
    with anyio.move_on_after(timeout):
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                nonlocal outcome
                while True:
                    await anyio.sleep(MEMORY_CHECK_EVERY)
                    if watchdog.rss() > memory_limit:
                        outcome = MemoryError()
                        group.cancel_scope.cancel()
                        return

            if memory_limit > 0:
                group.start_soon(watch)
            done = await anyio.to_thread.run_sync(_outcome(work), abandon_on_cancel=True)
            outcome = done
            group.cancel_scope.cancel()
    return outcome


async def run_query(
    store: StoreBackend,
    request: QueryRequest,
    *,
    timeout: float,
    max_results: int,
    memory_limit: int = 0,
) -> Answer:
    """Evaluate ``request`` within ``timeout`` seconds, ``max_results`` rows and ``memory_limit``
    bytes of resident memory for the whole process (0: none).

    Raises ``QueryError`` (bad query), ``NotAcceptable``, ``ResultTooLarge``, ``QueryTimeout`` or
    ``MemoryLimit``; after the last two the worker is retired (``watchdog.retire``).
    """
    deadline = time.monotonic() + timeout
    # A remote store (``RemoteStore.remote``) answers over HTTP: never on the event loop, and
    # nothing of it keeps running in this process after its deadline.
    remote = bool(getattr(store, "remote", False))
    inline = not remote and not request.default_graphs and not request.named_graphs
    if inline and streams(request.query):
        sink = _Sink(max_results, min(deadline, time.monotonic() + INLINE_BUDGET))
        try:
            return _evaluate(store, request, sink)
        except _Stopped:
            if sink.reason == "size":
                raise _limits_error("size", max_results, timeout) from None
            # Over the inline budget: again in a thread, with the time that is left.
    sink = _Sink(max_results, deadline)
    outcome = await _in_thread(
        lambda: _evaluate(store, request, sink), deadline - time.monotonic(), memory_limit
    )
    if isinstance(outcome, Answer):
        return outcome
    if isinstance(outcome, _Stopped):
        if sink.reason == "size":
            raise _limits_error("size", max_results, timeout) from None
        outcome = None  # the deadline, seen by the sink
    sink.cancelled = True  # an evaluation that is abandoned stops at its next write
    if isinstance(outcome, RemoteQueryTimeout):
        outcome = None
    if outcome is None:
        if not remote:
            watchdog.retire(f"a query ran past the {timeout:g} s time limit")
        raise _limits_error("timeout", max_results, timeout)
    if isinstance(outcome, MemoryError):
        megabytes = memory_limit // 1_000_000
        watchdog.retire(f"a query took the worker past the {megabytes} MB memory limit")
        raise MemoryLimit(
            f"the query needed more memory than this endpoint allows: the worker answering it"
            f" passed {megabytes} MB",
            memory_limit_mb=megabytes,
        )
    raise outcome
