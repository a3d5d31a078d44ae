"""Dereferencing (DESIGN.md 2): ``/id/...`` → 303 → ``/doc/...``; ``/def/...`` for the ontology.

``/doc/{type}/{key}`` serves the description of ``{base}id/{type}/{key}`` as HTML, Turtle,
N-Triples, JSON-LD or RDF/XML, chosen by ``Accept`` (q-values) or by an extension
(``/doc/project/sic.ttl``). Responses carry ``Vary``, ``Link`` headers to the alternates, an
``ETag`` (release + path + format, so it changes exactly when the data may have) and
``Last-Modified``; a conditional GET answers 304.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sinlod.config import Settings
from sinlod.namespaces import PREFIXES
from sinlod.ontology_doc import overview
from sinlod.server.http.cache import not_modified
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.negotiation import (
    DOCUMENT_FORMATS,
    HTML_FORMAT,
    Format,
    by_extension,
    by_name,
    negotiate,
)
from sinlod.server.http.problems import NotAcceptable, NotFound
from sinlod.server.http.urls import alternate_url, iri_for_path, server_root
from sinlod.server.linked_data import describe, pages
from sinlod.server.protocol.execute import used_prefixes
from sinlod.store import ontology_graph, vocabularies_prefix
from sinlod.store.backend import StoreBackend

router = APIRouter(tags=["Linked Data"])


@router.api_route("/id/{type_}/{key}", methods=["GET", "HEAD"], name="thing")
async def thing(request: Request, type_: str, key: str) -> Response:
    """A thing is not a document: 303 to the document about it (Cool URIs for the Semantic Web)."""
    target = f"/doc/{type_}/{key}"
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})


@router.api_route("/doc/{type_}/{key}", methods=["GET", "HEAD"], name="document")
async def document(
    request: Request, type_: str, key: str, store: StoreDep, settings: SettingsDep
) -> Response:
    name, ext = _split_extension(key)
    iri = iri_for_path(f"/id/{type_}/{name}", settings)
    return await _serve(request, store, settings, iri, f"/doc/{type_}/{name}", ext)


@router.api_route("/def/", methods=["GET", "HEAD"], name="ontology")
async def ontology(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The whole ontology (``https://w3id.org/sinlod/def/``): its graph as RDF, and for people
    a documentation page of every class, property and concept scheme."""
    graph = ontology_graph(settings.base_iri)
    quads = await anyio.to_thread.run_sync(lambda: _graph_quads(store, graph))
    if not quads:
        raise NotFound("the ontology is not published in this store (run `sinlod publish`)")
    fmt = _format(request, None)
    lang = pages.reader_language(request)
    etag = _etag(store.release_id, "/def/", fmt, lang, server_root(request, settings))
    headers = _headers(request, "/def/", fmt, None, etag, store.last_modified)
    if not_modified(request, etag, store.last_modified):
        return Response(status_code=304, headers=headers)
    response: Response
    if fmt == HTML_FORMAT:
        vocabularies = await anyio.to_thread.run_sync(
            lambda: _vocabulary_quads(store, vocabularies_prefix(settings.base_iri))
        )
        response = pages.ontology_page(
            request, settings, overview(quads + vocabularies, lang), lang
        )
        response.headers.update(headers)
    else:
        assert fmt.oxigraph is not None
        triples = [q.triple for q in quads]
        body = ox.serialize(triples, format=fmt.oxigraph, prefixes=dict(PREFIXES))  # type: ignore[arg-type]
        response = Response(body, media_type=fmt.content_type, headers=headers)
    if request.method == "HEAD":
        return Response(status_code=200, headers=dict(response.headers))
    return response


def _graph_quads(store: StoreBackend, graph: str) -> list[ox.Quad]:
    return list(store.graph_quads(graph))


def _vocabulary_quads(store: StoreBackend, prefix: str) -> list[ox.Quad]:
    out: list[ox.Quad] = []
    for g in store.graph_names():
        if g.startswith(prefix):
            out += store.graph_quads(g)
    return out


