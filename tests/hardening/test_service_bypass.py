"""SERVICE and LOAD cannot reach a host that is not on the allowlist, however the text is written.

Issue 13, item 1: a token scan read ``<2)SERVICE#>`` as one IRI, so ``FILTER(1<2)SERVICE#>`` made
the server fetch from any host; an IRI with a ``\\u`` escape was refused only after the request had
gone out. Every attempt below is sent through the real app (httpx on the ASGI app, and a subset
through a live uvicorn) at a listening socket on 127.0.0.1 that counts connections: none may
arrive, whatever the answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.server import create_app
from tests.e2e.conftest import running_server
from tests.hardening.conftest import AUTH, Listener
from tests.server.conftest import client_for

pytestmark = pytest.mark.anyio

T = "http://127.0.0.1:{port}/"  # the listener, never allowed

#: Queries that name the listener. Each must be refused (400/403) or, when SILENT, answered as if
#: the call had failed; none may connect.
QUERIES = {
    "filter-lt-comment": "PREFIX r: <{t}> SELECT * {{ FILTER(1<2)SERVICE#>\n r:x {{ ?s ?p ?o }} }}",
    "filter-lt-comment-cr": (
        "PREFIX r: <{t}> SELECT * {{ FILTER(1<2)SERVICE#>\r r:x {{ ?s ?p ?o }} }}"
    ),
    "plain": "SELECT * {{ SERVICE <{t}> {{ ?s ?p ?o }} }}",
    "lower-case": "select * {{ sErViCe <{t}sparql> {{ ?s ?p ?o }} }}",
    "escaped-iri": "SELECT * {{ SERVICE <{t}\\u0062lind> {{ ?s ?p ?o }} }}",
    "escaped-host": "SELECT * {{ SERVICE <http://127.0.0.\\u0031:{port}/> {{ ?s ?p ?o }} }}",
    "escaped-keyword": "SELECT * {{ SERVIC\\u0045 <{t}> {{ ?s ?p ?o }} }}",
    "escaped-quote-split": (
        'SELECT * {{ BIND("\\u0022" AS ?x) SERVICE <{t}> {{ }} BIND("\\u0022" AS ?y) }}'
    ),
    "comment-before": "SELECT * {{ # SERVICE <http://ok.example/>\n SERVICE <{t}> {{ }} }}",
    "comment-cr-end": "SELECT * {{ ?s ?p ?o #x\r SERVICE <{t}> {{ }} }}",
    "prefixed": "PREFIX e: <{t}> SELECT * {{ SERVICE e:sparql {{ ?s ?p ?o }} }}",
    "prefixed-escapes": (
        "PREFIX h: <http:> SELECT * {{ SERVICE h:\\/\\/127.0.0.1:{port}\\/x {{ }} }}"
    ),
    "base-relative": "BASE <{t}> SELECT * {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
    "base-twice": "BASE <http://ok.example/> BASE <{t}> SELECT * {{ SERVICE <q> {{ }} }}",
    "scheme-relative": "SELECT * {{ SERVICE <//127.0.0.1:{port}/sparql> {{ }} }}",
    "userinfo": "SELECT * {{ SERVICE <http://ok.example@127.0.0.1:{port}/> {{ }} }}",
    "lt-in-filters": "SELECT * {{ FILTER(?a<?b) SERVICE <{t}> {{ }} FILTER(?c>?d) }}",
    "string-lookalike": "SELECT * {{ ?s ?p 'SERVICE <http://ok.example/>' SERVICE <{t}> {{}} }}",
    "nested-groups": "SELECT * {{ {{ {{ OPTIONAL {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }} }} }}",
    "subquery": "SELECT * {{ {{ SELECT * WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }} }}",
    "exists": "SELECT * {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}",
    "not-exists": "ASK {{ FILTER NOT EXISTS {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}",
    "minus": "SELECT * {{ ?s ?p ?o MINUS {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}",
    "union": "SELECT * {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}",
    "graph": "SELECT * {{ GRAPH ?g {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}",
    "variable": "SELECT * {{ BIND(<{t}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "values-variable": "SELECT * {{ VALUES ?e {{ <{t}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "inside-allowed": (
        "SELECT * {{ SERVICE <http://ok.example/q> {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}"
    ),
    "construct": "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }}",
    "construct-where": "CONSTRUCT WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }}",
    "describe": "DESCRIBE ?s WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }}",
    "silent": "SELECT * {{ SERVICE SILENT <{t}> {{ ?s ?p ?o }} }}",
    "silent-filter-lt": (
        "PREFIX r: <{t}> SELECT * {{ FILTER(1<2)SERVICE SILENT#>\n r:x {{ ?s ?p ?o }} }}"
    ),
    "silent-and-loud": (
        "SELECT * {{ SERVICE SILENT <{t}a> {{ ?s ?p ?o }} SERVICE <{t}b> {{ ?s ?p ?o }} }}"
    ),
}

#: Updates that name the listener (sent with the token).
UPDATES = {
    "insert-where-filter-lt": (
        "PREFIX r: <{t}> INSERT {{ ?s ?p ?o }}"
        " WHERE {{ FILTER(1<2)SERVICE#>\n r:x {{ ?s ?p ?o }} }}"
    ),
    "insert-where": "INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }}",
    "delete-insert-where": (
        "DELETE {{ ?s ?p ?o }} INSERT {{ ?s ?p 1 }} WHERE {{ ?s ?p ?o . SERVICE <{t}> {{ }} }}"
    ),
    "load": "LOAD <{t}data.ttl>",
    "load-escaped": "LOAD <{t}\\u0062.ttl>",
    "load-into": "LOAD <{t}x> INTO GRAPH <http://example.org/g>",
    "load-prefixed": "PREFIX r: <{t}> LOAD r:x",
    "load-base": "BASE <{t}> LOAD <x.ttl>",
    "prologue-per-operation": (
        "PREFIX r: <{t}> LOAD r:x ; PREFIX r: <http://ok.example/> INSERT DATA {{ }}"
    ),
    "second-operation": "INSERT DATA {{ }} ; LOAD <{t}x>",
    "load-silent": "LOAD SILENT <{t}x>",
    "load-silent-escaped": "LOAD SILENT <{t}\\u0078> INTO GRAPH <http://example.org/g>",
}

SILENT = {"silent", "silent-filter-lt", "load-silent", "load-silent-escaped"}


def _text(template: str, port: int) -> str:
    return template.format(t=T.format(port=port), port=port)


@pytest.fixture
def allow_ok(server_settings: Settings) -> Settings:
    return dataclasses.replace(server_settings, service_allowlist=("ok.example",))


@pytest.fixture
async def guarded(allow_ok: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(create_app(allow_ok)):
        yield c


async def _query(client: httpx.AsyncClient, how: str, text: str) -> httpx.Response:
    accept = {"Accept": "application/sparql-results+json"}
    if how == "get":
        return await client.get("/sparql", params={"query": text}, headers=accept)
    if how == "form":
        return await client.post("/sparql", data={"query": text}, headers=accept)
    return await client.post(
        "/sparql",
        content=text.encode(),
        headers={**accept, "Content-Type": "application/sparql-query"},
    )


async def _update(client: httpx.AsyncClient, how: str, text: str) -> httpx.Response:
    if how == "form":
        return await client.post("/sparql", data={"update": text}, headers=AUTH)
    return await client.post(
        "/sparql",
        content=text.encode(),
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )


@pytest.mark.parametrize("how", ["get", "form", "direct"])
@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_query_makes_no_connection(
    guarded: httpx.AsyncClient, listener: Listener, name: str, how: str
) -> None:
    r = await _query(guarded, how, _text(QUERIES[name], listener.port))
    assert listener.connections == 0, (name, r.status_code, r.text[:300])
    if name in SILENT:
        assert r.status_code == 200, r.text
        # A failed silent SERVICE is one empty solution.
        assert r.json()["results"]["bindings"] == [{}]
    else:
        assert r.status_code in (400, 403), (r.status_code, r.text[:300])


@pytest.mark.parametrize("how", ["form", "direct"])
@pytest.mark.parametrize("name", sorted(UPDATES))
async def test_update_makes_no_connection(
    guarded: httpx.AsyncClient, listener: Listener, name: str, how: str
) -> None:
    r = await _update(guarded, how, _text(UPDATES[name], listener.port))
    assert listener.connections == 0, (name, r.status_code, r.text[:300])
    if name in SILENT:
        assert r.status_code == 204, r.text
    else:
        assert r.status_code in (400, 403), (r.status_code, r.text[:300])


async def test_using_graph_uri_cannot_smuggle_a_service(
    guarded: httpx.AsyncClient, listener: Listener
) -> None:
    """The protocol's ``using-graph-uri`` goes into the update text: it must be an IRI, and the
    text with it is what the remote check reads."""
    smuggled = f"http://example.org/g> SERVICE <{T.format(port=listener.port)}> {{ }} <x"
    r = await guarded.post(
        "/sparql",
        data={
            "update": "INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }",
            "using-graph-uri": smuggled,
        },
        headers=AUTH,
    )
    assert r.status_code == 400, r.text
    assert listener.connections == 0


async def test_refused_update_writes_nothing(
    guarded: httpx.AsyncClient, listener: Listener
) -> None:
    before = (await guarded.get("/healthz")).json()["release"]
    text = _text(UPDATES["insert-where-filter-lt"], listener.port)
    r = await _update(guarded, "direct", text)
    assert r.status_code == 403
    assert (await guarded.get("/healthz")).json()["release"] == before


def test_live_server_makes_no_connection(allow_ok: Settings, listener: Listener) -> None:
    """The same through a real uvicorn, where ``GET /sparql?query=`` takes the fast lane."""
    app: FastAPI = create_app(allow_ok)
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        for name in ("filter-lt-comment", "escaped-iri", "base-relative", "variable", "silent"):
            text = _text(QUERIES[name], listener.port)
            r = http.get("/sparql", params={"query": text}, headers={"Accept": "text/csv"})
            assert r.status_code == (200 if name in SILENT else 403), (name, r.text)
            r = http.post("/sparql", data={"query": text})
            assert r.status_code == (200 if name in SILENT else 403), (name, r.text)
        for name in ("load-escaped", "insert-where-filter-lt"):
            r = http.post(
                "/sparql", data={"update": _text(UPDATES[name], listener.port)}, headers=AUTH
            )
            assert r.status_code == 403, (name, r.text)
    assert listener.connections == 0


def test_allowed_service_still_answers(server_settings: Settings) -> None:
    """An allowed host is really called: a second live sinlod answers a SERVICE of the first."""
    remote: FastAPI = create_app(server_settings)
    with running_server(remote) as remote_url:
        port = remote_url.rsplit(":", 1)[1]
        local = create_app(dataclasses.replace(server_settings, service_allowlist=("localhost",)))
        with running_server(local) as url:
            query = (
                f"SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE <http://localhost:{port}/sparql>"
                " { ?s a <https://w3id.org/sinlod/def/Project> } }"
            )
            r = httpx.get(
                url + "/sparql",
                params={"query": query},
                headers={"Accept": "application/sparql-results+json"},
                timeout=30,
            )
    assert r.status_code == 200, r.text
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) > 0
