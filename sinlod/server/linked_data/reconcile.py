"""``/reconcile``: the W3C Entity Reconciliation Service API, version 0.2 (what OpenRefine speaks).

HTTP only; the matching is ``sinlod.linking.reconcile``. Endpoints:

* ``GET /reconcile`` — the service manifest (JSONP with ``callback``, which OpenRefine's older
  clients use); with ``queries=`` a reconciliation batch (the spec's GET form, for debugging);
* ``POST /reconcile`` — a batch in the form field ``queries`` (what OpenRefine sends), or as a
  JSON body (``{"queries": {...}}`` or the batch itself);
* ``GET /reconcile/suggest/{entity,type,property}?prefix=&cursor=`` — auto-completion;
* ``GET /reconcile/preview?id=`` — a small HTML card, which OpenRefine shows in an iframe (the
  one page of this server that may be framed, ``security.py``);
* ``GET /reconcile/view?id=`` — redirects to the entity's page (here, or the code's own page).

Building the reconciler (two queries and the table matchers) and scoring a batch depend on the
data, so both run in a worker thread, never on the event loop (``execute.py``: nothing
data-dependent on the loop without a bound); a batch is bounded by ``MAX_BATCH`` queries of at
most ``MAX_LIMIT`` candidates. The reconciler is kept per release on the app's state.
"""

from __future__ import annotations

import html
import json
import re
import threading
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sinlod import __version__
from sinlod.config import Settings
from sinlod.errors import InputError
from sinlod.linking.check import TABLES
from sinlod.linking.reconcile import MAX_BATCH, MAX_LIMIT, Reconciler, from_store, parse_batch
from sinlod.linking.tables import load_tables
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.problems import NotFound
from sinlod.server.http.urls import local_url, server_root
from sinlod.store.backend import StoreBackend

router = APIRouter(tags=["reconciliation"])

#: JSONP callbacks: a dotted JavaScript name, nothing that could carry script of its own.
_CALLBACK = re.compile(r"[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){0,3}")
_IRI = re.compile(r"https?://[^\s\"<>\\^`{|}]+")
_lock = threading.Lock()
PREVIEW_WIDTH = 400
PREVIEW_HEIGHT = 160


def reconciler_for(holder: Any, store: StoreBackend, settings: Settings) -> Reconciler:
    """The reconciler of the store's current release, kept on ``holder`` (the app's state).
    Call it in a worker thread: the first call of a release queries the store."""
    with _lock:
        cached: tuple[str | None, Reconciler] | None = getattr(holder, "reconciler", None)
        if cached is not None and cached[0] == store.release_id:
            return cached[1]
        tables = load_tables(settings.reference_dir)
        built = from_store(store, settings.base_iri, tables)
        holder.reconciler = (store.release_id, built)
        return built


async def _reconciler(request: Request, store: StoreBackend, settings: Settings) -> Reconciler:
    return await anyio.to_thread.run_sync(
        lambda: reconciler_for(request.app.state, store, settings)
    )


def _answer(body: Any, callback: str | None) -> Response:
    """JSON, or JSONP when a (well-formed) ``callback`` is given."""
    if callback is None:
        return JSONResponse(body)
    if not _CALLBACK.fullmatch(callback):
        raise InputError("'callback' must be a JavaScript function name")
    text = json.dumps(body, ensure_ascii=True).replace("<", "\\u003c")
    return Response(f"/**/{callback}({text});", media_type="application/javascript")


