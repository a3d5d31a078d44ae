"""/void, /catalog and /dumps/ over HTTP: true to the store, DCAT-AP conformant, downloadable."""

from __future__ import annotations

import dataclasses
import gzip

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from rdflib import Graph

from sinlod.config import Settings
from sinlod.server import create_app
from tests.server.conftest import AUTH, DATA, DATA_GRAPH, client_for, triples
from tests.test_catalog import _dcat_ap_shapes

pytestmark = pytest.mark.anyio

VOID = "http://rdfs.org/ns/void#"
DS = "https://w3id.org/sinlod/id/dataset/sinlod"
TURTLE = {"Accept": "text/turtle"}


def rdf(response: httpx.Response, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(response.content, fmt)}


def value(graph: set[ox.Triple], subject: str, predicate: str) -> str:
    (found,) = [
        t.object.value
        for t in graph
        if t.subject == ox.NamedNode(subject) and t.predicate == ox.NamedNode(predicate)
    ]
    return found


def store_quads(app: FastAPI) -> set[ox.Quad]:
    """What a whole-store dump holds: the data and the release log (as its graph)."""
    store = app.state.store
    return set(store.oxigraph.quads_for_pattern(None, None, None, None)) | set(
        store.release_log().quads_for_pattern(None, None, None, None)
    )


# -- VoID ----------------------------------------------------------------------------------------


async def test_void_counts_match_the_store(client: httpx.AsyncClient) -> None:
    r = await client.get("/void", headers=TURTLE)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    void = rdf(r)
    # The data graph only: the ontology graph and the release log are not the dataset.
    assert int(value(void, DS, VOID + "triples")) == len(set(triples(DATA)))
    assert value(void, DS, VOID + "sparqlEndpoint") == "http://testserver/sparql"
    assert value(void, DS, VOID + "dataDump") == "http://testserver/dumps/latest.nq.gz"
    assert value(void, DS, VOID + "uriSpace") == "https://w3id.org/sinlod/id/"
    projects = DS + "/class/https://w3id.org/sinlod/def/Project"
    assert value(void, projects, VOID + "entities") == "1"
    linksets = {t.object for t in void if t.predicate == ox.NamedNode(VOID + "subset")}
    assert ox.NamedNode(DS + "/linkset/nuts") in linksets


async def test_well_known_void_is_the_same_description(client: httpx.AsyncClient) -> None:
    a = await client.get("/void", headers=TURTLE)
    b = await client.get("/.well-known/void", headers=TURTLE)
    assert b.status_code == 200
    assert rdf(a) == rdf(b)


VALID = b"""
@prefix sinlod: <https://w3id.org/sinlod/def/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://w3id.org/sinlod/id/document/notes> a sinlod:Document ; skos:prefLabel "Field notes"@en .
<https://w3id.org/sinlod/id/place/ghent> a sinlod:Place ; skos:prefLabel "Ghent"@en ;
    dct:source <https://w3id.org/sinlod/id/document/notes> .
"""


