"""``/void``, ``/catalog`` and ``/dumps/``: the dataset described and downloadable.

A thin router over ``sinlod.catalog`` (the RDF is computed there) and ``Store.dump``: it picks the
public URL, negotiates the format, and caches per release. A description is computed once per
release and public URL (VoID runs aggregate queries over the whole store); dump files are written
once per release into a cache directory and then served as files. Everything carries an ``ETag``
tied to the release and answers ``304`` to a conditional GET.

* ``/void`` and ``/.well-known/void`` (RFC 5785 name from the VoID guide §7.2): VoID.
* ``/catalog``: a DCAT-AP 3 catalogue (catalogue, dataset, dump distributions, SPARQL service).
* ``/dumps/``: the list of files (HTML or JSON); ``/dumps/latest.nq.gz`` (every quad, gzip,
  with the release log as the graph ``{base}graph/releases``, as ``sinlod dump`` writes it and
  ``sinlod restore`` reads it), ``/dumps/latest.ttl`` (every triple of every data graph as one
  Turtle file) and ``/dumps/{graph-key}.ttl`` for the data graph ``{base}graph/{graph-key}``.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from sinlod.catalog import Urls, catalog_triples, void_triples
from sinlod.config import Settings
from sinlod.server.http.cache import QueryCache, etag_for, not_modified, validators
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.negotiation import (
    DOCUMENT_FORMATS,
    HTML_FORMAT,
    Format,
    by_name,
    negotiate,
    prefers_html,
)
from sinlod.server.http.problems import NotFound
from sinlod.server.http.templating import environment
from sinlod.server.http.urls import server_root
from sinlod.server.protocol.execute import OUTPUT_PREFIXES, used_prefixes
from sinlod.store.backend import StoreBackend
from sinlod.store.graphs import graphs_prefix

router = APIRouter(tags=["Dataset descriptions"])

JSON_FORMAT = Format("application/json", "json", "json")
LISTING_FORMATS = (HTML_FORMAT, JSON_FORMAT)
NQUADS_GZ = "latest.nq.gz"
TURTLE_ALL = "latest.ttl"
#: Dump directories kept: the current release and the one before (a download may still run).
KEEP_RELEASES = 2

Describe = Callable[[ox.Store, Settings, Urls, StoreBackend], list[ox.Triple]]


def _void(
    snapshot: ox.Store, settings: Settings, urls: Urls, store: StoreBackend
) -> list[ox.Triple]:
    return void_triples(snapshot, settings, urls)


def _catalog(
    snapshot: ox.Store, settings: Settings, urls: Urls, store: StoreBackend
) -> list[ox.Triple]:
    log = store.releases()  # beside the data: read here, linked from the dataset
    last = log[-1] if log else None
    return catalog_triples(snapshot, settings, urls, store.last_modified, last, log)


DESCRIPTIONS: dict[str, tuple[str, Describe]] = {
    "void": ("VoID description", _void),
    "catalog": ("DCAT-AP catalogue", _catalog),
}


# -- descriptions ------------------------------------------------------------------------------


@router.api_route("/void", methods=["GET", "HEAD"], name="void")
async def void(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The VoID description of the published dataset."""
    return await _description(request, store, settings, "void")


