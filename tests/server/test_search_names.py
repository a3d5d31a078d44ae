"""Search (the landing page's ``?q=``) finds things by transliterated and alternative names and
by acronyms: "lodz" finds Łódź, "SIC" and "SIMRA" their projects (issue 12)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from sinlod.config import Settings
from sinlod.names import search_fold
from sinlod.server import create_app
from sinlod.store import ReleaseInfo, Store

DATA = """
@prefix sinlod: <https://w3id.org/sinlod/def/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix place: <https://w3id.org/sinlod/id/place/> .
@prefix project: <https://w3id.org/sinlod/id/project/> .
place:lodz a sinlod:Place ; skos:prefLabel "Łódź"@pl ; skos:altLabel "Litzmannstadt"@de .
place:thessaloniki a sinlod:Place ; skos:prefLabel "Θεσσαλονίκη"@el .
project:sic a sinlod:Project ;
    skos:prefLabel "Social Innovation Community"@en ; sinlod:acronym "SIC" .
project:simra a sinlod:Project ;
    skos:prefLabel "Social Innovation in Marginalised Rural Areas"@en ; sinlod:acronym "SIMRA" .
project:music a sinlod:Project ; skos:prefLabel "Basic music for all"@en .
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    path = tmp_path / "store"
    triples = [q.triple for q in ox.parse(DATA, format=ox.RdfFormat.TURTLE)]
    with Store.open(path) as store:
        store.replace_graphs(
            {"https://w3id.org/sinlod/graph/data": triples}, release=ReleaseInfo(agent="tests")
        )
    app = create_app(Settings.load(env={}, store_path=path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def hits(client: httpx.AsyncClient, q: str) -> list[str]:
    """The hrefs of the search results, in order."""
    response = await client.get("/", params={"q": q})
    assert response.status_code == 200
    section = response.text.split('<ul class="hits">', 1)
    if len(section) == 1:
        return []
    return re.findall(r'<a href="http://testserver(/id/[^"]+)"', section[1].split("</ul>")[0])


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("lodz", "/id/place/lodz"),
        ("ŁÓDŹ", "/id/place/lodz"),
        ("litzmann", "/id/place/lodz"),  # an alternative name
        ("thessaloniki", "/id/place/thessaloniki"),  # transliterated from Greek
        ("SIMRA", "/id/project/simra"),  # an acronym
    ],
)
async def test_search_by_other_names(client: httpx.AsyncClient, q: str, found: str) -> None:
    assert (await hits(client, q))[0] == found


@pytest.mark.anyio
async def test_an_acronym_ranks_before_labels_that_contain_it(client: httpx.AsyncClient) -> None:
    assert await hits(client, "sic") == ["/id/project/sic", "/id/project/music"]
    assert await hits(client, "warsaw") == []


@pytest.mark.anyio
async def test_alternative_names_are_searched_not_shown(client: httpx.AsyncClient) -> None:
    page = (await client.get("/", params={"q": "Litzmannstadt"})).text
    assert ">Łódź</a>" in page


def test_search_fold() -> None:
    assert search_fold("Łódź") == search_fold("LODZ") == "lodz"
    assert search_fold("Kölner") == "kolner"