async def test_void_follows_a_write(client: httpx.AsyncClient) -> None:
    """Counts are per release: a write through the server shows up at once."""
    before = rdf(await client.get("/void", headers=TURTLE))
    r = await client.put(
        "/graph-store",
        params={"graph": "https://w3id.org/sinlod/graph/places"},
        content=VALID,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert r.status_code == 201, r.text
    after = rdf(await client.get("/void", headers=TURTLE))
    added = int(value(after, DS, VOID + "triples")) - int(value(before, DS, VOID + "triples"))
    assert added == 5
    places = DS + "/class/https://w3id.org/sinlod/def/Place"
    assert int(value(after, places, VOID + "entities")) == 2


async def test_public_url_setting_is_used_for_links(server_settings: Settings) -> None:
    settings = dataclasses.replace(server_settings, public_url="https://data.example.org/lod")
    async for client in client_for(create_app(settings)):
        void = rdf(await client.get("/void", headers=TURTLE))
    assert value(void, DS, VOID + "sparqlEndpoint") == "https://data.example.org/lod/sparql"


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
async def test_descriptions_in_every_rdf_format_are_the_same_graph(
    client: httpx.AsyncClient, accept: str, fmt: ox.RdfFormat
) -> None:
    for path in ("/void", "/catalog"):
        turtle = rdf(await client.get(path, headers=TURTLE))
        r = await client.get(path, headers={"Accept": accept})
        assert r.headers["content-type"] == f"{fmt.media_type}; charset=utf-8"
        assert rdf(r, fmt) == turtle


async def test_curl_gets_turtle_and_a_browser_gets_a_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/catalog", headers={"Accept": "*/*"})
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    r = await client.get("/catalog", headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>DCAT-AP catalogue</h1>" in r.text
    assert "&lt;https://w3id.org/sinlod/id/catalog/sinlod&gt; a dcat:Catalog" in r.text


async def test_unacceptable_format_is_406(client: httpx.AsyncClient) -> None:
    r = await client.get("/void", headers={"Accept": "text/csv"})
    assert r.status_code == 406
    assert r.json()["available"] == [
        "text/turtle",
        "application/n-triples",
        "application/ld+json",
        "application/rdf+xml",
    ]


# -- DCAT-AP -------------------------------------------------------------------------------------


async def test_catalog_over_http_conforms_to_the_official_dcat_ap_shapes(
    client: httpx.AsyncClient,
) -> None:
    from pyshacl import validate

    r = await client.get("/catalog", headers=TURTLE)
    assert r.status_code == 200
    data = Graph().parse(data=r.text, format="turtle")
    conforms, _, text = validate(
        data, shacl_graph=_dcat_ap_shapes(), inference="none", allow_warnings=True
    )
    assert conforms, text
    downloads = {str(o) for o in data.objects(predicate=__import__("rdflib").DCAT.downloadURL)}
    assert downloads == {
        "http://testserver/dumps/latest.nq.gz",
        "http://testserver/dumps/latest.ttl",
    }
    gzipped = {
        str(s)
        for s in data.subjects(
            predicate=__import__("rdflib").DCAT.compressFormat,
            object=__import__("rdflib").URIRef(
                "https://www.iana.org/assignments/media-types/application/gzip"
            ),
        )
    }
    assert gzipped == {"https://w3id.org/sinlod/id/distribution/nquads-gz"}


async def test_catalog_modified_is_the_release_time(client: httpx.AsyncClient) -> None:
    r = await client.get("/catalog", headers=TURTLE)
    modified = value(rdf(r), DS, "http://purl.org/dc/terms/modified")
    health = (await client.get("/healthz")).json()
    assert health["last_modified"].startswith(modified.removesuffix("Z")[:19])


# -- caching -------------------------------------------------------------------------------------


async def test_descriptions_answer_304_until_the_release_changes(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/void", headers=TURTLE)
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    again = await client.get("/void", headers={**TURTLE, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    since = await client.get("/catalog", headers={**TURTLE, "If-Modified-Since": modified})
    assert since.status_code == 304
    other = await client.get("/void", headers={"Accept": "application/n-triples"})
    assert other.headers["etag"] != etag  # a different format is a different representation


# -- dumps ---------------------------------------------------------------------------------------


async def test_dump_listing_as_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/dumps/", headers={"Accept": "application/json"})
    assert r.status_code == 200
    body = r.json()
    assert body["release"] == (await client.get("/healthz")).json()["release"]
    names = [f["name"] for f in body["files"]]
    assert names == ["latest.nq.gz", "latest.ttl", "data.ttl", "ontology.ttl"]  # no log: data
    assert body["files"][2] == {
        "name": "data.ttl",
        "url": "http://testserver/dumps/data.ttl",
        "title": f"The graph <{DATA_GRAPH}>",
        "media_type": "text/turtle",
        "graph": DATA_GRAPH,
    }


async def test_dump_listing_as_a_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/dumps/", headers={"Accept": "text/html"})
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<a href="http://testserver/dumps/latest.nq.gz">latest.nq.gz</a>' in r.text
    assert "The graph &lt;https://w3id.org/sinlod/graph/data&gt;" in r.text


async def test_nquads_dump_round_trips_to_the_store(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    r = await client.get("/dumps/latest.nq.gz")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/gzip"
    assert r.headers["content-disposition"] == 'attachment; filename="latest.nq.gz"'
    quads = set(ox.parse(gzip.decompress(r.content), ox.RdfFormat.N_QUADS))
    assert quads == store_quads(app)


async def test_turtle_dumps_per_graph_and_of_everything(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    r = await client.get("/dumps/data.ttl")
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    assert rdf(r) == {
        q.triple for q in store_quads(app) if q.graph_name == ox.NamedNode(DATA_GRAPH)
    }
    everything = await client.get("/dumps/latest.ttl")  # all data: never the release log
    assert rdf(everything) == {q.triple for q in app.state.store.oxigraph}


async def test_dumps_are_written_once_per_release_and_carry_an_etag(
    app: FastAPI, client: httpx.AsyncClient, server_settings: Settings
) -> None:
    first = await client.get("/dumps/latest.nq.gz")
    cached = list((server_settings.store_path / "cache" / "dumps").glob("*/latest.nq.gz"))
    assert len(cached) == 1
    again = await client.get(
        "/dumps/latest.nq.gz", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    # A write makes a new release, hence a new dump with the new quads.
    r = await client.put(
        "/graph-store",
        params={"graph": "https://w3id.org/sinlod/graph/extra"},
        content=b'<http://e/a> <http://e/p> "1" .\n',
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )
    assert r.status_code == 201
    second = await client.get("/dumps/latest.nq.gz")
    assert second.headers["etag"] != first.headers["etag"]
    assert set(ox.parse(gzip.decompress(second.content), ox.RdfFormat.N_QUADS)) == store_quads(app)


async def test_unknown_dump_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/dumps/nothing.ttl")
    assert r.status_code == 404
    assert r.json()["detail"] == "no dump file 'nothing.ttl'; see /dumps/ for the list"