def manifest(request: Request, settings: Settings, reconciler: Reconciler) -> dict[str, Any]:
    root = server_root(request, settings)
    service = root + "reconcile"
    return {
        "versions": ["0.1", "0.2"],
        "name": f"{settings.dataset_title} (sinlod reconciliation)",
        "identifierSpace": settings.base_iri + "id/",
        "schemaSpace": "https://w3id.org/sinlod/def/",
        "documentation": root + "api/docs",
        "serviceVersion": __version__,
        "view": {"url": service + "/view?id={{id}}"},
        "preview": {
            "url": service + "/preview?id={{id}}",
            "width": PREVIEW_WIDTH,
            "height": PREVIEW_HEIGHT,
        },
        "defaultTypes": reconciler.default_types(),
        "suggest": {
            kind: {"service_url": service, "service_path": f"/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "batchSize": MAX_BATCH,
    }


async def _batch(
    request: Request, store: StoreBackend, settings: Settings, raw: Any
) -> dict[str, Any]:
    batch = parse_batch(raw)
    reconciler = await _reconciler(request, store, settings)
    return await anyio.to_thread.run_sync(lambda: reconciler.reconcile_batch(batch))


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"'{what}' is not valid JSON: {exc}") from exc


@router.get("/reconcile", name="reconcile")
async def reconcile_get(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    queries: Annotated[str | None, Query(max_length=200_000)] = None,
    callback: Annotated[str | None, Query(max_length=260)] = None,
) -> Response:
    """The service manifest, or (with ``queries``) a reconciliation batch."""
    if queries is not None:
        return _answer(await _batch(request, store, settings, _json(queries, "queries")), callback)
    reconciler = await _reconciler(request, store, settings)
    return _answer(manifest(request, settings, reconciler), callback)


@router.post("/reconcile")
async def reconcile_post(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """A reconciliation batch: form field ``queries`` (OpenRefine), or a JSON body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        body = _json((await request.body()).decode("utf-8", "replace"), "body")
        raw = body.get("queries", body) if isinstance(body, dict) else body
        if isinstance(raw, str):
            raw = _json(raw, "queries")
    else:
        form = await request.form()
        value = form.get("queries")
        if not isinstance(value, str):
            raise InputError("POST /reconcile needs a form field 'queries' (or a JSON body)")
        raw = _json(value, "queries")
    return JSONResponse(await _batch(request, store, settings, raw))


@router.get("/reconcile/suggest/{kind}", name="reconcile-suggest")
async def suggest(
    request: Request,
    kind: str,
    store: StoreDep,
    settings: SettingsDep,
    prefix: Annotated[str, Query(max_length=500)] = "",
    cursor: Annotated[int, Query(ge=0, le=10_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    type: Annotated[str | None, Query(max_length=500)] = None,  # noqa: A002 (the API's name)
    callback: Annotated[str | None, Query(max_length=260)] = None,
) -> Response:
    """Entities, types or properties whose name starts with (or contains) ``prefix``."""
    reconciler = await _reconciler(request, store, settings)
    if kind == "entity":
        result: list[Any] = await anyio.to_thread.run_sync(
            lambda: reconciler.suggest_entities(prefix, cursor=cursor, limit=limit, type_=type)
        )
    elif kind == "type":
        result = await anyio.to_thread.run_sync(
            lambda: reconciler.suggest_types(prefix, cursor=cursor, limit=limit)
        )
    elif kind == "property":
        result = await anyio.to_thread.run_sync(
            lambda: reconciler.suggest_properties(prefix, cursor=cursor, limit=limit)
        )
    else:
        raise NotFound("suggest serves entity, type and property")
    return _answer({"result": result}, callback)


@router.get("/reconcile/preview", name="reconcile-preview", response_class=HTMLResponse)
async def preview(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    id: Annotated[str, Query(max_length=2000)],  # noqa: A002 (the API's name)
) -> HTMLResponse:
    """A small card for OpenRefine's iframe: name, types, alternative names, description."""
    reconciler = await _reconciler(request, store, settings)
    found = await anyio.to_thread.run_sync(lambda: reconciler.preview(id))
    if found is None:
        raise NotFound(f"no entity <{id}> to preview")
    root = server_root(request, settings)
    link = local_url(id, root, settings) or id
    esc = html.escape
    parts = [
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>',
        esc(found["name"]),
        "</title><style>body{font:14px sans-serif;margin:8px}p{margin:4px 0}"
        ".t{color:#555}</style><body>",
        f'<p><a href="{esc(link)}" target="_blank" rel="noopener"><b>{esc(found["name"])}</b></a>',
        f'<p class="t">{esc(", ".join(found["types"]))}',
    ]
    if found["alternative"]:
        parts.append(f'<p class="t">also: {esc(", ".join(found["alternative"]))}')
    if found["description"]:
        text = found["description"]
        parts.append(f"<p>{esc(text[:400] + ('…' if len(text) > 400 else ''))}")
    parts.append(f'<p class="t"><code>{esc(id)}</code></body></html>')
    return HTMLResponse("".join(parts))


@router.get("/reconcile/view", name="reconcile-view")
async def view(
    request: Request,
    settings: SettingsDep,
    id: Annotated[str, Query(max_length=2000)],  # noqa: A002 (the API's name)
) -> RedirectResponse:
    """The entity's page: this server's for its own things, the code's IRI for a table code."""
    target = local_url(id, server_root(request, settings), settings)
    if target is None:  # only into the tables' own namespaces: not an open redirect
        if not any(id.startswith(t.namespace) for t in TABLES) or not _IRI.fullmatch(id):
            raise NotFound(f"no entity <{id}> of this service")
        target = id
    return RedirectResponse(target, status_code=303)
