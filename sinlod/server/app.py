"""The application factory: ``create_app(settings)`` builds one FastAPI app, nothing more.

No module builds an app at import time; each test and each ``sinlod serve`` worker calls
``create_app`` with its own settings. The lifespan opens the store onto ``app.state`` and closes
it at shutdown.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from sinlod import __version__
from sinlod.config import Settings
from sinlod.server.http import problems
from sinlod.server.http.cache import QueryCache
from sinlod.server.http.deps import StoreDep, write_tokens
from sinlod.server.http.limits import BodyLimit
from sinlod.server.http.security import SecurityHeaders
from sinlod.server.http.templating import STATIC
from sinlod.server.http.urls import HostCheck, redirect_slashes_for_reads
from sinlod.server.linked_data import (
    catalog,
    ldes,
    pages,
    pictures,
    reconcile,
    releases,
    resources,
)
from sinlod.server.operations import metrics
from sinlod.server.protocol import graph_store, query_route, sparql
from sinlod.server.workbench import validate as workbench_validate
from sinlod.store import Release
from sinlod.store.backend import StoreBackend, open_backend


def open_store(settings: Settings) -> StoreBackend:
    """The store the server reads; opened read-only unless writes are possible (a token is set),
    so that ``sinlod publish`` can keep writing while the server runs. ``backend`` picks the
    embedded store or a remote one (``sinlod.store.backend``)."""
    return open_backend(
        settings,
        read_only=not write_tokens(settings),
        memory_copy_max_quads=settings.memory_copy_max_quads,
    )


class _SinlodApp(FastAPI):
    """FastAPI with ``query_route.FastLane`` outside its middleware stack, and the security
    headers outside that (so the fast lane's answers carry them too)."""

    def build_middleware_stack(self) -> ASGIApp:
        settings = getattr(self.state, "settings", None)
        inner: ASGIApp = query_route.FastLane(super().build_middleware_stack())
        if settings is not None:
            inner = HostCheck(inner, settings)
        return SecurityHeaders(
            inner,
            public_url=settings.public_url if settings is not None else None,
            docs_path=self.docs_url,
        )

    def openapi(self) -> dict[str, Any]:
        """The schema without HEAD operations: every HEAD route mirrors its GET, and FastAPI gives
        both one operation id (a duplicate that FastAPI 0.165 warns about, which made the schema a
        500 where warnings are errors)."""
        if self.openapi_schema is None:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
                schema = super().openapi()
            for operations in schema.get("paths", {}).values():
                operations.pop("head", None)
            self.openapi_schema = schema
        return self.openapi_schema


def create_app(settings: Settings, *, store: StoreBackend | None = None) -> FastAPI:
    """A FastAPI app serving ``settings.store_path`` (or ``store``, which the caller then owns).

    Raises ``StoreError`` at startup when the store cannot be opened.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store if store is not None else open_store(settings)
        app.state.dumper = catalog.Dumper.for_store(app.state.store)
        try:
            yield
        finally:
            app.state.dumper.close()
            if store is None:
                app.state.store.close()

    app = _SinlodApp(
        title=settings.dataset_title,
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # FastAPI's own OpenTelemetry looks for configured providers on every request (~15 µs, a
        # tenth of a lookup); sinlod reports through /metrics instead.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    write_tokens(settings)  # a malformed update_tokens stops the server here, not at a write
    app.state.settings = settings
    app.state.metrics = metrics.Metrics()
    app.state.query_cache = QueryCache(
        max_entries=settings.query_cache_entries, max_bytes=settings.query_cache_bytes
    )
    catalog.install(app)
    problems.install(app)
    _add_middleware(app, settings)
    pages.mount_assets(app, settings)  # before /static, which would shadow it
    pictures.mount_assets(app, settings)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (sparql, graph_store, resources, catalog, releases, ldes, reconcile, pages):
        app.include_router(module.router)
    app.include_router(pictures.router)
    app.include_router(workbench_validate.router)
    query_route.install(app.router.routes)
    redirect_slashes_for_reads(app.router)
    app.add_api_route("/healthz", healthz, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/metrics", metrics.metrics, methods=["GET"], include_in_schema=False)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """CORS for reads: any origin may GET, HEAD and POST a query; ``Authorization`` is not an
    allowed header, so a browser on another site can never send a write with the token, and PUT or
    DELETE never pass the preflight."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS", "POST"],
        allow_headers=["Accept", "Accept-Language", "Content-Type", "If-None-Match"],
        expose_headers=["Content-Type", "ETag", "Last-Modified", "Link", "Location", "Vary"],
        max_age=86400,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    # Outermost, so that refusals by the middleware above are counted and timed too.
    app.add_middleware(metrics.MetricsMiddleware, metrics=app.state.metrics)


async def healthz(request: Request, store: StoreDep) -> JSONResponse:
    """Liveness and what is being served: the release id, when it was published, and the last
    recorded release (who wrote what, how many triples) from the release log.

    503 with ``"status": "draining"`` once ``sinlod serve`` was told to stop with
    ``drain_seconds`` set (``operations/balancer.py``): a load balancer's health check then takes
    this server out while it still answers everything else."""
    draining = bool(getattr(request.state, "draining", False))
    modified = store.last_modified
    log = await anyio.to_thread.run_sync(store.releases)  # the release log, beside the data
    last = log[-1] if log else None
    body: dict[str, Any] = {
        "status": "draining" if draining else "ok",
        "release": store.release_id,
        "last_modified": modified.isoformat() if modified else None,
        "graphs": len(store.graph_names()),
        "memory_copy": store.memory_copy,
        "worker": os.getpid(),  # which process answered (several serve one port)
        "last_release": None if last is None else _release_summary(last),
    }
    return JSONResponse(body, status_code=503 if draining else 200)


def _release_summary(release: Release) -> dict[str, Any]:
    keys = ("id", "ended", "agent", "comment", "triples", "changed", "conforms")
    full = release.to_json()
    return {k: full[k] for k in keys}
