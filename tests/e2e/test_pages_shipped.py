"""HTML pages on the shipped dataset: what the fixture-based page tests do not reach."""

from __future__ import annotations

import html
import re

import httpx
import pyoxigraph as ox
import pytest

pytestmark = pytest.mark.anyio

HTML = {"Accept": "text/html"}


def text_of(page: str) -> str:
    body = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", body)))


async def get(client: httpx.AsyncClient, path: str, status: int = 200) -> str:
    r = await client.get(path, headers=HTML)
    assert r.status_code == status, r.text
    return r.text


async def test_landing_page_names_the_release_and_the_downloads(
    shipped_client: httpx.AsyncClient,
) -> None:
    page = await get(shipped_client, "/")
    text = text_of(page)
    assert re.search(
        r"Latest release \d{6}-[0-9a-f]+, published \d{4}-\d\d-\d\d \d\d:\d\d UTC"
        r" \([\d,]+ triples in \d+ graphs\)\.",
        text,
    ), text
    for href in ("/dumps/", "/void", "/catalog", "/sparql"):
        assert f'<a href="{href}">' in page
    # Class labels from the ontology are lower case; lists start them with a capital.
    assert '<a href="/browse/PracticeCase">Practice case</a>' in page


async def test_browse_heading_and_search_on_the_shipped_data(
    shipped_client: httpx.AsyncClient,
) -> None:
    assert "<h1>Practice case</h1>" in await get(shipped_client, "/browse/PracticeCase")
    hits = text_of(await get(shipped_client, "/?q=BURO FUR"))  # Büro für soziale Innovation
    assert "Büro für soziale Innovation" in hits


async def test_reused_properties_read_as_words(shipped_client: httpx.AsyncClient) -> None:
    page = await get(shipped_client, "/doc/project/sic")
    for label in ("description", "topic", "page about it", "name"):
        assert f'">{label}</a></th>' in page, label
    assert ">dct:description<" not in page
    assert '<a href="/doc/project/sic.ttl" type="text/turtle">Turtle</a>' in page


async def test_incoming_links_are_paged(
    shipped_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sinlod.server.linked_data import pages

    monkeypatch.setattr(pages, "INCOMING_PAGE_SIZE", 4)
    first = await get(shipped_client, "/doc/project/sic")
    section = first.split('<h2 id="incoming">')[1].split("</section>")[0]
    assert section.count("<li>") == 4
    assert '<a rel="next" href="?incoming=2#incoming">Next</a>' in section
    total = int(re.search(r"Page 1 of (\d+) \((\d+) links\)", section).group(2))  # type: ignore[union-attr]
    last_page = -(-total // 4)
    last = await get(shipped_client, f"/doc/project/sic?incoming={last_page}")
    tail = last.split('<h2 id="incoming">')[1].split("</section>")[0]
    assert tail.count("<li>") == total - 4 * (last_page - 1)
    assert 'rel="next"' not in tail
    # Out of range or not a number: the nearest page, never an error.
    assert (await shipped_client.get("/doc/project/sic?incoming=999", headers=HTML)).is_success
    assert (await shipped_client.get("/doc/project/sic?incoming=x", headers=HTML)).is_success


async def test_not_found_page_offers_a_search_box(shipped_client: httpx.AsyncClient) -> None:
    page = await get(shipped_client, "/doc/project/no-such-project", status=404)
    assert '<html lang="en">' in page
    assert '<form class="search-big" action="/" method="get" role="search">' in page
    assert '<input id="q-missing" name="q" type="search"' in page


async def test_pages_have_an_icon_served_here(shipped_client: httpx.AsyncClient) -> None:
    page = await get(shipped_client, "/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = await shipped_client.get("/static/favicon.svg")
    assert icon.headers["content-type"].startswith("image/svg+xml")


async def test_def_documents_every_class_and_property_and_serves_the_whole_ontology(
    shipped_client: httpx.AsyncClient,
) -> None:
    """`/def/` is the whole ontology: every own term in the RDF, each one documented in HTML."""
    r = await shipped_client.get("/def/", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    own = {
        t.subject.value
        for t in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)
        if isinstance(t.subject, ox.NamedNode)
        and t.subject.value.startswith("https://w3id.org/sinlod/def/")
        and t.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label"
    }
    assert {"https://w3id.org/sinlod/def/Project", "https://w3id.org/sinlod/def/involvedIn"} <= own
    page = await shipped_client.get("/def/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for iri in own:
        local = iri.removeprefix("https://w3id.org/sinlod/def/")
        if local:
            assert f'id="{local}"' in page.text, f"{local} is not documented on /def/"
    assert '<h2 id="classes">Classes</h2>' in page.text
    assert re.search(r'<a href="[^"]*/def/roles">', page.text), "concept schemes are linked"
