"""The read side of ``/sparql`` as a plain ASGI route, in front of the FastAPI routes.

A single-resource lookup costs Oxigraph about 50 µs; FastAPI's request handling (dependency
solving, parameter validation, the ``Request``/``Response`` objects) cost ten times that
(bench/RESULTS.md). Queries are what an endpoint mostly answers, so they get a Starlette route
whose endpoint is this ASGI callable: it reads the query from the raw ``scope`` and body, calls
the same ``sparql.answer_query`` as the FastAPI routes, and writes the answer as two ASGI
messages. The middleware (metrics, body limit, CORS) and the exception handlers are the app's
own, so errors keep their one shape.

Everything else that arrives at ``/sparql`` (no ``query`` parameter: the service description
or the query page; updates; multipart forms; anything odd) goes on, untouched, to the FastAPI
route that serves it, which also stays the one the OpenAPI document describes.

``FastLane`` goes one step further for the commonest request of all, a ``GET ?query=`` that is
not cross-origin: it sits outside the middleware stack (seven layers, each a coroutine and a
wrapped ``send``: about a tenth of a lookup) and answers it directly, doing itself the one thing
the middleware would add, counting it in ``/metrics``. A request with an ``Origin`` header (CORS),
a body (size limit) or anything unusual takes the full path.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import parse_qsl

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sinlod.errors import QueryError
from sinlod.server.protocol import sparql
from sinlod.server.protocol.execute import QueryRequest
from sinlod.store.backend import StoreBackend

Params = list[tuple[str, str]]


def install(routes: list[BaseRoute]) -> None:
    """Put the query route before the FastAPI routes of ``/sparql``."""
    routes.insert(
        0, Route("/sparql", QueryEndpoint(sparql.router), methods=["GET", "HEAD", "POST"])
    )


class QueryEndpoint:
    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback  # the FastAPI router with the /sparql routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        method = scope["method"]
        body: bytes | None = None
        query: str | None = None
        if method in ("GET", "HEAD"):
            query = _one(params, "query") if not _has(params, "update") else None
        else:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media == sparql.SPARQL_QUERY:
                body = await _body(receive)
                query = sparql.utf8_body(body, headers.get("content-type", ""))
            elif media == sparql.FORM:
                body = await _body(receive)
                form = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
                if not _has(form, "update"):
                    query = _one(form, "query")
                    params = _form_params(params, form)
        if query is None:
            await self._pass_on(scope, receive, send, body)
            return
        await _send(send, await _answer(scope, headers, params, query))

    async def _pass_on(
        self, scope: Scope, receive: Receive, send: Send, body: bytes | None
    ) -> None:
        """To the FastAPI route for this method, with the body replayed if it was read."""
        await self.fallback(scope, receive if body is None else _replay(body), send)


class FastLane:
    """Outermost ASGI layer: plain ``GET``/``HEAD /sparql?query=`` straight to the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != "/sparql"
            or scope["method"] not in ("GET", "HEAD")
        ):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        queries = _all(params, "query")
        if "origin" in headers or len(queries) != 1 or _has(params, "update"):
            await self.app(scope, receive, send)  # CORS, the service description, errors
            return
        started = time.perf_counter()
        status = 500
        try:
            try:
                reply = await _answer(scope, headers, params, queries[0])
            except Exception as exc:
                # As the exception middleware would: the app's own handler for the error.
                response = await _handle(scope, exc)
                status = response.status_code
                await response(scope, receive, send)
                return
            status = reply.status
            # The CORS middleware adds Origin to Vary on every response it passes (with an Origin
            # the answer gains Access-Control-* headers): so must the lane that skips it.
            reply.headers["Vary"] = reply.headers.get("Vary", "Accept") + ", Origin"
            await _send(send, reply)
        finally:
            metrics = scope["app"].state.metrics
            metrics.observe("/sparql", scope["method"], status, time.perf_counter() - started)


async def _handle(scope: Scope, exc: Exception) -> Response:
    """The response of the app's exception handler for ``exc`` (by class, most specific first)."""
    handlers = scope["app"].exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            response: Response = await handlers[cls](Request(scope), exc)
            return response
    raise exc  # pragma: no cover - problems.install registers a handler for Exception


async def _answer(
    scope: Scope, headers: dict[str, str], params: Params, query: str
) -> sparql.Reply:
    state = scope["app"].state
    store: StoreBackend = state.store
    store.refresh()
    request = QueryRequest(
        query=query,
        default_graphs=_all(params, "default-graph-uri"),
        named_graphs=_all(params, "named-graph-uri"),
        accept=headers.get("accept"),
        format=_first(params, "format"),
        base_iri=_endpoint(scope, headers),
    )
    return await sparql.answer_query(
        store, state.settings, state.query_cache, scope["method"], headers, request
    )


async def _send(send: Send, reply: sparql.Reply) -> None:
    out = [] if reply.status == 304 else [(b"content-length", str(len(reply.body)).encode())]
    if reply.media_type is not None:
        out.append((b"content-type", _content_type(reply.media_type)))
    out += [(k.lower().encode(), v.encode("latin-1")) for k, v in reply.headers.items()]
    await send({"type": "http.response.start", "status": reply.status, "headers": out})
    await send({"type": "http.response.body", "body": reply.body})


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name; the first of repeated ones, as Starlette's ``get``."""
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        out.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return out


def _has(params: Params, name: str) -> bool:
    return any(k == name for k, _ in params)


def _all(params: Params, name: str) -> list[str]:
    return [v for k, v in params if k == name]


def _first(params: Params, name: str) -> str | None:
    return next((v for k, v in params if k == name), None)


def _one(params: Params, name: str) -> str | None:
    """The protocol allows exactly one ``query`` per request."""
    values = _all(params, name)
    sparql.at_most_one(name, len(values))
    return values[0] if values else None


def _form_params(url: Params, form: Params) -> Params:
    """Graph parameters from the URL and the form; ``format`` from the URL if there, else the
    form (as the FastAPI route reads them)."""
    graphs = ("default-graph-uri", "named-graph-uri")
    out = [(k, v) for k, v in form if k in graphs]
    fmt = _first(url, "format") or _first(form, "format")
    return out + ([("format", fmt)] if fmt else [])


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise QueryError("the client went away before sending the whole request")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _endpoint(scope: Scope, headers: dict[str, str]) -> str:
    """The URL of the endpoint, without query, exactly as Starlette's ``request.url`` spells it:
    the base IRI of the query, and part of its cache key and ETag, so both paths must agree."""
    server = scope.get("server")
    return _endpoint_url(
        scope.get("scheme", "http"),
        None if server is None else tuple(server),
        headers.get("host"),
        scope["path"],
    )


@functools.lru_cache(maxsize=256)
def _endpoint_url(scheme: str, server: tuple[str, int] | None, host: str | None, path: str) -> str:
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    fake = {"scheme": scheme, "server": server, "path": path, "headers": headers}
    return str(URL(scope=fake).replace(query="", fragment=""))


def _content_type(media_type: str) -> bytes:
    """As Starlette writes it: ``charset=utf-8`` added to textual types without one."""
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        media_type += "; charset=utf-8"
    return media_type.encode("latin-1")