@router.api_route("/.well-known/void", methods=["GET", "HEAD"], name="well_known_void")
async def well_known_void(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return await _description(request, store, settings, "void")


@router.api_route("/catalog", methods=["GET", "HEAD"], name="catalog")
async def catalog(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The DCAT-AP 3 catalogue of the published dataset."""
    return await _description(request, store, settings, "catalog")


def document_format(request: Request, available: tuple[Format, ...]) -> Format:
    """``?format=`` first; HTML only for a client that names it (a browser), so that curl and
    harvesters sending ``*/*`` or nothing get data (Turtle, or JSON for the file list)."""
    name = request.query_params.get("format")
    if name:
        return by_name(name, available)
    accept = request.headers.get("accept")
    if HTML_FORMAT in available and prefers_html(accept):
        return HTML_FORMAT
    return negotiate(accept, [f for f in available if f != HTML_FORMAT])


async def _description(
    request: Request, store: StoreBackend, settings: Settings, kind: str
) -> Response:
    fmt = document_format(request, DOCUMENT_FORMATS)
    root = server_root(request, settings)
    release = store.release_id
    etag = etag_for(release, request.url.path, fmt.name, root)
    headers = {**validators(etag, store.last_modified), "Vary": "Accept"}
    if not_modified(request, etag, store.last_modified):
        return Response(status_code=304, headers=headers)
    triples = await _triples(request, store, settings, kind, root)
    body = await anyio.to_thread.run_sync(lambda: _render(request, fmt, triples, kind))
    if request.method == "HEAD":
        return Response(media_type=fmt.content_type, headers=headers)
    return Response(body, media_type=fmt.content_type, headers=headers)


async def _triples(
    request: Request, store: StoreBackend, settings: Settings, kind: str, root: str
) -> list[ox.Triple]:
    """The description, computed once per release and public URL."""
    cache: QueryCache[list[ox.Triple]] = request.app.state.descriptions
    key = (kind, root)
    found = cache.get(store.release_id, key)
    if found is not None:
        return found
    urls = Urls(public=root, base=settings.base_iri)
    describe = DESCRIPTIONS[kind][1]
    snapshot = store.oxigraph
    triples = await anyio.to_thread.run_sync(lambda: describe(snapshot, settings, urls, store))
    cache.put(store.release_id, key, triples, size=len(triples))
    return triples


def _render(request: Request, fmt: Format, triples: list[ox.Triple], kind: str) -> bytes:
    """RDF by Oxigraph's serializer; for a browser, the Turtle on a small page."""
    if fmt == HTML_FORMAT:
        turtle = _serialize(triples, ox.RdfFormat.TURTLE).decode()
        links = [(f.name, f"{request.url.path}?format={f.name}") for f in DOCUMENT_FORMATS[1:]]
        return _page(DESCRIPTIONS[kind][0], turtle=turtle, links=links).encode()
    assert isinstance(fmt.oxigraph, ox.RdfFormat)
    return _serialize(triples, fmt.oxigraph)


def _serialize(triples: list[ox.Triple], fmt: ox.RdfFormat) -> bytes:
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return bytes(ox.serialize(triples, format=fmt, prefixes=used_prefixes(nt)) or b"")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/sinlod.css"></head>
<body><main><h1>{{ title }}</h1>
{% if links %}<p>As {% for name, href in links %}<a href="{{ href }}">{{ name }}</a>{{ ", " if not loop.last }}{% endfor %}</p>{% endif %}
{% if turtle is not none %}<pre>{{ turtle }}</pre>{% endif %}
{% if files %}<table><tr><th>file</th><th>what</th><th>media type</th></tr>
{% for f in files %}<tr><td><a href="{{ f.url }}">{{ f.name }}</a></td><td>{{ f.title }}</td><td>{{ f.media_type }}</td></tr>
{% endfor %}</table>{% endif %}
</main></body></html>
"""  # noqa: E501


def _page(title: str, **context: Any) -> str:
    """A plain page; the environment autoescapes, so data can never become markup."""
    template = environment().from_string(_PAGE)
    return template.render(title=title, **{"turtle": None, "links": [], "files": [], **context})


# -- dumps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DumpFile:
    name: str
    title: str
    media_type: str
    graph: str | None = None

    def to_json(self, root: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": f"{root}dumps/{self.name}",
            "title": self.title,
            "media_type": self.media_type,
            "graph": self.graph,
        }


def dump_files(store: StoreBackend, settings: Settings) -> list[DumpFile]:
    """What ``/dumps/`` offers for the current release: everything, and each sinlod graph."""
    files = [
        DumpFile(
            NQUADS_GZ,
            "Every graph, and the release log as its own graph, as gzipped N-Quads",
            "application/gzip",
        ),
        DumpFile(TURTLE_ALL, "Every triple of every graph as Turtle", "text/turtle"),
    ]
    prefix = graphs_prefix(settings.base_iri)
    for graph in store.graph_names():
        if graph.startswith(prefix):
            key = graph.removeprefix(prefix)
            files.append(DumpFile(f"{key}.ttl", f"The graph <{graph}>", "text/turtle", graph))
    return files


@router.api_route("/dumps/", methods=["GET", "HEAD"], name="dumps")
async def dumps(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """The files of the current release, as a page or as JSON."""
    fmt = document_format(request, LISTING_FORMATS)
    root = server_root(request, settings)
    etag = etag_for(store.release_id, "/dumps/", fmt.name, root)
    headers = {**validators(etag, store.last_modified), "Vary": "Accept"}
    if not_modified(request, etag, store.last_modified):
        return Response(status_code=304, headers=headers)
    files = dump_files(store, settings)
    if fmt == HTML_FORMAT:
        html = _page("Downloads", files=[f.to_json(root) for f in files])
        return Response(html, media_type=fmt.content_type, headers=headers)
    modified = store.last_modified.isoformat() if store.last_modified else None
    body = {
        "release": store.release_id,
        "modified": modified,
        "files": [f.to_json(root) for f in files],
    }
    return JSONResponse(body, headers=headers)


@router.api_route("/dumps", methods=["GET", "HEAD"], include_in_schema=False)
async def dumps_no_slash(request: Request) -> Response:
    return Response(status_code=308, headers={"Location": "/dumps/"})


@router.api_route("/dumps/{name:path}", methods=["GET", "HEAD"], name="dump")
async def dump(request: Request, name: str, store: StoreDep, settings: SettingsDep) -> Response:
    """One dump file of the current release, written on first request and then served as is."""
    wanted = next((f for f in dump_files(store, settings) if f.name == name), None)
    if wanted is None:
        raise NotFound(f"no dump file {name!r}; see /dumps/ for the list")
    release = store.release_id
    etag = etag_for(release, "/dumps/", name)
    headers = {**validators(etag, store.last_modified)}
    if not_modified(request, etag, store.last_modified):
        return Response(status_code=304, headers=headers)
    dumper: Dumper = request.app.state.dumper
    path = await anyio.to_thread.run_sync(lambda: dumper.file(store, wanted))
    headers["Content-Disposition"] = f'attachment; filename="{Path(name).name}"'
    return FileResponse(path, media_type=wanted.media_type, headers=headers)


class Dumper:
    """Dump files per release in ``directory/{release}/``, written once (atomically, by
    ``Store.dump``) and kept for the current and the previous release."""

    def __init__(self, directory: Path | None) -> None:
        self._given = directory
        self._temporary: Path | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_store(cls, store: StoreBackend) -> Dumper:
        """Under the store directory (``cache/dumps``); a private temporary one for a store in
        memory or a directory this process may not write."""
        return cls(None if store.path is None else store.path / "cache" / "dumps")

    def _root(self) -> Path:
        if self._given is not None:
            try:
                self._given.mkdir(parents=True, exist_ok=True)
                return self._given
            except OSError:
                self._given = None
        if self._temporary is None:
            self._temporary = Path(tempfile.mkdtemp(prefix="sinlod-dumps-"))
        return self._temporary

    def file(self, store: StoreBackend, wanted: DumpFile) -> Path:
        release = store.release_id or "empty"
        with self._lock:
            directory = self._root() / release
            path = directory / wanted.name
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                _write(store, wanted, path)
                self._prune(keep=release)
            return path

    def _prune(self, keep: str) -> None:
        others = sorted(
            (p for p in self._root().iterdir() if p.is_dir() and p.name != keep),
            key=lambda p: p.stat().st_mtime,
        )
        for old in others[: max(0, len(others) - (KEEP_RELEASES - 1))]:
            shutil.rmtree(old, ignore_errors=True)

    def close(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None


def _write(store: StoreBackend, wanted: DumpFile, path: Path) -> None:
    if wanted.name == NQUADS_GZ:
        store.dump(path, format=ox.RdfFormat.N_QUADS)
    elif wanted.graph is not None:
        store.dump(path, graph=wanted.graph, format=ox.RdfFormat.TURTLE)
    else:
        _write_union(store, path)


def _write_union(store: StoreBackend, path: Path) -> None:
    """All triples of all graphs as one Turtle file (a triple in two graphs is written twice,
    which parses to the same graph)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as out:
        triples = (q.triple for q in store.quads())
        ox.serialize(triples, out, ox.RdfFormat.TURTLE, prefixes=OUTPUT_PREFIXES)
    tmp.replace(path)


def install(app: FastAPI) -> None:
    """The per-app state this router needs: the description cache (set at creation) and the
    dumper (set by the lifespan, once the store is open)."""
    app.state.descriptions = QueryCache(max_entries=16, max_bytes=10_000_000)
