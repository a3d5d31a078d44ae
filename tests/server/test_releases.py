"""The release log over HTTP: never in SPARQL answers, always at ``/releases`` (HTML and RDF)."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from tests.server.conftest import AUTH, DATA, ONTOLOGY

pytestmark = pytest.mark.anyio

BASE = "https://w3id.org/sinlod/"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
NEW_TYPE = "https://example.org/def/Note"
WRITE = (
    f"INSERT DATA {{ GRAPH <{BASE}graph/notes> {{ <https://example.org/n/1> a <{NEW_TYPE}> }} }}"
)


def fixture_types() -> set[str]:
    """Every rdf:type object in the published fixture files (data and ontology)."""
    found = set()
    for path in (DATA, ONTOLOGY):
        for q in ox.parse(path=path, format=ox.RdfFormat.TURTLE):
            if q.predicate.value == RDF_TYPE and isinstance(q.object, ox.NamedNode):
                found.add(q.object.value)
    return found


async def select(client: httpx.AsyncClient, query: str) -> list[dict[str, str]]:
    r = await client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in row.items()} for row in r.json()["results"]["bindings"]]


async def test_after_a_write_sparql_sees_only_data_and_releases_list_the_write(
    ungated_client: httpx.AsyncClient,
) -> None:
    client = ungated_client
    r = await client.post("/sparql", data={"update": WRITE}, headers=AUTH)
    assert r.status_code == 204, r.text
    types = {row["type"] for row in await select(client, "SELECT DISTINCT ?type { ?s a ?type }")}
    assert types == fixture_types() | {NEW_TYPE}
    graphs = {row["g"] for row in await select(client, "SELECT DISTINCT ?g { GRAPH ?g {} }")}
    assert graphs == {BASE + "graph/data", BASE + "graph/ontology", BASE + "graph/notes"}
    count = await select(client, f"SELECT (COUNT(*) AS ?n) {{ ?s <{PROV}endedAtTime> ?t }}")
    assert count == [{"n": "0"}]
    listing = await client.get("/graph-store", headers={"Accept": "application/n-quads"})
    assert f"<{BASE}graph/releases>" not in listing.text

    page = await client.get("/releases", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "SPARQL Update (POST /sparql)" in page.text  # the write's comment
    assert page.text.count('<a href="/releases/0000') == 2  # the publish and the write
    turtle = await client.get("/releases")  # */*: Turtle
    assert turtle.headers["content-type"].startswith("text/turtle")
    log = list(ox.parse(turtle.content, ox.RdfFormat.TURTLE))
    activities = [t.subject for t in log if t.object == ox.NamedNode(PROV + "Activity")]
    assert len(activities) == 2


async def test_one_release_page_says_who_when_why_and_what_changed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    notes = f"""PREFIX sinlod: <{BASE}def/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    PREFIX dct: <http://purl.org/dc/terms/>
    INSERT DATA {{ GRAPH <{BASE}graph/notes> {{
      <{BASE}id/document/n1> a sinlod:Document ; skos:prefLabel "Notes"@en . }} }}"""
    r = await client.post("/sparql", data={"update": notes}, headers=AUTH)
    assert r.status_code == 204, r.text
    release = app.state.store.releases()[-1]
    assert release.id == app.state.store.release_id
    page = await client.get(f"/releases/{release.id}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.text
    assert "<td>default</td>" in text  # who: the token's name
    assert release.ended.strftime("%Y-%m-%d %H:%M:%S") in text  # when
    assert f"SPARQL Update (POST /sparql): +2 -0 triples in &lt;{BASE}graph/notes&gt;" in text
    assert f"<tr><td><code>{BASE}graph/notes</code></td>\n<td>yes</td>\n<td>2</td></tr>" in text
    assert f"<code>{BASE}graph/data</code></td>\n<td>no</td>" in text
    assert '<a href="/dumps/latest.nq.gz">' in text  # the published release: its dump

    first = app.state.store.releases()[0]
    older = await client.get(f"/releases/{first.id}", headers={"Accept": "text/html"})
    assert "A later release replaced this one" in older.text

    jsonld = await client.get(f"/releases/{release.id}", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    triples = list(ox.parse(jsonld.content, ox.RdfFormat.JSON_LD))
    subjects = {t.subject.value for t in triples}
    iri = f"{BASE}release/{release.id}"
    assert iri in subjects and f"{BASE}release/{first.id}" not in subjects
    assert all(s == iri or s.startswith(iri + "/") or "/agent/" in s for s in subjects)
    for name in ("ntriples", "rdfxml", "nquads", "trig"):
        r = await client.get(f"/releases/{release.id}", params={"format": name})
        assert r.status_code == 200, name

    r = await client.get(f"/release/{release.id}")
    assert r.status_code == 303 and r.headers["location"] == f"/releases/{release.id}"
    missing = await client.get("/releases/000999-nothing")
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"


async def test_releases_are_cached_per_published_release(client: httpx.AsyncClient) -> None:
    r = await client.get("/releases")
    again = await client.get("/releases", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert (await client.post("/sparql", data={"update": WRITE}, headers=AUTH)).status_code == 204
    after = await client.get("/releases", headers={"If-None-Match": r.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != r.headers["etag"]
    landing = await client.get("/", headers={"Accept": "text/html"})
    assert '<a href="/releases">Release log</a>' in landing.text


async def test_the_catalogue_links_the_release_log_and_conforms_to_dcat_ap(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from pyshacl import validate
    from rdflib import Graph

    from tests.test_catalog import _dcat_ap_shapes

    r = await client.get("/catalog", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    triples = list(ox.parse(r.content, ox.RdfFormat.TURTLE))
    dataset = ox.NamedNode(BASE + "id/dataset/sinlod")
    about = {(t.predicate.value, t.object.value) for t in triples if t.subject == dataset}
    release = app.state.store.release_id
    assert ("http://xmlns.com/foaf/0.1/page", "http://testserver/releases") in about
    assert ("http://www.w3.org/ns/dcat#version", release) in about
    assert (PROV + "wasGeneratedBy", f"{BASE}release/{release}") in about
    data = Graph().parse(data=r.text, format="turtle")
    conforms, _, text = validate(
        data, shacl_graph=_dcat_ap_shapes(), inference="none", allow_warnings=True
    )
    assert conforms, text
