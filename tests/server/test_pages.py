"""HTML pages: landing, search, browse, resource pages; escaping; language."""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest

from sinlod.names import fold, pick
from sinlod.server.http.templating import script_json

pytestmark = pytest.mark.anyio

HTML = {"Accept": "text/html"}


def text_of(page: str) -> str:
    """The visible text of a page: tags removed, entities decoded, spaces collapsed."""
    body = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", body)))


async def page(client: httpx.AsyncClient, path: str, **headers: str) -> str:
    r = await client.get(path, headers={**HTML, **headers})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    return r.text


async def test_resource_page_shows_title_types_and_labelled_properties(
    client: httpx.AsyncClient,
) -> None:
    doc = await page(client, "/doc/project/sic")
    assert "<h1>Social Innovation Community</h1>" in doc
    assert '<span class="badge"><a href="http://testserver/def/Project">Project</a></span>' in doc
    text = text_of(doc)
    assert "start date 2016-02" in text  # rdfs:label of sinlod:startDate from the ontology
    assert "acronym SIC" in text
    assert "foaf:name: SIC consortium; type: foaf:Agent" in text  # a blank node, shown in place


async def test_qualified_relations_read_as_sentences(client: httpx.AsyncClient) -> None:
    text = text_of(await page(client, "/doc/project/sic"))
    assert "AEIDL: coordinator of SIC, 2016-02 – 2019-02" in text
    org = text_of(await page(client, "/doc/organisation/aeidl"))
    assert "AEIDL: coordinator of SIC, 2016-02 – 2019-02" in org
    assert "AEIDL: member of European Network of Social Innovation Hubs" in org


async def test_links_are_local_and_external_links_name_their_dataset(
    client: httpx.AsyncClient,
) -> None:
    doc = await page(client, "/doc/place/brussels")
    assert '<a href="http://testserver/id/event/sic-summit-2017">SIC Summit 2017</a>' in doc
    assert (
        '<a href="http://data.europa.eu/nuts/code/BE100">nuts:BE100</a>'
        ' <span class="dataset">(NUTS (Eurostat))</span>'
    ) in doc
    assert "(EU authority table: countries)" in doc
    aeidl = await page(client, "/doc/organisation/aeidl")
    assert "(Wikidata)" in aeidl
    sic = await page(client, "/doc/project/sic")
    assert "(CORDIS (EU research projects))" in sic


async def test_incoming_links_and_sources(client: httpx.AsyncClient) -> None:
    text = text_of(await page(client, "/doc/project/sic"))
    assert "Linked from SIC Summit 2017 (part of project)" in text
    assert "Sources SIC fact sheet on CORDIS" in text


async def test_alternate_formats_and_embedded_json_ld(client: httpx.AsyncClient) -> None:
    doc = await page(client, "/doc/project/sic")
    assert '<link rel="alternate" type="text/turtle" href="/doc/project/sic.ttl">' in doc
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', doc, re.S)
    assert match is not None
    data = json.loads(match.group(1))
    assert any(node["@id"] == "https://w3id.org/sinlod/id/project/sic" for node in data)


async def test_literals_are_escaped_and_cannot_break_out_of_the_script(
    client: httpx.AsyncClient,
) -> None:
    doc = await page(client, "/doc/organisation/evil")
    assert "<script>alert" not in doc
    assert "<h1>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Evil &amp; Co</h1>" in doc
    # Exactly one </script> besides the same-origin script files (the map of an organisation's
    # page): the one that closes the JSON-LD; "</script>" in the data is \u003c/
    inline = re.sub(r'<script src="/static/[^"<>]*"></script>', "", doc)
    assert inline.count("</script>") == 1
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', doc, re.S)
    assert match is not None
    labels = json.dumps(json.loads(match.group(1)))
    assert (
        "</script><!-- the page"
        in json.loads(labels)[1]["http://purl.org/dc/terms/description"][0]["@value"]
    )


def test_script_json_escapes_every_less_than() -> None:
    assert str(script_json('{"a": "</script><!--"}')) == '{"a": "\\u003c/script>\\u003c!--"}'


async def test_title_follows_the_readers_language(client: httpx.AsyncClient) -> None:
    r = await client.get("/doc/project/sic?lang=nl", headers=HTML)
    assert r.headers["content-language"] == "nl"
    nl = r.text
    assert '<html lang="nl">' in nl
    assert "<h1>Sociale Innovatie Gemeenschap</h1>" in nl
    by_header = await page(client, "/doc/place/brussels", **{"Accept-Language": "fr-BE, en;q=0.5"})
    assert "<h1>Bruxelles</h1>" in by_header
    fallback = await page(client, "/doc/project/sic", **{"Accept-Language": "fi"})
    assert "<h1>Social Innovation Community</h1>" in fallback  # fi → en


def test_pick_falls_back_en_nl_de() -> None:
    assert pick({"de": "Köln", "nl": "Keulen"}, "fr") == "Keulen"
    assert pick({"de": "Köln"}, "fr") == "Köln"
    assert fold("KÖLNER Straße") == "kolner strasse"


async def test_landing_page_has_title_counts_and_links(client: httpx.AsyncClient) -> None:
    doc = await page(client, "/")
    assert "<h1>Social Innovation Linked Open Data</h1>" in doc
    assert '<tr><td><a href="/browse/Organisation">Organisation</a></td><td>2</td></tr>' in doc
    for link in ('href="/sparql"', 'href="/void"', 'href="/catalog"'):
        assert link in doc


async def test_search_ignores_case_and_diacritics(client: httpx.AsyncClient) -> None:
    doc = await page(client, "/?q=KOLNER")
    assert (
        '<a href="http://testserver/id/organisation/koeln-hub">Cologne Social Innovation Lab</a>'
        in doc
    )
    none = text_of(await page(client, "/?q=zzzz"))
    assert "Nothing has a name containing “zzzz”." in none


async def test_search_text_is_escaped(client: httpx.AsyncClient) -> None:
    doc = await page(client, "/?q=%3Cscript%3E")
    assert "<script>" not in doc.split("<body>")[1]


async def test_browse_lists_a_class_sorted_with_paging(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sinlod.server.linked_data import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    first = await page(client, "/browse/Organisation")
    assert "2 in this dataset" in text_of(first)
    assert "AEIDL" in first and "Evil" not in first
    assert '<a rel="next" href="?page=2">Next</a>' in first
    second = await page(client, "/browse/Organisation?page=2")
    assert "Evil &amp; Co" in second
    r = await client.get("/browse/Organisation?page=3", headers=HTML)
    assert r.status_code == 404
    assert (await client.get("/browse/Nothing", headers=HTML)).status_code == 404


async def test_static_css_is_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/static/sinlod.css")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")
