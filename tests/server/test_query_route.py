"""The fast paths of ``/sparql`` answer exactly as the full FastAPI stack does, and the memory copy
answers exactly as the disk does."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.server.app import create_app
from tests.server.conftest import client_for

pytestmark = pytest.mark.anyio

CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 20"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SELECT = f"SELECT ?s ?label WHERE {{ ?s <{SKOS}prefLabel> ?label }} ORDER BY ?s ?label"
SAME = ("content-type", "etag", "last-modified", "vary", "content-length")


async def test_fast_lane_and_full_stack_give_the_same_answer(client: httpx.AsyncClient) -> None:
    for query, accept in ((CONSTRUCT, "text/turtle"), (SELECT, "application/sparql-results+json")):
        plain = await client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        # An Origin header sends the request through the middleware (CORS) and the routes.
        cors = await client.get(
            "/sparql",
            params={"query": query},
            headers={"Accept": accept, "Origin": "https://elsewhere.example"},
        )
        assert plain.status_code == cors.status_code == 200
        assert plain.content == cors.content and plain.content
        for name in SAME:
            assert plain.headers.get(name) == cors.headers.get(name), name
        assert "access-control-allow-origin" not in plain.headers
        assert cors.headers["access-control-allow-origin"] == "*"
        assert "ETag" in cors.headers["access-control-expose-headers"]


async def test_post_direct_and_form_answer_as_get(client: httpx.AsyncClient) -> None:
    accept = {"Accept": "application/sparql-results+json"}
    got = await client.get("/sparql", params={"query": SELECT}, headers=accept)
    direct = await client.post(
        "/sparql",
        content=SELECT.encode(),
        headers={**accept, "Content-Type": "application/sparql-query"},
    )
    form = await client.post("/sparql", data={"query": SELECT}, headers=accept)
    form_format = await client.post("/sparql", data={"query": SELECT, "format": "csv"})
    assert got.content == direct.content == form.content
    assert got.headers["etag"] == direct.headers["etag"] == form.headers["etag"]
    assert form_format.headers["content-type"].startswith("text/csv")
    assert form_format.text.splitlines()[0] == "s,label"


async def test_conditional_get_on_the_fast_lane(client: httpx.AsyncClient) -> None:
    first = await client.get("/sparql", params={"query": SELECT})
    again = await client.get(
        "/sparql", params={"query": SELECT}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert "content-length" not in again.headers or again.headers["content-length"] == "0"
    head = await client.head("/sparql", params={"query": SELECT})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == first.headers["etag"]


async def test_errors_on_the_fast_lane_are_problems_and_counted(client: httpx.AsyncClient) -> None:
    bad = await client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["code"] == "query-error"
    assert re.search(r"1:\d+", bad.json()["detail"])
    page = await client.get(
        "/sparql", params={"query": "SELECT * WHERE { ?s ?p }"}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    refused = await client.get(
        "/sparql", params={"query": "SELECT * { SERVICE <http://remote.example/q> { ?s ?p ?o } }"}
    )
    assert refused.status_code == 403
    unacceptable = await client.get(
        "/sparql", params={"query": SELECT}, headers={"Accept": "image/png"}
    )
    assert unacceptable.status_code == 406
    for _ in range(3):
        assert (await client.get("/sparql", params={"query": SELECT})).status_code == 200
    metrics = (await client.get("/metrics")).text
    ok = re.search(
        r'sinlod_http_requests_total\{route="/sparql",method="GET",status="200"\} (\d+)', metrics
    )
    assert ok is not None and int(ok.group(1)) >= 3
    for status in ("400", "403", "406"):
        assert f'route="/sparql",method="GET",status="{status}"' in metrics


async def test_the_other_sparql_requests_still_reach_their_routes(
    client: httpx.AsyncClient,
) -> None:
    description = await client.get("/sparql", headers={"Accept": "text/turtle"})
    assert description.status_code == 200 and "sd:Service" in description.text
    page = await client.get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "yasgui" in page.text.lower()
    update_by_get = await client.get("/sparql", params={"update": "CLEAR ALL"})
    assert update_by_get.status_code == 400
    two = await client.get("/sparql", params=[("query", SELECT), ("query", SELECT)])
    assert two.status_code == 400 and "one query=" in two.json()["detail"]
    put = await client.put("/sparql", params={"query": SELECT})
    assert put.status_code == 405
    update = await client.post(
        "/sparql", content=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"}
    )
    assert update.status_code == 401  # reached the update route: a token is needed


async def _answers(app: FastAPI, wait: bool) -> list[bytes]:
    out = []
    async for client in client_for(app):
        if wait:
            assert app.state.store.wait_for_memory_copy(timeout=60)
            assert (await client.get("/healthz")).json()["memory_copy"] == "ready"
        else:
            assert (await client.get("/healthz")).json()["memory_copy"] == "off"
        for query in (
            CONSTRUCT,
            SELECT,
            "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
        ):
            r = await client.get(
                "/sparql", params={"query": query}, headers={"Accept": "text/csv, text/turtle"}
            )
            assert r.status_code == 200
            out.append(r.content)
        page = await client.get("/healthz")
        out.append(str(page.json()["release"]).encode())
    return out


async def test_the_memory_copy_answers_as_the_disk(server_settings: Settings) -> None:
    on_disk = await _answers(
        create_app(dataclasses.replace(server_settings, memory_copy_max_quads=0)), wait=False
    )
    in_memory = await _answers(create_app(server_settings), wait=True)
    assert on_disk == in_memory


@pytest.mark.parametrize(
    ("query_string", "status", "detail"),
    [
        ("query=ASK%7B%7D&default-graph-uri=not%20an%20iri", 400, "invalid graph IRI 'not an iri'"),
        ("query=ASK%7B%7D&named-graph-uri=", 400, "invalid graph IRI ''"),
        ("query=%FF%FE", 400, "error at 1:"),  # not UTF-8: replaced, then a syntax error
        ("query=%00", 400, "error at 1:"),
        ("query=", 400, "error at 1:"),
        ("query=ASK%7B%7D&format=%00", 406, "cannot"),
    ],
)
async def test_hostile_query_strings_are_the_clients_errors(
    client: httpx.AsyncClient, query_string: str, status: int, detail: str
) -> None:
    for headers in ({}, {"Origin": "https://elsewhere.example"}):  # fast lane and full stack
        r = await client.get("/sparql?" + query_string, headers=headers)
        assert r.status_code == status, (query_string, r.text)
        assert detail in r.json()["detail"], r.json()


async def test_a_garbage_accept_header_or_host_is_refused_cleanly(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/sparql?query=ASK%7B%7D", headers={"Accept": ";;;q=abc,*/*;q=x"})
    assert r.status_code == 406 and r.json()["available"]
    r = await client.get("/sparql?query=ASK%7B%7D", headers={"Host": "evil\x00.example"})
    assert r.status_code == 400 and r.json()["code"] == "host-not-allowed"
