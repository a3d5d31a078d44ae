"""Why a write was made (issue 11): the ``Sinlod-Message`` header of an HTTP write, and a
rollback made meanwhile from the command line, land in the release log and on ``/releases``."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from sinlod.history import rollback
from tests.server.conftest import AUTH

pytestmark = pytest.mark.anyio

BASE = "https://w3id.org/sinlod/"
NOTES = BASE + "graph/notes"
COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
NOTE = f"""PREFIX sinlod: <{BASE}def/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
INSERT DATA {{ GRAPH <{NOTES}> {{ <{BASE}id/document/n1> a sinlod:Document ;
  skos:prefLabel "Notes"@en . }} }}"""
DOC = f"<{BASE}id/document/n2> a <{BASE}def/Document> ; "
DOC += '<http://www.w3.org/2004/02/skos/core#prefLabel> "More notes"@en .'


async def comments(client: httpx.AsyncClient) -> list[str]:
    r = await client.get("/releases", params={"format": "ntriples"})
    assert r.status_code == 200, r.text
    log = ox.parse(r.content, ox.RdfFormat.N_TRIPLES)
    return sorted(t.object.value for t in log if t.predicate == COMMENT)


async def test_the_message_header_is_the_why_of_the_release(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # Header values are Latin-1 on the wire: a message in UTF-8 is sent percent-encoded.
    headers = AUTH | {"Sinlod-Message": "Stra%C3%9Fe%20notes added"}
    r = await client.post("/sparql", data={"update": NOTE}, headers=headers)
    assert r.status_code == 204, r.text
    release = app.state.store.releases()[-1]
    assert release.comment == (
        f"Straße notes added (SPARQL Update (POST /sparql): +2 -0 triples in <{NOTES}>)"
    )
    put = await client.put(
        "/graph-store",
        params={"graph": BASE + "graph/more"},
        content=DOC,
        headers=AUTH | {"Content-Type": "text/turtle", "Sinlod-Message": "more notes"},
    )
    assert put.status_code == 201, put.text
    assert app.state.store.releases()[-1].comment == (
        f"more notes (PUT /graph-store?graph=<{BASE}graph/more>:"
        f" +2 -0 triples in <{BASE}graph/more>)"
    )
    page = await client.get("/releases", headers={"Accept": "text/html"})
    assert "Straße notes added (SPARQL Update" in page.text
    one = await client.get(f"/releases/{release.id}", headers={"Accept": "text/html"})
    assert "Straße notes added" in one.text
    assert release.comment in await comments(client)


async def test_a_write_without_the_header_keeps_its_comment(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    r = await client.post("/sparql", data={"update": NOTE}, headers=AUTH)
    assert r.status_code == 204, r.text
    assert app.state.store.releases()[-1].comment == (
        f"SPARQL Update (POST /sparql): +2 -0 triples in <{NOTES}>"
    )


async def test_a_rollback_is_listed_on_releases_with_its_reason(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    store = app.state.store
    first = store.release_id
    r = await client.post("/sparql", data={"update": NOTE}, headers=AUTH)
    assert r.status_code == 204, r.text
    done = rollback(store, first, agent="steward", message="notes were private")
    assert done.release is not None
    ask = await client.get("/sparql", params={"query": f"ASK {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}"})
    assert ask.json()["boolean"] is False  # the server serves the rolled-back data
    page = await client.get("/releases", headers={"Accept": "text/html"})
    assert f"notes were private (rollback to release {first})" in page.text
    assert page.text.count('<a href="/releases/0000') == 3  # publish, write, rollback
