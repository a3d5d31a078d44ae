"""``/metrics`` in the Prometheus text exposition format (version 0.0.4), written by hand.

The format is small enough not to need ``prometheus-client``
(https://prometheus.io/docs/instrumenting/exposition_formats/): ``# HELP`` and ``# TYPE`` lines,
then one ``name{label="value"} number`` line per series; a histogram is cumulative ``_bucket``
series with an ``le`` label ending in ``+Inf``, plus ``_sum`` and ``_count``.

Counted here: requests by route template (``/doc/{type_}/{key}``, never the raw path, so the
number of series stays bounded) and status, request latencies, query-cache hits and misses, query
time-outs and refused writes (by reason). Everything is per process.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter
from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sinlod.server.http.cache import CacheStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Latency buckets in seconds: SPARQL answers range from a millisecond to the time limit.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNMATCHED = "unmatched"

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    """Label values escape backslash, double quote and newline (the format's only escapes)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: Labels, value: float) -> str:
    text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    number = repr(float(value)) if isinstance(value, float) and not value.is_integer() else value
    return f"{name}{{{text}}} {number}" if text else f"{name} {number}"


class Metrics:
    """The counters of one app; ``render`` writes them in the text format."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[Labels] = Counter()
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self.refused_writes: Counter[str] = Counter()

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(("route", route), ("method", method), ("status", str(status)))] += 1
            buckets = self.buckets.setdefault(route, [0] * len(BUCKETS))
            index = bisect.bisect_left(BUCKETS, seconds)
            if index < len(BUCKETS):
                buckets[index] += 1
            self.sums[route] = self.sums.get(route, 0.0) + seconds
            self.counts[route] += 1

    def problem(self, code: str) -> None:
        """An error answer by its problem code (``query-timeout``, ``result-too-large``, ...)."""
        with self._lock:
            self.problems[code] += 1

    def refused_write(self, reason: str) -> None:
        """A write refused: ``shacl`` (422), ``unauthorized`` (401) or ``forbidden`` (403)."""
        with self._lock:
            self.refused_writes[reason] += 1

    def render(self, cache: CacheStats | None = None) -> str:
        with self._lock:
            lines = [*self._requests(), *self._latency(), *self._errors()]
        if cache is not None:
            lines += _cache_lines(cache)
        return "\n".join(lines) + "\n"

    def _requests(self) -> Iterable[str]:
        yield "# HELP sinlod_http_requests_total HTTP requests answered, by route and status."
        yield "# TYPE sinlod_http_requests_total counter"
        for labels, n in sorted(self.requests.items()):
            yield _series("sinlod_http_requests_total", labels, n)

    def _latency(self) -> Iterable[str]:
        name = "sinlod_http_request_duration_seconds"
        yield f"# HELP {name} Time from request to the end of the response, by route."
        yield f"# TYPE {name} histogram"
        for route in sorted(self.buckets):
            total = 0
            for le, n in zip(BUCKETS, self.buckets[route], strict=True):
                total += n
                yield _series(f"{name}_bucket", (("route", route), ("le", repr(le))), total)
            yield _series(f"{name}_bucket", (("route", route), ("le", "+Inf")), self.counts[route])
            yield _series(f"{name}_sum", (("route", route),), float(self.sums[route]))
            yield _series(f"{name}_count", (("route", route),), self.counts[route])

    def _errors(self) -> Iterable[str]:
        yield "# HELP sinlod_query_timeouts_total Queries stopped at the time limit."
        yield "# TYPE sinlod_query_timeouts_total counter"
        yield _series("sinlod_query_timeouts_total", (), self.problems["query-timeout"])
        yield "# HELP sinlod_query_too_large_total Queries refused at the result-size limit."
        yield "# TYPE sinlod_query_too_large_total counter"
        yield _series("sinlod_query_too_large_total", (), self.problems["result-too-large"])
        yield "# HELP sinlod_refused_writes_total Writes refused, by reason."
        yield "# TYPE sinlod_refused_writes_total counter"
        for reason in ("forbidden", "shacl", "unauthorized"):
            n = self.refused_writes[reason]
            yield _series("sinlod_refused_writes_total", (("reason", reason),), n)


def _cache_lines(cache: CacheStats) -> list[str]:
    out = []
    for name, kind, help_text, value in (
        ("sinlod_query_cache_hits_total", "counter", "Query answers served from the cache.", 0),
        ("sinlod_query_cache_misses_total", "counter", "Query answers not in the cache.", 1),
        ("sinlod_query_cache_entries", "gauge", "Query answers held in the cache.", 2),
        ("sinlod_query_cache_bytes", "gauge", "Bytes held in the query cache.", 3),
    ):
        number = (cache.hits, cache.misses, cache.entries, cache.bytes)[value]
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {number}"]
    return out


class MetricsMiddleware:
    """Times every HTTP request and counts it under its route template once it has answered."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before it starts a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - started)


async def metrics(request: Request) -> Response:
    """``GET /metrics``: this process's counters and its query cache."""
    counters: Metrics = request.app.state.metrics
    cache = getattr(request.app.state, "query_cache", None)
    stats = cache.stats() if cache is not None else None
    return Response(counters.render(stats), media_type=CONTENT_TYPE)
