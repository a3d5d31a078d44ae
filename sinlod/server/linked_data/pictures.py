"""``/map``, ``/network`` and ``/timeline``: the data as pictures, with the facts as HTML beneath.

Each page lists its facts as a table or list that works without JavaScript; its script (served
from ``/static``, as the CSP allows only same-origin scripts) fetches the page's JSON
(``/map.json``, ``/network.json``, ``/timeline.json``) and draws the picture with libraries that
``make assets`` installs from npm and this server serves under ``/static/vendor/`` (d3-geo with
world-atlas country outlines, cytoscape): no tile server, no CDN. The facts come from
``sinlod.pictures``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from sinlod import pictures
from sinlod.config import Settings
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.templating import render
from sinlod.server.http.urls import link_for, server_root
from sinlod.server.linked_data.pages import reader_language

router = APIRouter(tags=["Pages"], include_in_schema=False)

#: npm package → the folder of it that is served at ``/static/vendor/{package}/``.
VENDOR = {
    "d3-array": Path("d3-array", "dist"),
    "d3-geo": Path("d3-geo", "dist"),
    "topojson-client": Path("topojson-client", "dist"),
    "world-atlas": Path("world-atlas"),
    "cytoscape": Path("cytoscape", "dist"),
}
#: A file each folder must hold for the pictures to be drawn.
VENDOR_FILES = (
    Path("d3-array", "dist", "d3-array.min.js"),
    Path("d3-geo", "dist", "d3-geo.min.js"),
    Path("topojson-client", "dist", "topojson-client.min.js"),
    Path("world-atlas", "countries-110m.json"),
    Path("cytoscape", "dist", "cytoscape.min.js"),
)
MAX_FOCUS = 2000  # characters of an IRI


def mount_assets(app: FastAPI, settings: Settings) -> None:
    """Serve the pictures' npm packages when ``make assets`` has installed them; without them
    the pages show their lists only (``app.state.pictures`` records which)."""
    root = settings.assets_dir
    app.state.pictures = all((root / f).is_file() for f in VENDOR_FILES)
    if app.state.pictures:
        for name, folder in VENDOR.items():
            app.mount(f"/static/vendor/{name}", StaticFiles(directory=root / folder), name=name)


def _href(request: Request, settings: Settings, iri: str) -> str | None:
    return link_for(iri, server_root(request, settings), settings)


def _drawn(request: Request) -> bool:
    return bool(getattr(request.app.state, "pictures", False))


# -- map ---------------------------------------------------------------------------------------


def _points(request: Request, settings: Settings, points: list[pictures.Point]) -> list[Any]:
    return [
        {
            "iri": p.iri,
            "href": _href(request, settings, p.iri),
            "label": p.label,
            "lat": p.lat,
            "long": p.long,
            "things": p.things,
        }
        for p in points
    ]


@router.get("/map.json", name="map_json")
async def map_json(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    focus: Annotated[str | None, Query(max_length=MAX_FOCUS)] = None,
) -> JSONResponse:
    """The places with coordinates (of ``focus``, when given) as JSON for the map."""
    lang = reader_language(request)
    points = await anyio.to_thread.run_sync(lambda: pictures.map_points(store, lang, focus))
    return JSONResponse({"focus": focus, "points": _points(request, settings, points)})


@router.get("/map", name="map")
async def map_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    focus: Annotated[str | None, Query(max_length=MAX_FOCUS)] = None,
) -> HTMLResponse:
    """Every place with coordinates (or those of ``focus``) on a map of country outlines, and
    as a table."""
    lang = reader_language(request)
    points = await anyio.to_thread.run_sync(lambda: pictures.map_points(store, lang, focus))
    focus_label = None
    if focus:
        focus_label = (
            await anyio.to_thread.run_sync(lambda: pictures.labels(store, [focus], lang))
        )[focus]
    return render(
        request,
        "map.html",
        lang=lang,
        points=_points(request, settings, points),
        focus_label=focus_label,
        drawn=_drawn(request),
        source="/map.json" + ("?focus=" + quote(focus, safe="") if focus else ""),
    )


# -- network -----------------------------------------------------------------------------------


async def _network(
    request: Request, store: StoreDep, settings: Settings, focus: str | None
) -> pictures.Network | None:
    lang = reader_language(request)
    if not focus:
        focus = await anyio.to_thread.run_sync(lambda: pictures.default_focus(store))
    if not focus:
        return None
    chosen = focus
    return await anyio.to_thread.run_sync(lambda: pictures.network(store, chosen, lang))


def _network_json(request: Request, settings: Settings, net: pictures.Network) -> dict[str, Any]:
    return {
        "focus": net.focus,
        "truncated": net.truncated,
        "nodes": [
            {
                "id": n.iri,
                "label": n.label,
                "kind": n.kind,
                "depth": n.depth,
                "href": _href(request, settings, n.iri),
                "network": "/network?focus=" + quote(n.iri, safe=""),
            }
            for n in net.nodes
        ],
        "edges": [{"source": e.source, "target": e.target, "label": e.label} for e in net.edges],
    }


@router.get("/network.json", name="network_json")
async def network_json(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    focus: Annotated[str | None, Query(max_length=MAX_FOCUS)] = None,
) -> JSONResponse:
    """Who works with whom within two steps of ``focus`` (default: the best-connected project)."""
    net = await _network(request, store, settings, focus)
    if net is None:
        return JSONResponse({"focus": None, "truncated": False, "nodes": [], "edges": []})
    return JSONResponse(_network_json(request, settings, net))


@router.get("/network", name="network")
async def network_page(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    focus: Annotated[str | None, Query(max_length=MAX_FOCUS)] = None,
) -> HTMLResponse:
    """The network around ``focus`` as a graph to explore, and as lists of nodes and links."""
    net = await _network(request, store, settings, focus)
    data = _network_json(request, settings, net) if net is not None else None
    labels = {n["id"]: n["label"] for n in data["nodes"]} if data else {}
    source = "/network.json" + ("?focus=" + quote(net.focus, safe="") if net else "")
    return render(
        request,
        "network.html",
        lang=reader_language(request),
        net=data,
        labels=labels,
        drawn=_drawn(request),
        source=source,
    )


# -- timeline ----------------------------------------------------------------------------------


def _items(request: Request, settings: Settings, items: list[pictures.Item]) -> list[Any]:
    return [
        {
            "iri": i.iri,
            "href": _href(request, settings, i.iri),
            "label": i.label,
            "kind": i.kind,
            "start": i.start,
            "end": i.end,
            "status": i.status,
            "planned": i.planned,
        }
        for i in items
    ]


@router.get("/timeline.json", name="timeline_json")
async def timeline_json(request: Request, store: StoreDep, settings: SettingsDep) -> JSONResponse:
    """Projects and events with their dates and status, as JSON for the timeline."""
    lang = reader_language(request)
    items = await anyio.to_thread.run_sync(lambda: pictures.timeline(store, lang))
    return JSONResponse({"items": _items(request, settings, items)})


@router.get("/timeline", name="timeline")
async def timeline_page(request: Request, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    """Projects and events on a time axis (planned ones marked), and as a table."""
    lang = reader_language(request)
    items = await anyio.to_thread.run_sync(lambda: pictures.timeline(store, lang))
    return render(
        request,
        "timeline.html",
        lang=lang,
        items=_items(request, settings, items),
        drawn=_drawn(request),
        source="/timeline.json",
    )
