"""Honest HTTP caching: the data changes only through sinlod, so the release names the content.

Every answer that depends only on the published data (query results, ``/void``, ``/catalog``,
dumps, ``/doc/...``) gets an ``ETag`` derived from the release id and what was asked, and
``Last-Modified`` from when the release was published; a conditional GET answers ``304``
(RFC 9110 §13). ``QueryCache`` keeps recent query results in process, bounded by entries and bytes,
keyed by the release as well, so a publish or a write makes every older entry unreachable; the
cache also drops them at once to free the memory.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Generic, TypeVar

from starlette.requests import Request

V = TypeVar("V")


def etag_for(release: str | None, *parts: object) -> str:
    """A strong validator: the same release and the same request parts give the same bytes.

    >>> etag_for("r1", "/void", "turtle") == etag_for("r1", "/void", "turtle")
    True
    >>> etag_for("r1", "/void", "turtle") == etag_for("r2", "/void", "turtle")
    False
    """
    text = "|".join([str(release), *(repr(p) for p in parts)])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def validators(etag: str, modified: datetime | None) -> dict[str, str]:
    """The ``ETag`` and ``Last-Modified`` headers of a response."""
    headers = {"ETag": etag}
    if modified is not None:
        headers["Last-Modified"] = _http_date(modified)
    return headers


@functools.lru_cache(maxsize=16)
def _http_date(moment: datetime) -> str:
    """Memoised: the same few release times are formatted on every request."""
    return format_datetime(moment, usegmt=True)


def not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    """True when a GET or HEAD may be answered ``304`` (see ``conditional_hit``)."""
    return conditional_hit(request.method, request.headers, etag, modified)


def conditional_hit(
    method: str, headers: Mapping[str, str], etag: str, modified: datetime | None
) -> bool:
    """True when a GET or HEAD with these (lower-case) request headers may be answered ``304``.

    RFC 9110 §13.1: ``If-None-Match`` wins; ``If-Modified-Since`` only counts without it (and
    only to the second, the precision of the header).
    """
    if method not in ("GET", "HEAD"):
        return False
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since and modified is not None:
        try:
            return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    hits: int
    misses: int


class QueryCache(Generic[V]):
    """Least-recently-used results, at most ``max_entries`` and ``max_bytes`` in total.

    A key always includes the release it was computed on; ``get`` and ``put`` with a newer
    release empty the cache first, since nothing older can be asked for again. A value larger
    than ``max_bytes`` alone is not kept. Safe to use from several threads.

    >>> cache: QueryCache[bytes] = QueryCache(max_entries=2, max_bytes=100)
    >>> cache.put("r1", "q", b"x" * 10)
    >>> cache.get("r1", "q"), cache.get("r2", "q")
    (b'xxxxxxxxxx', None)
    """

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._release: str | None = None
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _follow(self, release: str | None) -> None:
        if release != self._release:
            self._items.clear()
            self._bytes = 0
            self._release = release

    def get(self, release: str | None, key: Hashable) -> V | None:
        with self._lock:
            self._follow(release)
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, release: str | None, key: Hashable, value: V, size: int | None = None) -> None:
        """Keep ``value`` (``size`` defaults to ``len(value)``), evicting the oldest as needed."""
        cost = len(value) if size is None else size  # type: ignore[arg-type]
        if self.max_entries <= 0 or cost > self.max_bytes:
            return
        with self._lock:
            self._follow(release)
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, cost)
            self._bytes += cost
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        """Forget everything (after a write through this server)."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(len(self._items), self._bytes, self.hits, self.misses)
