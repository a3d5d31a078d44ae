"""Dereferencing: /id → 303 → /doc, content negotiation, extensions, caching headers, /def."""

from __future__ import annotations

import dataclasses

import httpx
import pyoxigraph as ox
import pytest

from sinlod.server import create_app
from tests.server.conftest import client_for

pytestmark = pytest.mark.anyio

SIC = "https://w3id.org/sinlod/id/project/sic"
RDF_FORMATS = [
    ("text/turtle", ox.RdfFormat.TURTLE, "ttl"),
    ("application/n-triples", ox.RdfFormat.N_TRIPLES, "nt"),
    ("application/ld+json", ox.RdfFormat.JSON_LD, "jsonld"),
    ("application/rdf+xml", ox.RdfFormat.RDF_XML, "rdf"),
]


def graph(response: httpx.Response, fmt: ox.RdfFormat) -> ox.Store:
    store = ox.Store()
    store.load(response.content, fmt)
    return store


def has(store: ox.Store, s: str, p: str, o: str) -> bool:
    return bool(store.query(f"ASK {{ {s} {p} {o} }}"))


async def test_id_redirects_303_to_doc(client: httpx.AsyncClient) -> None:
    r = await client.get("/id/project/sic", headers={"Accept": "text/turtle"})
    assert r.status_code == 303
    assert r.headers["location"] == "/doc/project/sic"


async def test_following_the_redirect_gives_the_document(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/id/project/sic", headers={"Accept": "text/turtle"}, follow_redirects=True
    )
    assert r.status_code == 200
    assert str(r.url) == "http://testserver/doc/project/sic"
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"


@pytest.mark.parametrize(("accept", "fmt", "ext"), RDF_FORMATS)
async def test_doc_by_accept_and_by_extension_agree(
    client: httpx.AsyncClient, accept: str, fmt: ox.RdfFormat, ext: str
) -> None:
    negotiated = await client.get("/doc/project/sic", headers={"Accept": accept})
    by_ext = await client.get(f"/doc/project/sic.{ext}")
    assert negotiated.status_code == by_ext.status_code == 200
    assert (
        negotiated.headers["content-type"]
        == by_ext.headers["content-type"]
        == f"{accept}; charset=utf-8"
    )
    assert negotiated.content == by_ext.content
    assert "Accept" in negotiated.headers["vary"]
    assert negotiated.headers["content-location"] == f"/doc/project/sic.{ext}"
    g = graph(negotiated, fmt)
    assert has(g, f"<{SIC}>", "a", "<https://w3id.org/sinlod/def/Project>")


async def test_q_values_choose_the_format(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/doc/project/sic",
        headers={"Accept": "text/html;q=0.5, application/rdf+xml;q=0.9, text/turtle;q=0.8"},
    )
    assert r.headers["content-type"] == "application/rdf+xml; charset=utf-8"


async def test_browser_gets_html(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/doc/project/sic",
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )
    assert r.headers["content-type"] == "text/html; charset=utf-8"


async def test_description_is_the_widened_cbd(client: httpx.AsyncClient) -> None:
    r = await client.get("/doc/project/sic.nt")
    g = graph(r, ox.RdfFormat.N_TRIPLES)
    involvement = "<https://w3id.org/sinlod/id/involvement/sic--aeidl--coordinator>"
    skos = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
    # own triples
    assert has(g, f"<{SIC}>", "<https://w3id.org/sinlod/def/acronym>", '"SIC"')
    # the qualified relation with its own triples
    assert has(
        g,
        involvement,
        "<http://data.europa.eu/m8g/role>",
        "<https://w3id.org/sinlod/def/roles/coordinator>",
    )
    assert has(g, involvement, "<https://w3id.org/sinlod/def/startDate>", "?d")
    # labels of what it links to, through the relation too
    assert has(g, "<https://w3id.org/sinlod/id/organisation/aeidl>", skos, '"AEIDL"@en')
    assert has(g, "<https://w3id.org/sinlod/def/roles/coordinator>", skos, '"coordinator"@en')
    assert has(
        g,
        "<https://w3id.org/sinlod/id/document/sic-factsheet>",
        "<http://purl.org/dc/terms/title>",
        "?t",
    )
    # incoming links
    assert has(
        g,
        "<https://w3id.org/sinlod/id/event/sic-summit-2017>",
        "<https://w3id.org/sinlod/def/partOfProject>",
        f"<{SIC}>",
    )
    # the blank nodes it points at, and only those (regression: every blank node came along)
    assert has(
        g,
        f"<{SIC}>",
        "<http://purl.org/dc/terms/publisher>/<http://xmlns.com/foaf/0.1/name>",
        '"SIC consortium"',
    )
    assert not has(g, "?b", "<http://xmlns.com/foaf/0.1/name>", '"Another agent"')
    # but not the rest of the dataset
    assert not has(g, "<https://w3id.org/sinlod/id/place/brussels>", "?p", "?o")
    assert not has(
        g,
        "<https://w3id.org/sinlod/id/organisation/aeidl>",
        "<https://w3id.org/sinlod/def/basedIn>",
        "?o",
    )


