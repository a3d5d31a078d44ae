"""``/graph-store``: the SPARQL 1.1 Graph Store HTTP Protocol.

Spec: https://www.w3.org/TR/sparql11-http-rdf-update/. ``?graph=IRI`` names a graph (indirect
identification); ``?default`` is the store's own default graph. In sinlod that graph is normally
empty: published data lives in named graphs, and SPARQL *queries* see their union as the default
graph (DESIGN.md 5), unless ``union_default_graph`` is off: then queries see this graph as their
default graph, as in plain SPARQL 1.1. The Graph Store Protocol works on stored graphs, as
Oxigraph's own server does, so ``GET ?default`` returns only what was put into the default graph
itself. The release log is not a graph of the store (``sinlod.store``): see ``/releases``.

GET and HEAD are open; PUT, POST and DELETE need the bearer token. Every write is one atomic store
write. POST without a graph creates a graph named after a hash of its content (the same upload
names the same graph) and answers 201 with its IRI in ``Location``. POST accepts
``multipart/form-data`` with one RDF file per part (§5.5).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from sinlod.config import Settings
from sinlod.errors import InputError
from sinlod.minting import graph_iri
from sinlod.rdf_guard import check_rdf
from sinlod.server.http.deps import RequireToken, SettingsDep, StoreDep
from sinlod.server.http.negotiation import JSON_LD, N_TRIPLES, RDF_XML, TURTLE, by_name, negotiate
from sinlod.server.http.problems import NotFound, UnsupportedMediaType
from sinlod.server.protocol import writes
from sinlod.store.backend import StoreBackend

router = APIRouter(tags=["Graph Store"])

PATH = "/graph-store"
#: A graph is triples, so graph formats only (no N-Quads or TriG).
GSP_FORMATS = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML)
MULTIPART = "multipart/form-data"

#: One uploaded RDF document: its bytes and format.
Upload = tuple[bytes, ox.RdfFormat]


def _target(request: Request) -> str | None:
    """The graph a request names: an IRI, ``None`` for ``?default``; 400 for neither or both."""
    params = request.query_params
    graph, default = params.get("graph"), "default" in params
    if graph is not None and default:
        raise InputError("give either ?graph= or ?default, not both")
    if graph is None and not default:
        raise InputError("name a graph with ?graph=IRI, or ?default for the default graph")
    if graph is not None:
        _check_iri(graph)
    return graph


def _check_iri(graph: str) -> None:
    try:
        ox.NamedNode(graph)
    except ValueError as exc:
        raise InputError(f"?graph= must be an absolute IRI: {exc}") from exc
    if ":" not in graph:
        raise InputError(f"?graph= must be an absolute IRI, got {graph!r}")


def _exists(store: StoreBackend, graph: str | None) -> bool:
    """A named graph exists when the store lists it; the default graph when it has a triple."""
    if graph is None:
        return next(store.graph_quads(None), None) is not None
    return graph in store.graph_names()


def _dump(store: StoreBackend, graph: str | None, fmt: ox.RdfFormat) -> bytes:
    """One stored graph serialised by Oxigraph (in the worker thread)."""
    out = io.BytesIO()
    if graph is None:
        store.dump_default_graph(out, fmt)
    else:
        store.dump(out, graph=graph, format=fmt)
    return out.getvalue()


@router.api_route(PATH, methods=["GET", "HEAD"], name="graph_store")
async def read_graph(request: Request, store: StoreDep) -> Response:
    """A graph's triples in the negotiated format; 404 for a named graph that does not exist."""
    graph = _target(request)
    if graph is not None and not _exists(store, graph):
        raise NotFound(f"no graph <{graph}> in the store")
    name = request.query_params.get("format")
    fmt = (
        by_name(name, GSP_FORMATS)
        if name
        else negotiate(request.headers.get("accept"), GSP_FORMATS)
    )
    assert isinstance(fmt.oxigraph, ox.RdfFormat)
    rdf_format = fmt.oxigraph
    body = await anyio.to_thread.run_sync(lambda: _dump(store, graph, rdf_format))
    headers = {"Vary": "Accept"}
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(media_type=fmt.content_type, headers=headers)
    return Response(body, media_type=fmt.content_type, headers=headers)


