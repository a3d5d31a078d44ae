"""The pictures' pages and JSON on the shipped dataset, without a browser: the same facts as
HTML for readers without JavaScript, the JSON the scripts draw, the CSP kept, the bounds held."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from sinlod import pictures
from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.store import Store
from tests.e2e.conftest import without_assets

pytestmark = pytest.mark.anyio

HTML = {"Accept": "text/html"}
SIC = "https://w3id.org/sinlod/id/project/sic"
VENDOR_SCRIPTS = ("d3-geo.min.js", "topojson-client.min.js", "cytoscape.min.js")


def rows(page: str, table_id: str) -> list[str]:
    """The text of each body row of the table ``table_id``."""
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        " | ".join(re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row))
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


async def test_map_page_lists_every_place_with_coordinates(
    shipped_client: httpx.AsyncClient,
) -> None:
    page = (await shipped_client.get("/map", headers=HTML)).text
    data = (await shipped_client.get("/map.json")).json()
    listed = rows(page, "map-table")
    assert len(listed) == len(data["points"]) == 15
    assert listed[0] == "Aalst | 50.9360 | 4.0355 | 1"
    brussels = next(p for p in data["points"] if p["label"] == "Brussels")
    assert brussels["href"].endswith("/id/place/brussels")
    assert 50.8 < brussels["lat"] < 50.9 and 4.3 < brussels["long"] < 4.4
    assert brussels["things"] >= 2  # the conference and organisations based there
    assert 'data-source="/map.json"' in page
    for script in VENDOR_SCRIPTS:
        assert f"/static/vendor/{script.split('.')[0]}/{script}" in page
    # only same-origin scripts: the CSP is the pages' own, without 'unsafe-inline' for scripts
    csp = (await shipped_client.get("/map", headers=HTML)).headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "<script>" not in page


async def test_timeline_page_lists_projects_and_events_with_planned_ones(
    shipped_client: httpx.AsyncClient,
) -> None:
    page = (await shipped_client.get("/timeline", headers=HTML)).text
    items = (await shipped_client.get("/timeline.json")).json()["items"]
    assert len(rows(page, "timeline-table")) == len(items) == 14
    assert sum(1 for i in items if i["start"]) == 8
    planned = {i["label"] for i in items if i["planned"]}
    assert "SIC Summer School in San Sebastien or Samsun" in planned
    assert page.count('<tr class="planned">') == len(planned) == 5
    sic = next(i for i in items if i["iri"] == SIC)
    assert (sic["start"], sic["end"], sic["planned"]) == ("2016-02", "2019-02", False)


async def test_network_page_lists_the_nodes_and_links_of_its_json(
    shipped_client: httpx.AsyncClient,
) -> None:
    page = (await shipped_client.get(f"/network?focus={quote(SIC, safe='')}", headers=HTML)).text
    data = (await shipped_client.get("/network.json", params={"focus": SIC})).json()
    assert page.count("<li>", page.index('id="network-nodes"'), page.index('id="links"')) == len(
        data["nodes"]
    )
    edges = page.split('id="network-edges"', 1)[1].split("</ul>", 1)[0]
    assert edges.count("<li>") == len(data["edges"]) == 80
    assert data["nodes"][0] == {
        "id": SIC,
        "label": "Social Innovation Community",
        "kind": "project",
        "depth": 0,
        "href": "http://testserver/id/project/sic",
        "network": "/network?focus=" + quote(SIC, safe=""),
    }
    ids = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    # AEIDL coordinates SIC: an edge through the involvement, labelled by it
    aeidl = "https://w3id.org/sinlod/id/organisation/aeidl"
    [edge] = [e for e in data["edges"] if {e["source"], e["target"]} == {SIC, aeidl}]
    assert "coordinator" in edge["label"]
    # without a focus: the best-connected project
    assert (await shipped_client.get("/network.json")).json()["focus"] == SIC


async def test_every_resource_page_opens_its_network_and_projects_their_map(
    shipped_client: httpx.AsyncClient,
) -> None:
    project = (await shipped_client.get("/doc/project/sic", headers=HTML)).text
    person = (await shipped_client.get("/doc/person/julia-wittmayer", headers=HTML)).text
    organisation = (await shipped_client.get("/doc/organisation/aeidl", headers=HTML)).text
    for page in (project, person, organisation):
        assert 'href="/network?focus=https%3A//w3id.org/sinlod/id/' in page
    assert 'data-source="/map.json?focus=https%3A//w3id.org/sinlod/id/project/sic"' in project
    assert "Where it happens" in organisation
    assert "Where it happens" not in person and "cytoscape.min.js" not in person
    focused = (await shipped_client.get("/map.json", params={"focus": SIC})).json()["points"]
    assert {p["label"] for p in focused} == {"Bologna", "Brussels", "Rotterdam", "San Sebastián"}
    landing = (await shipped_client.get("/", headers=HTML)).text
    assert 'data-source="/map.json"' in landing and 'data-source="/timeline.json"' in landing


async def test_without_assets_the_pages_are_lists_only(
    shipped_settings: Settings, tmp_path: Path
) -> None:
    app = create_app(without_assets(shipped_settings, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            pages = [(await client.get(p, headers=HTML)).text for p in ("/map", "/timeline", "/")]
            network = (await client.get("/network", headers=HTML)).text
            missing = await client.get("/static/vendor/cytoscape/cytoscape.min.js")
    for page in [*pages, network]:
        assert "<figure" not in page and "/static/vendor/" not in page
    assert len(rows(pages[0], "map-table")) == 15
    assert len(rows(pages[1], "timeline-table")) == 14
    assert 'id="network-nodes"' in network
    assert missing.status_code == 404


def test_network_is_bounded(shipped_settings: Settings) -> None:
    with Store.open(shipped_settings.store_path, read_only=True) as store:
        full = pictures.network(store, SIC, "en")
        capped = pictures.network(store, SIC, "en", max_nodes=10)
        one_step = pictures.network(store, SIC, "en", depth=1)
        unknown = pictures.network(store, "https://example.org/nothing", "en")
    assert not full.truncated and len(full.nodes) == 44
    assert capped.truncated and len(capped.nodes) == 10
    kept = {n.iri for n in capped.nodes}
    assert all(e.source in kept and e.target in kept for e in capped.edges)
    assert {n.depth for n in one_step.nodes} == {0, 1}
    assert len(one_step.nodes) < len(full.nodes)
    assert [n.iri for n in unknown.nodes] == ["https://example.org/nothing"] and not unknown.edges


def test_a_dated_item_in_the_future_counts_as_planned(shipped_settings: Settings) -> None:
    with Store.open(shipped_settings.store_path, read_only=True) as store:
        before = pictures.timeline(store, "en", today=date(2017, 12, 31))
    planned = {i.iri.rsplit("/", 1)[-1] for i in before if i.planned and i.start}
    assert planned == {
        "sic-conference-cities-regions-2018",
        "beyond-divides",
        "sike-workshop-impact-hub-ruhr-2019",
        "sike",
    }


@pytest.mark.parametrize("path", ["/network.json", "/network", "/map.json", "/map"])
async def test_a_focus_that_is_not_an_iri_is_refused(
    shipped_client: httpx.AsyncClient, path: str
) -> None:
    # the focus goes into a query as <IRI>: nothing may leave the brackets
    response = await shipped_client.get(path, params={"focus": "x> } ?s ?p ?o {"})
    assert response.status_code == 400
    assert "not an absolute IRI" in response.text
