"""``/sparql``: the SPARQL 1.1 Protocol, query and update (https://www.w3.org/TR/sparql11-protocol/).

Query: ``GET ?query=``, ``POST`` a form with ``query=``, or ``POST application/sparql-query``,
with ``default-graph-uri`` / ``named-graph-uri``. Update: ``POST application/sparql-update`` or a
form with ``update=``, with ``using-graph-uri`` / ``using-named-graph-uri``; updates need the
bearer token. A ``GET`` without a query answers the service description (RDF), or the query page
for a browser.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import Literal, RdfFormat, parse, serialize
from starlette.datastructures import FormData, QueryParams

from sinlod.config import Settings
from sinlod.errors import QueryError
from sinlod.namespaces import PREFIXES
from sinlod.server.http import deps
from sinlod.server.http.cache import QueryCache, conditional_hit, etag_for, not_modified, validators
from sinlod.server.http.deps import SettingsDep, StoreDep
from sinlod.server.http.negotiation import GRAPH_FORMATS, Format, by_name, negotiate, prefers_html
from sinlod.server.http.problems import UnsupportedMediaType
from sinlod.server.http.urls import server_root
from sinlod.server.linked_data import pages
from sinlod.server.protocol import writes
from sinlod.server.protocol.execute import Answer, QueryRequest, run_query
from sinlod.server.protocol.query_policy import check_nesting, check_remote
from sinlod.server.protocol.sparql_scan import add_using
from sinlod.sparql_text import may_contain, tokens
from sinlod.store.backend import StoreBackend

router = APIRouter(tags=["SPARQL"])

SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@router.api_route("/sparql", methods=["GET", "HEAD"], name="sparql")
async def sparql_get(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    query: str | None = None,
    format: str | None = None,
) -> Response:
    """Run ``?query=``; without one, describe the service (or show the query page)."""
    params = request.query_params
    if "update" in params:
        raise QueryError("SPARQL Update must be sent with POST (SPARQL 1.1 Protocol §2.2)")
    _single(params, "query")
    if query is None:
        return _describe_service(request, settings)
    return await _answer(store, settings, request, _query_request(query, params, request, format))


@router.post("/sparql")
async def sparql_post(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Queries and updates by ``Content-Type`` (direct body or form)."""
    media = _media_type(request)
    if media == SPARQL_QUERY:
        text = await _text_body(request)
        query = _query_request(text, request.query_params, request, None)
        return await _answer(store, settings, request, query)
    if media == SPARQL_UPDATE:
        text = await _text_body(request)
        return await _update(request, store, settings, text, request.query_params)
    if media in (FORM, MULTIPART):
        async with request.form() as form:  # closes any spooled upload files
            return await _form(request, store, settings, form)
    raise UnsupportedMediaType(
        f"POST to /sparql needs Content-Type {SPARQL_QUERY}, {SPARQL_UPDATE} or {FORM};"
        f" got {media or 'none'}"
    )


async def _form(
    request: Request, store: StoreBackend, settings: SettingsDep, form: FormData
) -> Response:
    _single(form, "query")
    _single(form, "update")
    query, update = form.get("query"), form.get("update")
    if isinstance(query, str) and isinstance(update, str):
        raise QueryError("send either query= or update=, not both")
    if isinstance(query, str):
        fmt = request.query_params.get("format") or _str(form.get("format"))
        q = _query_request(query, form, request, fmt)
        return await _answer(store, settings, request, q)
    if isinstance(update, str):
        return await _update(request, store, settings, update, form)
    raise QueryError("the form has neither a query= nor an update= field")


def _single(params: QueryParams | FormData, name: str) -> None:
    at_most_one(name, len(params.getlist(name)))


def at_most_one(name: str, count: int) -> None:
    """The protocol allows exactly one ``query`` (or ``update``) per request."""
    if count > 1:
        raise QueryError(f"give one {name}= parameter, not {count}")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _graphs(params: QueryParams | FormData, name: str) -> list[str]:
    """Every value of a repeatable graph parameter (``default-graph-uri`` etc.)."""
    return [v for v in params.getlist(name) if isinstance(v, str)]