def _format_of(media_type: str | None, filename: str | None = None) -> ox.RdfFormat:
    media = (media_type or "").split(";")[0].strip().lower()
    fmt = ox.RdfFormat.from_media_type(media) if media else None
    if fmt is None and filename and "." in filename:
        fmt = ox.RdfFormat.from_extension(filename.rsplit(".", 1)[1])
    if fmt is None:
        readable = ", ".join(f.media_type for f in GSP_FORMATS)
        raise UnsupportedMediaType(
            f"cannot read a graph in {media or 'an unnamed format'}; send one of: {readable}"
        )
    return fmt


async def _uploads(request: Request) -> list[Upload]:
    """The RDF documents of a request: its body, or each file of a multipart form."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != MULTIPART:
        return [(await request.body(), _format_of(content_type))]
    parts = []
    async with request.form() as form:  # closes the spooled upload files
        for _, part in form.multi_items():
            if isinstance(part, UploadFile):
                parts.append((await part.read(), _format_of(part.content_type, part.filename)))
    if not parts:
        raise InputError("the multipart form holds no RDF file")
    return parts


def _triples(uploads: Sequence[Upload], base: str | None) -> list[ox.Triple]:
    """All uploaded triples; everything is parsed before anything is written."""
    triples: list[ox.Triple] = []
    for body, fmt in uploads:
        check_rdf(body, fmt, f"the {fmt.name} body")
        try:
            triples += [q.triple for q in ox.parse(body, fmt, base_iri=base)]
        except SyntaxError as exc:
            raise InputError(f"the {fmt.name} body does not parse: {exc}") from exc
    return triples


def _write(
    request: Request,
    store: StoreBackend,
    settings: Settings,
    graph: str | None,
    triples: list[ox.Triple] | None,
    write: writes.Write,
) -> Callable[[], object]:
    """The write to run in a worker thread: replace the graph (PUT, and DELETE with ``None``)
    or extend it (POST), through the SHACL gate (``writes``). Each is one atomic store write,
    under the store's write lock, so concurrent writers cannot lose each other's triples."""
    request.app.state.query_cache.clear()
    if triples is None:
        return lambda: writes.delete_graph(store, settings, graph, write)
    if write.operation.startswith("PUT"):
        return lambda: writes.replace_graph(store, settings, graph, triples, write)
    return lambda: writes.extend_graph(store, settings, graph, triples, write)


def _operation(method: str, graph: str | None) -> str:
    return f"{method} {PATH}?" + ("default" if graph is None else f"graph=<{graph}>")


@router.put(PATH)
async def put_graph(
    request: Request, store: StoreDep, settings: SettingsDep, who: RequireToken
) -> Response:
    """Replace a graph; 201 when it is new, 204 when it replaced one."""
    return await _write_graph(request, store, settings, who, "PUT", await _uploads(request))


@router.post(PATH)
async def post_graph(
    request: Request, store: StoreDep, settings: SettingsDep, who: RequireToken
) -> Response:
    """Merge triples into a graph, or create a new graph when no graph is named."""
    params = request.query_params
    uploads = await _uploads(request)
    if "graph" not in params and "default" not in params:
        digest = hashlib.sha256(b"".join(body for body, _ in uploads)).hexdigest()[:16]
        new = graph_iri(settings.base_iri, "upload-" + digest)
        write = writes.write_for(request, who, _operation("POST", new))
        triples = _triples(uploads, new)
        await anyio.to_thread.run_sync(_write(request, store, settings, new, triples, write))
        return Response(status_code=201, headers={"Location": new})
    return await _write_graph(request, store, settings, who, "POST", uploads)


async def _write_graph(
    request: Request,
    store: StoreBackend,
    settings: Settings,
    who: str,
    method: str,
    uploads: list[Upload],
) -> Response:
    """PUT or POST to the graph the request names: 201 when it is new, 204 otherwise."""
    graph = _target(request)
    triples = _triples(uploads, graph)
    existed = _exists(store, graph)
    write = writes.write_for(request, who, _operation(method, graph))
    await anyio.to_thread.run_sync(_write(request, store, settings, graph, triples, write))
    return Response(status_code=204 if existed else 201)


@router.delete(PATH)
async def delete_graph(
    request: Request, store: StoreDep, settings: SettingsDep, who: RequireToken
) -> Response:
    """Remove a graph (empty the default graph); 404 for a named graph that does not exist."""
    graph = _target(request)
    if graph is not None and not _exists(store, graph):
        raise NotFound(f"no graph <{graph}> in the store")
    write = writes.write_for(request, who, _operation("DELETE", graph))
    await anyio.to_thread.run_sync(_write(request, store, settings, graph, None, write))
    return Response(status_code=204)