async def test_link_header_lists_the_alternates(client: httpx.AsyncClient) -> None:
    r = await client.get("/doc/project/sic.ttl")
    assert r.headers["link"] == (
        '</doc/project/sic.html>; rel="alternate"; type="text/html", '
        '</doc/project/sic.nt>; rel="alternate"; type="application/n-triples", '
        '</doc/project/sic.jsonld>; rel="alternate"; type="application/ld+json", '
        '</doc/project/sic.rdf>; rel="alternate"; type="application/rdf+xml"'
    )


async def test_etag_and_conditional_get(client: httpx.AsyncClient) -> None:
    first = await client.get("/doc/project/sic", headers={"Accept": "text/turtle"})
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert "last-modified" in first.headers
    again = await client.get(
        "/doc/project/sic", headers={"Accept": "text/turtle", "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other_format = await client.get(
        "/doc/project/sic", headers={"Accept": "application/ld+json", "If-None-Match": etag}
    )
    assert other_format.status_code == 200
    assert other_format.headers["etag"] != etag
    since = await client.get(
        "/doc/project/sic.ttl", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status_code == 304


async def test_etag_changes_with_a_new_release(client: httpx.AsyncClient) -> None:
    from tests.server.conftest import AUTH

    before = (await client.get("/doc/project/sic.ttl")).headers["etag"]
    graph_x = "https://w3id.org/sinlod/graph/x"
    insert = f'INSERT DATA {{ GRAPH <{graph_x}> {{ <{SIC}> <http://e/p> "new" }} }}'
    assert (await client.post("/sparql", data={"update": insert}, headers=AUTH)).status_code == 204
    after = await client.get("/doc/project/sic.ttl", headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before
    assert b'"new"' in after.content


async def test_head_has_the_headers_but_no_body(client: httpx.AsyncClient) -> None:
    r = await client.head("/doc/project/sic", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    assert "etag" in r.headers


async def test_unknown_resource_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/doc/project/nope", headers={"Accept": "text/turtle"})
    assert r.status_code == 404
    assert r.json()["detail"] == "nothing is known about <https://w3id.org/sinlod/id/project/nope>"


async def test_unknown_resource_for_a_browser_is_a_page_with_a_search_box(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/doc/project/nope", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<input id="q" name="q" type="search"' in r.text


async def test_unacceptable_format_is_406_listing_what_is_available(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/doc/project/sic", headers={"Accept": "application/pdf"})
    assert r.status_code == 406
    assert r.json()["available"] == [
        "text/html",
        "text/turtle",
        "application/n-triples",
        "application/ld+json",
        "application/rdf+xml",
    ]
    unknown_ext = await client.get("/doc/project/sic.pdf")
    assert unknown_ext.status_code == 406
    assert unknown_ext.json()["detail"] == (
        "cannot produce an accepted format; available: .html, .ttl, .nt, .jsonld, .rdf"
    )


async def test_ontology_terms_dereference(client: httpx.AsyncClient) -> None:
    term = await client.get("/def/Project", headers={"Accept": "text/turtle"})
    assert term.status_code == 200
    g = graph(term, ox.RdfFormat.TURTLE)
    assert has(
        g,
        "<https://w3id.org/sinlod/def/Project>",
        "<http://www.w3.org/2000/01/rdf-schema#label>",
        '"Project"@en',
    )
    concept = await client.get("/def/roles/coordinator.jsonld")
    assert concept.status_code == 200
    g = graph(concept, ox.RdfFormat.JSON_LD)
    assert has(
        g,
        "<https://w3id.org/sinlod/def/roles/coordinator>",
        "<http://www.w3.org/2004/02/skos/core#inScheme>",
        "<https://w3id.org/sinlod/def/roles>",
    )
    assert (await client.get("/def/NoSuchTerm")).status_code == 404


async def test_request_paths_map_onto_the_configured_base(server_settings) -> None:  # type: ignore[no-untyped-def]
    """Data minted under another base is served from the same paths (DESIGN.md 1)."""
    import pyoxigraph as ox

    from sinlod.store import ReleaseInfo, Store

    base = "https://example.org/si/"
    settings = dataclasses.replace(server_settings, base_iri=base)
    with Store.open(settings.store_path, base_iri=base) as store:
        t = ox.Triple(
            ox.NamedNode(base + "id/project/x"), ox.NamedNode("http://e/p"), ox.Literal("x")
        )
        store.replace_graphs({base + "graph/x": [t]}, release=ReleaseInfo(agent="test"))
    async for client in client_for(create_app(settings)):
        assert (await client.get("/doc/project/x.nt")).text == (
            '<https://example.org/si/id/project/x> <http://e/p> "x" .\n'
        )
        assert (await client.get("/doc/project/sic.nt")).status_code == 404


async def test_the_ontology_itself_dereferences(client: httpx.AsyncClient) -> None:
    r = await client.get("/def/", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.headers["content-location"] == "/def/?format=turtle"
    g = graph(r, ox.RdfFormat.TURTLE)
    assert has(g, "<https://w3id.org/sinlod/def/>", "a", "<http://www.w3.org/2002/07/owl#Ontology>")
    page = await client.get("/def/", headers={"Accept": "text/html"})
    assert "<h1>sinlod ontology (test slice)</h1>" in page.text