def _query_request(
    text: str, params: QueryParams | FormData, request: Request, fmt: str | None
) -> QueryRequest:
    return QueryRequest(
        query=text,
        default_graphs=_graphs(params, "default-graph-uri"),
        named_graphs=_graphs(params, "named-graph-uri"),
        accept=request.headers.get("accept"),
        format=fmt if fmt is not None else request.query_params.get("format"),
        base_iri=_endpoint(request),
    )


def _endpoint(request: Request) -> str:
    """The endpoint's own URL: the base IRI relative IRIs in a query or update resolve against."""
    return str(request.url.replace(query="", fragment=""))


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _text_body(request: Request) -> str:
    return utf8_body(await request.body(), request.headers.get("content-type", ""))


def utf8_body(body: bytes, content_type: str) -> str:
    """The body of a direct POST; the protocol requires UTF-8 (§2.1.3, §2.2.2)."""
    _, _, params = content_type.partition(";")
    for param in params.split(";"):
        key, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"the body must be UTF-8, not charset={value.strip()}")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QueryError(f"the request body is not UTF-8 (byte {exc.start})") from exc


async def _answer(
    store: StoreBackend, settings: SettingsDep, request: Request, query: QueryRequest
) -> Response:
    reply = await answer_query(
        store, settings, request.app.state.query_cache, request.method, request.headers, query
    )
    return Response(reply.body, reply.status, reply.headers, reply.media_type)


@dataclasses.dataclass(frozen=True)
class Reply:
    """An HTTP answer to a query, before any web framework sees it."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    media_type: str | None = None


async def answer_query(
    store: StoreBackend,
    settings: Settings,
    cache: QueryCache[Answer],
    method: str,
    headers: Mapping[str, str],
    query: QueryRequest,
) -> Reply:
    """The whole protocol answer to a read query: remote-call check, validators and ``304``,
    the query cache, the limits. Shared by the FastAPI routes and ``query_route``. ``headers``
    are the request's, by lower-case name."""
    check_nesting(query.query, settings.max_query_depth)
    checked = check_remote(query.query, settings.service_allowlist, query.base_iri, update=False)
    if checked is not query.query:
        query = dataclasses.replace(query, query=checked)
    if not settings.union_default_graph:  # strict: the store's own default graph (SPARQL 1.1)
        query = dataclasses.replace(query, union_default_graph=False)
    key = _cache_key(query)
    out = {"Vary": "Accept"}
    if key is not None:
        etag = etag_for(store.release_id, *key)
        out.update(validators(etag, store.last_modified))
        if conditional_hit(method, headers, etag, store.last_modified):
            return Reply(304, out)
    answer = await _cached_answer(cache, store, settings, query, key, out)
    body = b"" if method == "HEAD" else answer.body
    return Reply(200, out, body, answer.format.content_type)


async def _cached_answer(
    cache: QueryCache[Answer],
    store: StoreBackend,
    settings: Settings,
    query: QueryRequest,
    key: tuple[object, ...] | None,
    headers: dict[str, str],
) -> Answer:
    """From the app's query cache when the same query was answered on this release, else run."""
    release = store.release_id
    if cache.max_entries <= 0:
        key = None  # no cache: no lookups, no misses counted
    found = cache.get(release, key) if key is not None else None
    if found is not None:
        headers["X-Cache"] = "hit"
        return found
    answer = await run_query(
        store,
        query,
        timeout=settings.query_timeout,
        max_results=settings.max_results,
        memory_limit=settings.worker_memory_limit * 1_000_000,
    )
    if key is not None:
        cache.put(release, key, answer, size=len(answer.body) + len(query.query))
        headers["X-Cache"] = "miss"
    return answer


#: Functions whose value is not fixed by the data: such a query is never cached nor validated.
_VOLATILE = ("NOW", "RAND", "UUID", "STRUUID", "SERVICE")


def _cache_key(query: QueryRequest) -> tuple[object, ...] | None:
    """What determines the answer besides the release; None for a query whose answer is not
    determined by the published data (``NOW()``, ``RAND()``, a remote ``SERVICE``)."""
    if may_contain(query.query, *_VOLATILE) and any(
        t.is_keyword(*_VOLATILE) for t in tokens(query.query)
    ):
        return None
    return (
        query.query,
        tuple(query.default_graphs),
        tuple(query.named_graphs),
        query.accept,
        query.format,
        query.base_iri,
    )


