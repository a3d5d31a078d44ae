"""The map, the network and the timeline drawn in headless Chromium on the shipped dataset.

Each picture must show as many marks as the data has facts: a marker per place with
coordinates (counted by SPARQL on the live server), a node and an edge per entry of
``/network.json``, a timeline mark per project or event with a start date. Screenshots of the
figures go to ``tests/output/`` (docs/img/ holds copies for the README).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.e2e.test_browser import (  # noqa: F401 (browser is the fixture)
    OUTPUT,
    browser,
    screenshot,
    severe_console_messages,
    wait,
)

pytestmark = pytest.mark.browser

SIC = "https://w3id.org/sinlod/id/project/sic"


def count(server: str, where: str) -> int:
    """``COUNT(DISTINCT ?x)`` over ``where``, asked of the live server's SPARQL endpoint."""
    query = f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}"
    response = httpx.get(
        server + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def drawn(driver: WebDriver, figure_id: str) -> int:
    """Wait until the figure's script has drawn it; the number of marks it says it drew."""
    figure = driver.find_element(By.ID, figure_id)
    wait(driver, 30).until(lambda d: figure.get_attribute("data-state") != "loading")
    assert figure.get_attribute("data-state") == "ready", figure.text
    return int(figure.get_attribute("data-marks") or "-1")


def figure_shot(driver: WebDriver, figure_id: str, name: str) -> Path:
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    path.write_bytes(driver.find_element(By.ID, figure_id).screenshot_as_png)
    return path


def test_map_has_a_marker_per_place_with_coordinates(
    browser: WebDriver,  # noqa: F811
    shipped_server: str,
) -> None:
    expected = count(
        shipped_server,
        "?x <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?lat ;"
        " <http://www.w3.org/2003/01/geo/wgs84_pos#long> ?long",
    )
    assert expected == 15
    browser.get(shipped_server + "/map")
    assert drawn(browser, "map") == expected
    markers = browser.find_elements(By.CSS_SELECTOR, "#map svg circle.marker")
    countries = browser.find_elements(By.CSS_SELECTOR, "#map svg path.country")
    assert len(markers) == expected
    assert len(countries) > 100  # world-atlas's 110m outlines, drawn offline
    # every marker is inside the picture, and links to its place's page on this server
    box = browser.find_element(By.CSS_SELECTOR, "#map svg").rect
    for marker in markers:
        r = marker.rect
        assert box["x"] <= r["x"] <= box["x"] + box["width"]
        assert box["y"] <= r["y"] <= box["y"] + box["height"]
    links = browser.find_elements(By.CSS_SELECTOR, "#map svg a")
    assert len(links) == expected
    assert all(a.get_dom_attribute("href").startswith(shipped_server + "/id/place/") for a in links)
    # the same facts without the picture: a table row per place
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map-table tbody tr")) == expected
    screenshot(browser, "map")
    figure_shot(browser, "map", "map-figure")
    assert severe_console_messages(browser) == []


def test_map_of_a_project_shows_where_it_happens(
    browser: WebDriver,  # noqa: F811
    shipped_server: str,
) -> None:
    # SIC's events happen in Brussels, Bologna, Rotterdam; its planned summer school maybe in
    # San Sebastián (or Samsun, which has no coordinates: its country is not stated)
    places = httpx.get(shipped_server + "/map.json", params={"focus": SIC}, timeout=30).json()
    assert {p["label"] for p in places["points"]} >= {"Brussels", "Bologna", "Rotterdam"}
    browser.get(shipped_server + "/id/project/sic")
    assert drawn(browser, "map") == len(places["points"])
    assert severe_console_messages(browser) == []


def test_network_has_the_nodes_and_edges_of_its_json(
    browser: WebDriver,  # noqa: F811
    shipped_server: str,
) -> None:
    data = httpx.get(shipped_server + "/network.json", params={"focus": SIC}, timeout=30).json()
    assert data["focus"] == SIC and not data["truncated"]
    kinds = {n["kind"] for n in data["nodes"]}
    assert kinds == {"project", "event", "organisation", "person"}
    # opened from the project's page: the link centres the network on it
    browser.get(shipped_server + "/id/project/sic")
    browser.find_element(By.LINK_TEXT, "Who works with whom around this").click()
    wait(browser).until(lambda d: "/network?focus=" in d.current_url)
    assert drawn(browser, "network") == len(data["nodes"])
    figure = browser.find_element(By.ID, "network")
    assert int(figure.get_attribute("data-nodes") or 0) == len(data["nodes"])
    assert int(figure.get_attribute("data-edges") or 0) == len(data["edges"])
    rendered = browser.execute_script(
        "const cy = window.sinlodNetwork, w = cy.width(), h = cy.height();"
        "return [cy.nodes().length, cy.edges().length,"
        " cy.nodes().filter(n => { const p = n.renderedPosition();"
        "   return p.x >= 0 && p.x <= w && p.y >= 0 && p.y <= h; }).length,"
        " cy.getElementById(arguments[0]).data('depth')];",
        SIC,
    )
    assert rendered == [len(data["nodes"]), len(data["edges"]), len(data["nodes"]), 0]
    canvas = browser.find_element(By.CSS_SELECTOR, "#network canvas")
    assert canvas.size["width"] > 300 and canvas.size["height"] > 300
    # the list without JavaScript names the same nodes
    assert len(browser.find_elements(By.CSS_SELECTOR, "#network-nodes li")) == len(data["nodes"])
    screenshot(browser, "network")
    figure_shot(browser, "network", "network-figure")
    assert severe_console_messages(browser) == []


def test_network_recentres_on_a_chosen_node(
    browser: WebDriver,  # noqa: F811
    shipped_server: str,
) -> None:
    aeidl = "https://w3id.org/sinlod/id/organisation/aeidl"
    data = httpx.get(shipped_server + "/network.json", params={"focus": aeidl}, timeout=30).json()
    browser.get(f"{shipped_server}/network?focus={quote(SIC, safe='')}")
    drawn(browser, "network")
    browser.execute_script("window.sinlodNetwork.getElementById(arguments[0]).emit('tap')", aeidl)
    wait(browser).until(lambda d: quote(aeidl, safe="") in d.current_url)
    assert drawn(browser, "network") == len(data["nodes"])
    assert severe_console_messages(browser) == []


def test_timeline_has_a_mark_per_dated_project_and_event(
    browser: WebDriver,  # noqa: F811
    shipped_server: str,
) -> None:
    sinlod = "https://w3id.org/sinlod/def/"
    dated = count(
        shipped_server,
        f"VALUES ?kind {{ <{sinlod}Project> <{sinlod}Event> }} ?x a ?kind ; <{sinlod}startDate> ?s",
    )
    everything = count(
        shipped_server, f"VALUES ?kind {{ <{sinlod}Project> <{sinlod}Event> }} ?x a ?kind"
    )
    assert (dated, everything) == (8, 14)
    browser.get(shipped_server + "/timeline")
    assert drawn(browser, "timeline") == dated
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline svg rect.mark.project")) == 3
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline svg circle.mark.event")) == 5
    # the table lists the undated planned ones too
    rows = browser.find_elements(By.CSS_SELECTOR, "#timeline-table tbody tr")
    assert len(rows) == everything
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline-table tr.planned")) == 5
    screenshot(browser, "timeline")
    figure_shot(browser, "timeline", "timeline-figure")
    assert severe_console_messages(browser) == []


def test_landing_page_shows_map_and_timeline(
    browser: WebDriver,  # noqa: F811
    shipped_server: str,
) -> None:
    browser.get(shipped_server + "/")
    assert drawn(browser, "map") == 15
    assert drawn(browser, "timeline") == 8
    screenshot(browser, "landing-pictures")
    assert severe_console_messages(browser) == []
