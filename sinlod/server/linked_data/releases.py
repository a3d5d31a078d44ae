"""``/releases``: the release log, for people (HTML) and machines (RDF by negotiation).

The log is bookkeeping beside the data, not part of it (``sinlod.store.layout`` says why), so
SPARQL does not reach it; this is where it is read. Each write to the store is one release:
who (the agent, a token's name over HTTP), when, why (the comment), which graphs changed and the
triples per graph afterwards, the files used and the validation outcome.

* ``/releases``: every release, newest first (HTML), or the whole log as PROV-O + DCAT-AP in
  Turtle, N-Triples, JSON-LD, RDF/XML, N-Quads or TriG (``Accept`` or ``?format=``).
* ``/releases/{id}``: one release, the same ways.
* ``/release/{id}``: the release's IRI (``{base}release/{id}``) answers ``303`` to its page.

A thin router: the log is read with ``Store.releases`` and ``release_triples``; responses carry
an ``ETag`` tied to the published release and answer ``304`` to a conditional GET.
"""

from __future__ import annotations

from urllib.parse import quote

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from sinlod.ldes import FeedStore
from sinlod.server.http.cache import etag_for, not_modified, validators
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.negotiation import GRAPH_FORMATS, HTML_FORMAT, Format
from sinlod.server.http.problems import NotFound
from sinlod.server.http.templating import render
from sinlod.server.linked_data.catalog import NQUADS_GZ, document_format
from sinlod.server.protocol.execute import used_prefixes
from sinlod.store import Release, release_triples
from sinlod.store.backend import StoreBackend

router = APIRouter(tags=["Release log"])

#: HTML for people, then every RDF format Oxigraph writes (Turtle first, for ``*/*``).
FORMATS: tuple[Format, ...] = (HTML_FORMAT, *GRAPH_FORMATS)


@router.api_route("/releases", methods=["GET", "HEAD"], name="releases")
async def releases(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Every release recorded in the store, newest first."""
    fmt = document_format(request, FORMATS)
    headers, fresh = _validators(request, store, fmt)
    if fresh:
        return Response(status_code=304, headers=headers)
    if fmt == HTML_FORMAT:
        log = await anyio.to_thread.run_sync(store.releases)
        return render(
            request,
            "releases.html",
            headers=headers,
            releases=list(reversed(log)),
            current=store.release_id,
            formats=_links(request),
        )
    body = await anyio.to_thread.run_sync(lambda: _rdf(store, None, fmt))
    return _rdf_response(request, body, fmt, headers)


@router.api_route("/releases/{release_id}", methods=["GET", "HEAD"], name="release")
async def release(
    request: Request, release_id: str, store: StoreDep, settings: SettingsDep
) -> Response:
    """One release: who, when, why, which graphs changed and their triple counts."""
    fmt = document_format(request, FORMATS)
    found = await anyio.to_thread.run_sync(lambda: _find(store, release_id))
    headers, fresh = _validators(request, store, fmt)
    if fresh:
        return Response(status_code=304, headers=headers)
    if fmt == HTML_FORMAT:
        return render(
            request,
            "release.html",
            headers=headers,
            release=found,
            current=found.id == store.release_id,
            dump=f"/dumps/{NQUADS_GZ}",
            feed=_feed_page(store, found.id),
            formats=_links(request),
        )
    body = await anyio.to_thread.run_sync(lambda: _rdf(store, found.id, fmt))
    return _rdf_response(request, body, fmt, headers)


@router.api_route("/release/{release_id}", methods=["GET", "HEAD"], name="release_iri")
async def release_iri(release_id: str) -> Response:
    """``{base}release/{id}`` names the release (an activity); its description is a page."""
    # Percent-encoded: an id from the path may hold any character, a header only Latin-1.
    location = f"/releases/{quote(release_id, safe='')}"
    return Response(status_code=303, headers={"Location": location})


def _find(store: StoreBackend, release_id: str) -> Release:
    for found in store.releases():
        if found.id == release_id:
            return found
    raise NotFound(f"no release {release_id!r} in the release log; see /releases for the list")


def _feed_page(store: StoreBackend, release_id: str) -> str | None:
    """The change feed's first page of this release's changes, when it recorded them."""
    if isinstance(store, FeedStore) and store.version_pages(release_id) > 0:
        return f"/ldes/{quote(release_id, safe='')}.1"
    return None


def _validators(request: Request, store: StoreBackend, fmt: Format) -> tuple[dict[str, str], bool]:
    """ETag per published release (the log changes with it), path and format; fresh or not."""
    etag = etag_for(store.release_id, request.url.path, fmt.name)
    headers = {**validators(etag, store.last_modified), "Vary": "Accept"}
    return headers, not_modified(request, etag, store.last_modified)


def _links(request: Request) -> list[tuple[str, str]]:
    return [(f.name, f"{request.url.path}?format={f.name}") for f in FORMATS[1:]]


def _rdf(store: StoreBackend, release_id: str | None, fmt: Format) -> bytes:
    assert isinstance(fmt.oxigraph, ox.RdfFormat)
    triples = release_triples(store.release_log(), store.base_iri, release_id)
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    if fmt.oxigraph.supports_datasets:  # N-Quads, TriG: the triples in the default graph
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
        return bytes(ox.serialize(quads, format=fmt.oxigraph, prefixes=used_prefixes(nt)) or b"")
    return bytes(ox.serialize(triples, format=fmt.oxigraph, prefixes=used_prefixes(nt)) or b"")


def _rdf_response(request: Request, body: bytes, fmt: Format, headers: dict[str, str]) -> Response:
    if request.method == "HEAD":
        return Response(media_type=fmt.content_type, headers=headers)
    return Response(body, media_type=fmt.content_type, headers=headers)
