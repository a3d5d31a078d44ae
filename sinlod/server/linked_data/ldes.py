"""``/ldes``: the change feed, a Linked Data Event Stream (``sinlod.ldes`` builds it).

* ``/ldes``: the event stream: ``303`` to its first page (the root node, where the stream is the
  subject of ``tree:view`` and all its context is), the LDES client's "redirect to the root
  node"; HTML lists the pages. Before anything is recorded, the stream's description alone.
* ``/ldes/{release}.{part}``: one page of members, in every RDF format Oxigraph writes or HTML
  (``Accept`` or ``?format=``). A page that links a next page is final: it is served with
  ``Cache-Control: public, max-age=31536000, immutable`` and an ``ETag`` that never changes. The
  newest page may still gain its link onwards: ``Cache-Control: no-cache`` and an ``ETag`` per
  published release, so a harvester polls it with ``If-None-Match`` and gets ``304`` until a
  release adds something.
* ``/ldes/{release}/{n}``: a member's IRI (``{base}ldes/{release}/{n}``) answers ``303`` to the
  page that holds it.

A thin router: no RDF is built here. Page IRIs use the URL the server is reached at
(``server_root``), since harvesters fetch them; the stream and members are identifiers under the
base IRI.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from sinlod.config import Settings
from sinlod.ldes import (
    FEED_PREFIXES,
    FeedPage,
    FeedStore,
    FeedUrls,
    PageNotFound,
    PageRef,
    feed_page,
    first_page,
    member_page,
    pages,
    stream_triples,
)
from sinlod.server.http.cache import etag_for, not_modified, validators
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.negotiation import GRAPH_FORMATS, HTML_FORMAT, Format
from sinlod.server.http.problems import NotFound
from sinlod.server.http.templating import render
from sinlod.server.http.urls import link_for, server_root
from sinlod.server.linked_data.catalog import document_format
from sinlod.server.protocol.execute import used_prefixes
from sinlod.store import Release
from sinlod.store.versions import ThingVersion

router = APIRouter(tags=["Change feed (LDES)"])

#: HTML for people, then every RDF format Oxigraph writes (Turtle first, for ``*/*``).
FORMATS: tuple[Format, ...] = (HTML_FORMAT, *GRAPH_FORMATS)
#: A final page never changes: a year is the longest lifetime RFC 9111 §5.2.2.1 advises.
IMMUTABLE = "public, max-age=31536000, immutable"
MUTABLE = "no-cache"


class _NoVersions:
    """A store that records no versions (the remote backend): a feed without pages."""

    def releases(self) -> list[Release]:
        return []

    def version_pages(self, release_id: str) -> int:
        return 0

    def versions(self, release_id: str, page: int) -> list[ThingVersion]:  # pragma: no cover
        return []

    def version_count(self, release_id: str, page: int) -> int:  # pragma: no cover
        return 0


def _feed(store: object) -> FeedStore:
    return store if isinstance(store, FeedStore) else _NoVersions()


def _urls(request: Request, settings: Settings) -> FeedUrls:
    return FeedUrls(server_root(request, settings), settings.base_iri)


@router.api_route("/ldes", methods=["GET", "HEAD"], name="ldes")
async def stream(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The event stream: how to read its members, and where its first page is."""
    fmt = document_format(request, FORMATS)
    urls = _urls(request, settings)
    etag = etag_for(store.release_id, request.url.path, fmt.name, urls.public)
    headers = {
        **validators(etag, store.last_modified),
        "Vary": "Accept",
        "Cache-Control": MUTABLE,
    }
    if not_modified(request, etag, store.last_modified):
        return Response(status_code=304, headers=headers)
    feed = _feed(store)
    if fmt == HTML_FORMAT:
        listing = await anyio.to_thread.run_sync(lambda: _listing(feed))
        return render(
            request,
            "ldes.html",
            headers=headers,
            page=None,
            pages=listing,
            stream=urls.stream,
            formats=_links(request),
        )
    first = await anyio.to_thread.run_sync(lambda: first_page(feed))
    if first is not None:
        # The specification's client takes "a redirect to the root node" and finds the stream
        # as the subject of ``tree:view <>`` there: this works whatever the base IRI, where the
        # stream's own IRI names the view only when the base is this server.
        location = f"/ldes/{quote(first.id, safe='')}"
        if request.url.query:
            location += "?" + request.url.query
        return Response(status_code=303, headers={**headers, "Location": location})
    triples = await anyio.to_thread.run_sync(lambda: stream_triples(feed, urls))
    return _rdf_response(request, _serialize(triples, fmt), fmt, headers)


