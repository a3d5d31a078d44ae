"""``union_default_graph=false``: the default graph is the store's own, as in plain SPARQL 1.1;
the service description says which mode is on, and the pages, VoID and catalogue still work."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pyoxigraph as ox
import pytest

from sinlod.config import Settings
from sinlod.server import create_app
from tests.server.conftest import AUTH, DATA_GRAPH, client_for

pytestmark = pytest.mark.anyio

SD_UNION = "http://www.w3.org/ns/sparql-service-description#UnionDefaultGraph"
SD_FEATURE = "http://www.w3.org/ns/sparql-service-description#feature"
NT = {"content-type": "application/n-triples"}
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture
async def strict(server_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings = dataclasses.replace(server_settings, union_default_graph=False, shacl_gate=False)
    async for client in client_for(create_app(settings)):
        yield client


async def rows(client: httpx.AsyncClient, query: str) -> list[tuple[str, ...]]:
    r = await client.get("/sparql", params={"query": query}, headers=JSON)
    assert r.status_code == 200, r.text
    names = r.json()["head"]["vars"]
    return sorted(
        tuple(b[n]["value"] if n in b else "" for n in names)
        for b in r.json()["results"]["bindings"]
    )


async def features(client: httpx.AsyncClient) -> set[str]:
    r = await client.get("/sparql", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    triples = ox.parse(r.content, ox.RdfFormat.N_TRIPLES)
    return {t.object.value for t in triples if t.predicate.value == SD_FEATURE}


async def test_a_plain_client_sees_exactly_what_it_put(strict: httpx.AsyncClient) -> None:
    put = await strict.put(
        "/graph-store",
        params={"default": ""},
        content=b'<http://e/d> <http://e/p> "1" .\n',
        headers={**AUTH, **NT},
    )
    assert put.status_code in (201, 204), put.text
    put = await strict.put(
        "/graph-store",
        params={"graph": "http://e/g"},
        content=b'<http://e/n> <http://e/p> "2" .\n',
        headers={**AUTH, **NT},
    )
    assert put.status_code in (201, 204), put.text
    assert await rows(strict, "SELECT ?s ?o { ?s <http://e/p> ?o }") == [("http://e/d", "1")]
    named = await rows(strict, "SELECT ?g ?s { GRAPH ?g { ?s <http://e/p> ?o } }")
    assert named == [("http://e/g", "http://e/n")]
    # the published data is in named graphs: not in the default graph in this mode ...
    assert await rows(strict, "SELECT (COUNT(*) AS ?n) { ?s a ?t }") == [("0",)]
    # ... and a query names them to use them, with FROM or the protocol's default-graph-uri
    from_data = await rows(strict, f"SELECT (COUNT(*) AS ?n) FROM <{DATA_GRAPH}> {{ ?s a ?t }}")
    r = await strict.get(
        "/sparql",
        params={"query": "SELECT (COUNT(*) AS ?n) { ?s a ?t }", "default-graph-uri": DATA_GRAPH},
        headers=JSON,
    )
    assert int(from_data[0][0]) > 0
    assert r.json()["results"]["bindings"][0]["n"]["value"] == from_data[0][0]


async def test_the_service_description_states_the_mode(
    strict: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert SD_UNION not in await features(strict)
    assert SD_UNION in await features(client)


async def test_pages_void_and_catalogue_work_in_strict_mode(
    strict: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    """They describe the data graphs, naming them, whatever the endpoint's default graph is."""
    for path, accept in (
        ("/void", "application/n-triples"),
        ("/catalog", "application/n-triples"),
        ("/", "text/html"),
        ("/releases", "text/html"),
        ("/doc/place/brussels", "application/n-triples"),
    ):
        union = await client.get(path, headers={"Accept": accept})
        plain = await strict.get(path, headers={"Accept": accept})
        assert plain.status_code == union.status_code == 200, path
        if accept == "application/n-triples":
            assert set(ox.parse(plain.content, ox.RdfFormat.N_TRIPLES)) == set(
                ox.parse(union.content, ox.RdfFormat.N_TRIPLES)
            ), path
        else:
            assert plain.text == union.text, path
