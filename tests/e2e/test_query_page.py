"""The query page and its example queries, on the shipped dataset (no browser needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.server.linked_data.pages import Example, query_examples
from tests.e2e.conftest import without_assets

pytestmark = pytest.mark.anyio

HTML = {"Accept": "text/html"}
EXAMPLES = query_examples()
#: At least one row each, and what must be among the rows (from the shipped records).
EXPECTED = {
    "01-sic-coordinators": ("AEIDL", "coordinator"),
    "02-brussels-events-2018": ("SIC Conference on Social Innovation in Cities and Regions", "97"),
    "03-essen-workshop-organisations": ("Helpteers", "Impact Hub Ruhr"),
    "04-project-funders": ("693883", "European Commission"),
    "05-places-nuts": ("Essen", "http://data.europa.eu/nuts/code/DEA13"),
}


def test_the_examples_are_the_ones_the_page_promises() -> None:
    assert [e.name for e in EXAMPLES] == sorted(EXPECTED)
    assert EXAMPLES[0].title == "Who coordinates SIC, and with which role"
    assert all(not e.query.startswith("#") for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
async def test_each_example_returns_rows_on_the_shipped_dataset(
    shipped_client: httpx.AsyncClient, example: Example
) -> None:
    r = await shipped_client.post(
        "/sparql",
        content=example.query,
        headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"},
    )
    assert r.status_code == 200, r.text
    rows = r.text.splitlines()
    assert len(rows) >= 2, f"{example.name} returned no rows"
    for needle in EXPECTED[example.name]:
        assert needle in r.text, f"{example.name}: {needle!r} not in\n{r.text}"


async def test_browser_get_on_sparql_is_the_query_page_with_yasgui(
    shipped_client: httpx.AsyncClient,
) -> None:
    r = await shipped_client.get("/sparql", headers=HTML)
    assert r.status_code == 200
    page = r.text
    assert "<h1>SPARQL query</h1>" in page
    assert '<link rel="stylesheet" href="/static/vendor/yasgui/yasgui.min.css">' in page
    assert '<script src="/static/vendor/yasgui/yasgui.min.js"></script>' in page
    match = re.search(r'<script type="application/json" id="query-config">(.*?)</script>', page)
    assert match is not None
    config = json.loads(match.group(1))
    assert config["endpoint"] == "http://testserver/sparql"
    assert [e["name"] for e in config["examples"]] == [e.title for e in EXAMPLES]
    assert config["local"] == [
        ["https://w3id.org/sinlod/def/", "http://testserver/def/"],
        ["https://w3id.org/sinlod/id/", "http://testserver/id/"],
        ["https://w3id.org/sinlod/doc/", "http://testserver/doc/"],
        ["https://w3id.org/sinlod/def/", "http://testserver/def/"],
    ]
    # Every script and stylesheet comes from this server: no CDN.
    for src in re.findall(r'(?:src|href)="([^"]+)"', page):
        if src.startswith(("http://", "https://")):
            assert src.startswith(("https://www.w3.org/TR/", "http://testserver/")), src
    # The form is there too (shown when JavaScript or YASGUI is missing).
    assert '<div id="query-form" class="query-form">\n<form action="/sparql" method="get">' in page
    assert "?project sinlod:acronym &#34;SIC&#34; ." in page  # the first example, escaped


async def test_yasgui_assets_are_served_locally(shipped_client: httpx.AsyncClient) -> None:
    js = await shipped_client.get("/static/vendor/yasgui/yasgui.min.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    css = await shipped_client.get("/static/vendor/yasgui/yasgui.min.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (await shipped_client.get("/static/query.js")).status_code == 200
    assert (await shipped_client.get("/static/queries/05-places-nuts.rq")).status_code == 200


async def test_without_assets_the_page_is_a_form_that_says_how_to_install(
    shipped_settings: Settings, tmp_path: Path
) -> None:
    app = create_app(without_assets(shipped_settings, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            page = (await client.get("/sparql", headers=HTML)).text
            missing = await client.get("/static/vendor/yasgui/yasgui.min.js")
    assert "yasgui.min.js" not in page
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert (
        "The interactive query editor (YASGUI) is not installed on this server, so this is a"
        " plain form. To install it, run make assets (it runs npm ci) and restart the server."
    ) in text
    assert '<textarea id="query" name="query"' in page
    assert missing.status_code == 404


async def test_example_parameter_fills_the_form(shipped_client: httpx.AsyncClient) -> None:
    page = (await shipped_client.get("/sparql?example=05-places-nuts", headers=HTML)).text
    assert "(example: Places and their NUTS 2021 regions)" in page
    unknown = (await shipped_client.get("/sparql?example=nope", headers=HTML)).text
    assert "(example: Who coordinates SIC, and with which role)" in unknown


async def test_the_form_runs_a_query_without_javascript(shipped_client: httpx.AsyncClient) -> None:
    r = await shipped_client.get(
        "/sparql", params={"query": EXAMPLES[4].query, "format": "csv"}, headers=HTML
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "DEA13" in r.text


async def test_landing_page_links_to_the_query_page(shipped_client: httpx.AsyncClient) -> None:
    page = (await shipped_client.get("/", headers=HTML)).text
    assert '<a href="/sparql">SPARQL</a>' in page