@router.api_route("/def/{term}", methods=["GET", "HEAD"], name="term")
async def term(request: Request, term: str, store: StoreDep, settings: SettingsDep) -> Response:
    """An ontology term or concept scheme (``/def/Project``, ``/def/roles``)."""
    name, ext = _split_extension(term)
    path = f"/def/{name}"
    return await _serve(request, store, settings, iri_for_path(path, settings), path, ext)


@router.api_route("/def/{scheme}/{concept}", methods=["GET", "HEAD"], name="concept")
async def concept(
    request: Request, scheme: str, concept: str, store: StoreDep, settings: SettingsDep
) -> Response:
    """A SKOS concept (``/def/roles/coordinator``)."""
    name, ext = _split_extension(concept)
    path = f"/def/{scheme}/{name}"
    return await _serve(request, store, settings, iri_for_path(path, settings), path, ext)


def _split_extension(segment: str) -> tuple[str, str | None]:
    """``sic.ttl`` → (``sic``, ``ttl``). Keys are slugs and never contain a dot."""
    name, dot, ext = segment.rpartition(".")
    return (name, ext) if dot and name else (segment, None)


async def _serve(
    request: Request, store: StoreBackend, settings: Settings, iri: str, path: str, ext: str | None
) -> Response:
    """The description of ``iri`` in the chosen format, with caching and alternate headers."""
    if not await anyio.to_thread.run_sync(lambda: _exists(store, iri)):
        raise NotFound(f"nothing is known about <{iri}>")
    fmt = _format(request, ext)
    lang = pages.reader_language(request)
    etag = _etag(store.release_id, path, fmt, lang, server_root(request, settings))
    headers = _headers(request, path, fmt, ext, etag, store.last_modified)
    if not_modified(request, etag, store.last_modified):
        return Response(status_code=304, headers=headers)
    description = await anyio.to_thread.run_sync(lambda: describe.describe(store, iri))
    response: Response
    if fmt == HTML_FORMAT:
        labels = await anyio.to_thread.run_sync(lambda: pages.term_labels(store, description))
        response = pages.resource_page(request, settings, description, labels, lang, path)
        response.headers.update(headers)
    else:
        assert fmt.oxigraph is not None
        body = description.serialize(fmt.oxigraph, used_prefixes(description.ntriples))  # type: ignore[arg-type]
        response = Response(body, media_type=fmt.content_type, headers=headers)
    if request.method == "HEAD":
        return Response(status_code=200, headers=dict(response.headers))
    return response


def _exists(store: StoreBackend, iri: str) -> bool:
    try:
        return describe.exists(store, iri)
    except ValueError:
        return False  # not even an IRI: nothing can be known about it


def _format(request: Request, ext: str | None) -> Format:
    if ext is not None:
        fmt = by_extension(ext, DOCUMENT_FORMATS)
        if fmt is None:
            raise NotAcceptable(
                [f.essence for f in DOCUMENT_FORMATS],
                names=[f".{f.extension}" for f in DOCUMENT_FORMATS],
            )
        return fmt
    if request.query_params.get("format"):
        return by_name(request.query_params["format"], DOCUMENT_FORMATS)
    return negotiate(request.headers.get("accept"), DOCUMENT_FORMATS)


def _etag(release: str | None, path: str, fmt: Format, lang: str, root: str) -> str:
    """A strong validator: same release, path and format, same bytes. HTML also depends on the
    page language and on the server's own URL (its links point at it)."""
    variant = f"{fmt.name}:{lang}:{root}" if fmt == HTML_FORMAT else fmt.name
    digest = hashlib.sha256(f"{release}|{path}|{variant}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _headers(
    request: Request, path: str, fmt: Format, ext: str | None, etag: str, modified: datetime | None
) -> dict[str, str]:
    links = [
        f'<{alternate_url(path, alt.extension, alt.name)}>; rel="alternate"; type="{alt.essence}"'
        for alt in DOCUMENT_FORMATS
        if alt != fmt
    ]
    headers = {"ETag": etag, "Link": ", ".join(links)}
    if ext is None:
        headers["Vary"] = "Accept, Accept-Language" if fmt == HTML_FORMAT else "Accept"
        headers["Content-Location"] = alternate_url(path, fmt.extension, fmt.name)
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    return headers
