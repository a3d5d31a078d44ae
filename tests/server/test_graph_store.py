"""/graph-store over HTTP: the SPARQL 1.1 Graph Store HTTP Protocol."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest

from tests.server.conftest import AUTH, DATA_GRAPH

pytestmark = pytest.mark.anyio

NEW = "https://w3id.org/sinlod/graph/new"
TTL = b'<http://e/a> <http://e/p> "one" .\n'
MORE = b'<http://e/b> <http://e/p> "two" .\n'
TURTLE = {"Content-Type": "text/turtle"}


def triples_of(response: httpx.Response, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> set[str]:
    return {str(q.triple) for q in ox.parse(response.content, fmt)}


async def test_get_a_graph_as_turtle(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/graph-store", params={"graph": DATA_GRAPH}, headers={"Accept": "text/turtle"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    assert any("project/sic" in t for t in triples_of(r))


@pytest.mark.parametrize(
    "fmt", [ox.RdfFormat.N_TRIPLES, ox.RdfFormat.JSON_LD, ox.RdfFormat.RDF_XML]
)
async def test_get_a_graph_in_each_format(client: httpx.AsyncClient, fmt: ox.RdfFormat) -> None:
    r = await client.get(
        "/graph-store", params={"graph": DATA_GRAPH}, headers={"Accept": fmt.media_type}
    )
    assert r.status_code == 200
    assert len(triples_of(r, fmt)) > 40


async def test_head_has_headers_and_no_body(client: httpx.AsyncClient) -> None:
    r = await client.head("/graph-store", params={"graph": DATA_GRAPH})
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) > 1000


async def test_default_graph_is_the_stored_default_graph(client: httpx.AsyncClient) -> None:
    """Published data is in named graphs, so the stored default graph starts empty."""
    r = await client.get("/graph-store?default", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    assert r.content == b""


async def test_default_graph_can_be_written_and_read(client: httpx.AsyncClient) -> None:
    put = await client.put("/graph-store?default", content=TTL, headers={**TURTLE, **AUTH})
    assert put.status_code == 201
    post = await client.post("/graph-store?default", content=MORE, headers={**TURTLE, **AUTH})
    assert post.status_code == 204
    r = await client.get("/graph-store?default", headers={"Accept": "text/turtle"})
    assert triples_of(r) == {'<http://e/a> <http://e/p> "one"', '<http://e/b> <http://e/p> "two"'}
    assert (await client.delete("/graph-store?default", headers=AUTH)).status_code == 204
    r = await client.get("/graph-store?default", headers={"Accept": "text/turtle"})
    assert triples_of(r) == set()


async def test_post_multipart_merges_every_file(client: httpx.AsyncClient) -> None:
    files = [
        ("a", ("a.ttl", TTL, "text/turtle")),
        ("b", ("b.nt", MORE, "application/octet-stream")),  # format from the extension
    ]
    r = await client.post("/graph-store", params={"graph": NEW}, files=files, headers=AUTH)
    assert r.status_code == 201, r.text
    r = await client.get("/graph-store", params={"graph": NEW}, headers={"Accept": "text/turtle"})
    assert triples_of(r) == {'<http://e/a> <http://e/p> "one"', '<http://e/b> <http://e/p> "two"'}


async def test_missing_graph_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/graph-store", params={"graph": "http://nowhere.example/g"})
    assert r.status_code == 404
    assert r.json()["detail"] == "no graph <http://nowhere.example/g> in the store"


async def test_no_graph_named_is_400(client: httpx.AsyncClient) -> None:
    r = await client.get("/graph-store")
    assert r.status_code == 400
    assert r.json()["detail"] == "name a graph with ?graph=IRI, or ?default for the default graph"


async def test_put_creates_then_replaces(client: httpx.AsyncClient) -> None:
    created = await client.put(
        "/graph-store", params={"graph": NEW}, content=TTL, headers={**TURTLE, **AUTH}
    )
    assert created.status_code == 201
    replaced = await client.put(
        "/graph-store", params={"graph": NEW}, content=MORE, headers={**TURTLE, **AUTH}
    )
    assert replaced.status_code == 204
    r = await client.get("/graph-store", params={"graph": NEW}, headers={"Accept": "text/turtle"})
    assert triples_of(r) == {'<http://e/b> <http://e/p> "two"'}


async def test_post_merges(client: httpx.AsyncClient) -> None:
    await client.put("/graph-store", params={"graph": NEW}, content=TTL, headers={**TURTLE, **AUTH})
    r = await client.post(
        "/graph-store", params={"graph": NEW}, content=MORE, headers={**TURTLE, **AUTH}
    )
    assert r.status_code == 204
    r = await client.get("/graph-store", params={"graph": NEW}, headers={"Accept": "text/turtle"})
    assert triples_of(r) == {'<http://e/a> <http://e/p> "one"', '<http://e/b> <http://e/p> "two"'}


async def test_post_to_the_store_creates_a_graph_with_location(client: httpx.AsyncClient) -> None:
    r = await client.post("/graph-store", content=TTL, headers={**TURTLE, **AUTH})
    assert r.status_code == 201
    location = r.headers["location"]
    assert location.startswith("https://w3id.org/sinlod/graph/upload-")
    again = await client.get(
        "/graph-store", params={"graph": location}, headers={"Accept": "text/turtle"}
    )
    assert triples_of(again) == {'<http://e/a> <http://e/p> "one"'}


async def test_delete_removes_and_then_404(client: httpx.AsyncClient) -> None:
    await client.put("/graph-store", params={"graph": NEW}, content=TTL, headers={**TURTLE, **AUTH})
    assert (
        await client.delete("/graph-store", params={"graph": NEW}, headers=AUTH)
    ).status_code == 204
    assert (await client.get("/graph-store", params={"graph": NEW})).status_code == 404
    assert (
        await client.delete("/graph-store", params={"graph": NEW}, headers=AUTH)
    ).status_code == 404


async def test_writes_need_the_token(client: httpx.AsyncClient) -> None:
    r = await client.put("/graph-store", params={"graph": NEW}, content=TTL, headers=TURTLE)
    assert r.status_code == 401
    r = await client.delete("/graph-store", params={"graph": DATA_GRAPH})
    assert r.status_code == 401
    assert (await client.get("/graph-store", params={"graph": DATA_GRAPH})).status_code == 200


async def test_unreadable_body_is_400_and_writes_nothing(client: httpx.AsyncClient) -> None:
    r = await client.put(
        "/graph-store",
        params={"graph": NEW},
        content=b"<http://e/a> <http://e/p> .",
        headers={**TURTLE, **AUTH},
    )
    assert r.status_code == 400
    assert r.json()["detail"].startswith("the Turtle body does not parse: ")
    assert (await client.get("/graph-store", params={"graph": NEW})).status_code == 404


async def test_unknown_content_type_is_415(client: httpx.AsyncClient) -> None:
    r = await client.put(
        "/graph-store",
        params={"graph": NEW},
        content=TTL,
        headers={"Content-Type": "text/csv", **AUTH},
    )
    assert r.status_code == 415
    assert r.json()["detail"].startswith(
        "cannot read a graph in text/csv; send one of: text/turtle"
    )