async def _update(
    request: Request,
    store: StoreBackend,
    settings: SettingsDep,
    text: str,
    params: QueryParams | FormData,
) -> Response:
    who = deps.require_token(settings, request.headers.get("authorization"))
    check_nesting(text, settings.max_query_depth)
    text = add_using(
        text, _graphs(params, "using-graph-uri"), _graphs(params, "using-named-graph-uri")
    )
    # After add_using: what runs is what was checked, USING clauses included.
    text = check_remote(text, settings.service_allowlist, _endpoint(request), update=True)
    write = writes.write_for(request, who, "SPARQL Update (POST /sparql)")
    base = _endpoint(request)
    try:
        await anyio.to_thread.run_sync(
            lambda: writes.sparql_update(store, settings, text, write, base_iri=base)
        )
    finally:
        # Even a refused write may have raced with a publish; never answer from before a write.
        request.app.state.query_cache.clear()
    return Response(status_code=204)


# -- service description (https://www.w3.org/TR/sparql11-service-description/) ----------------

_SD = """
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix formats: <http://www.w3.org/ns/formats/> .
@prefix dct: <http://purl.org/dc/terms/> .
<{endpoint}> a sd:Service ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage {languages} ;{features}
  sd:resultFormat formats:SPARQL_Results_JSON, formats:SPARQL_Results_XML,
    formats:SPARQL_Results_CSV, formats:SPARQL_Results_TSV, formats:Turtle, formats:N-Triples,
    formats:JSON-LD, formats:RDF_XML, formats:N-Quads, formats:TriG ;
  sd:defaultDataset [ a sd:Dataset ; dct:title {title} ;
    sd:defaultGraph [ a sd:Graph ] ] .
"""


def _service_turtle(endpoint: str, settings: Settings) -> str:
    """Only what this server really does: Update only with a token, federation only to allowed
    hosts, the union default graph only when ``union_default_graph`` is on."""
    languages = ["sd:SPARQL11Query"] + (
        ["sd:SPARQL11Update"] if deps.writes_enabled(settings) else []
    )
    features = ["sd:UnionDefaultGraph"] if settings.union_default_graph else []
    if settings.service_allowlist:
        features.append("sd:BasicFederatedQuery")
    title = str(Literal(settings.dataset_title))  # quoted and escaped by Oxigraph
    return _SD.format(
        endpoint=endpoint,
        languages=", ".join(languages),
        features=f"\n  sd:feature {', '.join(features)} ;" if features else "",
        title=title,
    )


def _describe_service(request: Request, settings: SettingsDep) -> Response:
    """The service description as RDF, or the query page for a browser."""
    if prefers_html(request.headers.get("accept")) and "format" not in request.query_params:
        return pages.query_page(request, settings)
    fmt = _service_format(request)
    endpoint = server_root(request, settings) + "sparql"
    turtle = _service_turtle(endpoint, settings)
    assert isinstance(fmt.oxigraph, RdfFormat)
    quads = parse(turtle.encode(), RdfFormat.TURTLE)
    body = bytes(serialize(quads, format=fmt.oxigraph, prefixes=_SD_PREFIXES) or b"")
    # It depends on the settings and the URL only, not on the data (its blank nodes are new on
    # every request, so the source text and the format are what identify it).
    headers = {"Vary": "Accept", "ETag": etag_for(None, turtle, fmt.name)}
    if not_modified(request, headers["ETag"], None):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=fmt.content_type, headers=headers)


_SD_PREFIXES = {
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "formats": "http://www.w3.org/ns/formats/",
    "dct": "http://purl.org/dc/terms/",
    "rdf": PREFIXES["rdf"],
}


def _service_format(request: Request) -> Format:
    name = request.query_params.get("format")
    if name:
        return by_name(name, GRAPH_FORMATS)
    return negotiate(request.headers.get("accept"), GRAPH_FORMATS)
