"""Datasets over HTTP (issue 11): the write gate's dataset rules, and the landing page.

A store with two datasets' graphs: ``sinlod`` describes Ghent; writes to the Graph Store may
name the dataset they are for (``Sinlod-Dataset``), and are then refused with 409 on another
dataset's graph; a write contradicting another dataset's single-valued property is refused with
422 whichever graph it goes to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pyoxigraph as ox
import pytest

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.store import ReleaseInfo, Store
from tests.server.conftest import AUTH, BASE, client_for

pytestmark = pytest.mark.anyio

SINLOD_PLACES = BASE + "graph/sinlod/places"
STEWARD_PLACES = BASE + "graph/steward/places"
TURTLE = {"Content-Type": "text/turtle"}
PLACES = """
@prefix sinlod: <https://w3id.org/sinlod/def/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://w3id.org/sinlod/id/document/notes> a sinlod:Document ; skos:prefLabel "Notes"@en .
<https://w3id.org/sinlod/id/place/ghent> a sinlod:Place ; skos:prefLabel "{label}"@en ;
    dct:source <https://w3id.org/sinlod/id/document/notes> .
"""


def turtle(label: str) -> str:
    return PLACES.replace("{label}", label)


@pytest.fixture
async def client(server_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The fixture store plus the dataset sinlod's places graph (Ghent)."""
    triples = [q.triple for q in ox.parse(turtle("Ghent"), format=ox.RdfFormat.TURTLE)]
    with Store.open(server_settings.store_path) as store:
        store.replace_graphs({SINLOD_PLACES: triples}, release=ReleaseInfo(agent="tests"))
    async for c in client_for(create_app(dataclasses.replace(server_settings))):
        yield c


async def graph_text(client: httpx.AsyncClient, graph: str) -> str:
    r = await client.get("/graph-store", params={"graph": graph}, headers={"Accept": "text/turtle"})
    return r.text if r.status_code == 200 else ""


async def graph_triples(client: httpx.AsyncClient, graph: str) -> set[str]:
    """The graph as a set of N-Triples lines: the order a Turtle answer lists them in may differ
    between the snapshot on disk and its memory copy, the triples may not."""
    r = await client.get(
        "/graph-store", params={"graph": graph}, headers={"Accept": "application/n-triples"}
    )
    assert r.status_code == 200, r.text
    return {line for line in r.text.splitlines() if line.strip()}


async def test_a_write_for_one_dataset_on_anothers_graph_is_409(
    client: httpx.AsyncClient,
) -> None:
    before = await graph_triples(client, SINLOD_PLACES)
    assert before
    r = await client.put(
        "/graph-store",
        params={"graph": SINLOD_PLACES},
        content=turtle("Gent"),
        headers=AUTH | TURTLE | {"Sinlod-Dataset": "steward"},
    )
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "dataset-conflict"
    assert "dataset 'steward' may not replace or remove graph" in r.json()["detail"]
    assert await graph_triples(client, SINLOD_PLACES) == before
    # a write for its own dataset is accepted
    ok = await client.put(
        "/graph-store",
        params={"graph": STEWARD_PLACES},
        content=turtle("Ghent"),
        headers=AUTH | TURTLE | {"Sinlod-Dataset": "steward"},
    )
    assert ok.status_code in (200, 201, 204), ok.text


async def test_a_dataset_header_that_is_not_a_slug_is_400(client: httpx.AsyncClient) -> None:
    r = await client.put(
        "/graph-store",
        params={"graph": STEWARD_PLACES},
        content=turtle("Ghent"),
        headers=AUTH | TURTLE | {"Sinlod-Dataset": "Not a slug"},
    )
    assert r.status_code == 400 and "expected a slug" in r.json()["detail"], r.text


async def test_a_write_contradicting_another_dataset_is_422_naming_it(
    client: httpx.AsyncClient,
) -> None:
    r = await client.put(
        "/graph-store",
        params={"graph": STEWARD_PLACES},
        content=turtle("Gent"),
        headers=AUTH | TURTLE,
    )
    assert r.status_code == 422, r.text
    messages = [f["message"] for f in r.json()["report"]["findings"]]
    assert messages == [
        f'contradicts dataset sinlod (graph <{SINLOD_PLACES}>), which gives "Ghent"@en;'
        " the shapes allow one value per language"
    ]
    assert await graph_text(client, STEWARD_PLACES) == ""


async def test_the_landing_page_lists_the_datasets(client: httpx.AsyncClient) -> None:
    r = await client.put(
        "/graph-store",
        params={"graph": STEWARD_PLACES},
        content=turtle("Ghent"),
        headers=AUTH | TURTLE,
    )
    assert r.status_code in (200, 201, 204), r.text
    page = (await client.get("/")).text
    assert "Datasets: each published on its own, in its own graphs" in page
    rows = [line for line in page.splitlines() if line.startswith("<tr><td><code>")]
    assert [row.split("</code>")[0].removeprefix("<tr><td><code>") for row in rows] == [
        "sinlod",
        "steward",
    ]


async def test_without_the_gate_a_graph_store_write_is_kept_to_its_dataset_too(
    server_settings: Settings, client: httpx.AsyncClient
) -> None:
    ungated = create_app(dataclasses.replace(server_settings, shacl_gate=False))
    async for c in client_for(ungated):
        r = await c.delete(
            "/graph-store", params={"graph": SINLOD_PLACES}, headers=AUTH | {"Sinlod-Dataset": "x"}
        )
        assert r.status_code == 409 and r.json()["code"] == "dataset-conflict", r.text
        assert "Ghent" in await graph_text(c, SINLOD_PLACES)


async def test_each_datasets_graph_is_a_dump_the_catalogue_links(
    client: httpx.AsyncClient,
) -> None:
    catalog = await client.get("/catalog", headers={"Accept": "application/n-triples"})
    url = "http://testserver/dumps/sinlod/places.ttl"
    assert f"<{url}>" in catalog.text
    r = await client.get("/dumps/sinlod/places.ttl")
    assert r.status_code == 200, r.text
    parsed = list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))
    assert ox.Literal("Ghent", language="en") in {q.object for q in parsed}