@router.api_route("/ldes/{page_id}", methods=["GET", "HEAD"], name="ldes_page")
async def page(request: Request, page_id: str, store: StoreDep, settings: SettingsDep) -> Response:
    """One page of members; final pages are immutable."""
    fmt = document_format(request, FORMATS)
    urls = _urls(request, settings)
    feed = _feed(store)
    try:
        found = await anyio.to_thread.run_sync(lambda: feed_page(feed, urls, page_id))
    except PageNotFound as exc:
        raise NotFound(str(exc)) from exc
    headers = _page_headers(found, store.release_id, store.last_modified, fmt, urls)
    if not_modified(request, headers["ETag"], None if found.immutable else store.last_modified):
        return Response(status_code=304, headers=headers)
    if fmt == HTML_FORMAT:
        return render(
            request,
            "ldes.html",
            headers=headers,
            page=found,
            rows=_rows(found, urls, request, settings),
            next_url=None if found.next is None else urls.page(found.next.id),
            stream=urls.stream,
            formats=_links(request),
        )
    body = await anyio.to_thread.run_sync(lambda: _serialize(list(found.triples), fmt))
    return _rdf_response(request, body, fmt, headers)


@router.api_route("/ldes/{release_id}/{n}", methods=["GET", "HEAD"], name="ldes_member")
async def member(release_id: str, n: str, store: StoreDep) -> Response:
    """A member's IRI: ``303`` to the page that holds it."""
    feed = _feed(store)
    if not n.isdigit():
        raise NotFound("no such member in the change feed; see /ldes")
    try:
        ref = await anyio.to_thread.run_sync(lambda: member_page(feed, release_id, int(n)))
    except PageNotFound as exc:
        raise NotFound(str(exc)) from exc
    return Response(status_code=303, headers={"Location": f"/ldes/{quote(ref.id, safe='')}"})


def _page_headers(
    found: FeedPage, release: str | None, modified: datetime | None, fmt: Format, urls: FeedUrls
) -> dict[str, str]:
    """A final page's validator depends on the page alone (its bytes never change); the newest
    page's on the published release, as everything else the server answers."""
    if found.immutable:
        etag = etag_for(found.ref.id, "final", fmt.name, urls.public)
        return {"ETag": etag, "Vary": "Accept", "Cache-Control": IMMUTABLE}
    etag = etag_for(release, "/ldes/" + found.ref.id, fmt.name, urls.public)
    return {**validators(etag, modified), "Vary": "Accept", "Cache-Control": MUTABLE}


def _listing(feed: FeedStore) -> list[tuple[PageRef, int]]:
    return [(ref, feed.version_count(ref.release.id, ref.part)) for ref in pages(feed)]


def _rows(
    found: FeedPage, urls: FeedUrls, request: Request, settings: Settings
) -> list[tuple[str, str, str | None]]:
    """Kind, thing and a link to the thing's page, per member."""
    root = server_root(request, settings)
    return [(v.kind, v.thing, link_for(v.thing, root, settings)) for v in found.versions]


def _links(request: Request) -> list[tuple[str, str]]:
    return [(f.name, f"{request.url.path}?format={f.name}") for f in FORMATS[1:]]


def _serialize(triples: list[ox.Triple], fmt: Format) -> bytes:
    """Oxigraph's serializer, each subject's triples together (Turtle then reads as records)."""
    assert isinstance(fmt.oxigraph, ox.RdfFormat)
    order: dict[object, int] = {}
    for t in triples:
        order.setdefault(t.subject, len(order))
    triples = sorted(triples, key=lambda t: order[t.subject])
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    prefixes = {**used_prefixes(nt), **FEED_PREFIXES}
    if fmt.oxigraph.supports_datasets:  # N-Quads, TriG: the triples in the default graph
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
        return bytes(ox.serialize(quads, format=fmt.oxigraph, prefixes=prefixes) or b"")
    return bytes(ox.serialize(triples, format=fmt.oxigraph, prefixes=prefixes) or b"")


def _rdf_response(request: Request, body: bytes, fmt: Format, headers: dict[str, str]) -> Response:
    if request.method == "HEAD":
        return Response(media_type=fmt.content_type, headers=headers)
    return Response(body, media_type=fmt.content_type, headers=headers)
