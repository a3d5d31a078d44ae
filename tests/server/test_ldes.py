"""``/ldes`` over HTTP (issue 11): a harvester follows the change feed from the stream through
every page and ends with exactly the store's data; final pages are immutable, the newest is not;
ETags answer conditional requests; the catalogue and the release log link the feed.

The feed's RDF against the TREE and LDES shapes: ``tests/test_ldes.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace as dataclass_replace
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.ldes import TREE, read_members
from sinlod.publish import publish
from sinlod.server import create_app
from sinlod.store import Store
from sinlod.store import versions as versions_module
from tests.server.conftest import client_for
from tests.test_ldes import PLACES, canonical, organisations_ttl, places_ttl, store_state

pytestmark = pytest.mark.anyio
STREAM = "https://w3id.org/sinlod/ldes"
VIEW, RELATION, NODE = (ox.NamedNode(TREE + n) for n in ("view", "relation", "node"))
FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}


def publish_release(settings: Settings, places: dict[str, str], street: str) -> str:
    src = Path(settings.store_path).parent / "src"
    src.mkdir(exist_ok=True)
    (src / "places.ttl").write_text(places_ttl(places), encoding="utf-8")
    (src / "organisations.ttl").write_text(organisations_ttl(street), encoding="utf-8")
    with Store.open(settings.store_path) as store:
        result = publish(
            [src / "places.ttl", src / "organisations.ttl"],
            settings,
            store,
            validate=False,
            ontology=False,
        )
    assert result.release is not None
    return result.release.id


@pytest.fixture
def feed_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Three releases (seven things added; one renamed and one street changed; one deleted),
    in pages of three versions."""
    monkeypatch.setattr(versions_module, "PAGE_SIZE", 3)
    renamed = {**PLACES, "bruges": "Brugge"}
    publish_release(settings, PLACES, "Mandeville")
    publish_release(settings, renamed, "Burgemeester Oudlaan")
    gone = {k: v for k, v in renamed.items() if k != "ostend"}
    publish_release(settings, gone, "Burgemeester Oudlaan")
    return settings


@pytest.fixture
def feed_app(feed_settings: Settings) -> FastAPI:
    return create_app(feed_settings)


@pytest.fixture
async def client(feed_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(feed_app):
        yield c


async def fetch(client: httpx.AsyncClient, url: str, accept: str) -> list[ox.Triple]:
    response = await client.get(url, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    return [q.triple for q in ox.parse(response.content, FORMATS[accept], base_iri=url)]


async def root_node(client: httpx.AsyncClient, url: str) -> str:
    """The LDES specification's initialization: dereference the IRI (following redirects); the
    page reached is the root node when exactly one ``?s tree:view <page>`` is in it, ``?s``
    being the event stream."""
    response = await client.get(url, headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert response.status_code == 200
    page = str(response.url)
    triples = [q.triple for q in ox.parse(response.content, ox.RdfFormat.TURTLE, base_iri=page)]
    views = [t for t in triples if t.predicate == VIEW and t.object == ox.NamedNode(page)]
    assert len(views) == 1
    assert views[0].subject == ox.NamedNode(STREAM)
    return page


async def harvest(client: httpx.AsyncClient) -> tuple[dict[str, frozenset[str]], list[str]]:
    """What an LDES client does: dereference the stream, take its view, follow every relation
    (each page in another format, in turn), apply the members oldest first."""
    accepts = list(FORMATS)
    todo = [await root_node(client, "http://testserver/ldes")]
    state: dict[str, frozenset[str]] = {}
    visited: list[str] = []
    while todo:
        url = todo.pop(0)
        assert url not in visited
        visited.append(url)
        triples = await fetch(client, url, accepts[len(visited) % len(accepts)])
        for version in read_members(triples, STREAM):
            if version.kind == "Delete":
                state.pop(version.thing, None)
            else:
                state[version.thing] = canonical(version.triples)
        relations = {t.object for t in triples if t.predicate == RELATION}
        todo += [
            t.object.value
            for t in triples
            if t.subject in relations and t.predicate == NODE and isinstance(t.object, ox.NamedNode)
        ]
    return state, visited


async def test_a_harvester_following_the_feed_over_http_ends_with_exactly_the_data(
    client: httpx.AsyncClient, feed_settings: Settings
) -> None:
    state, visited = await harvest(client)
    assert len(visited) == 3 + 1 + 1  # seven versions in pages of three; two; one
    with Store.open(feed_settings.store_path, read_only=True) as store:
        assert state == store_state(store)
    assert "https://w3id.org/sinlod/id/place/ostend" not in state


async def test_pages_but_the_newest_are_immutable(client: httpx.AsyncClient) -> None:
    _, visited = await harvest(client)
    for url in visited[:-1]:
        response = await client.get(url)
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "ldes:immutable true" in response.text
    newest = await client.get(visited[-1])
    assert newest.headers["cache-control"] == "no-cache"
    assert "ldes:immutable" not in newest.text
    assert (await client.get("/ldes")).headers["cache-control"] == "no-cache"


async def test_conditional_requests_and_the_newest_page_growing_its_link(
    client: httpx.AsyncClient, feed_settings: Settings
) -> None:
    """A harvester polls the newest page with If-None-Match: 304 until a release adds to the
    feed; then the page links the next one and is final, with a new ETag that stays."""
    _, visited = await harvest(client)
    final, newest = visited[0], visited[-1]
    first = await client.get(final)
    again = await client.get(final, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"

    polled = await client.get(newest)
    etag = polled.headers["etag"]
    assert (await client.get(newest, headers={"If-None-Match": etag})).status_code == 304

    publish_release(feed_settings, {"ghent": "Gent"}, "Burgemeester Oudlaan")
    changed = await client.get(newest, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "tree:GreaterThanOrEqualToRelation" in changed.text
    # The final page's validator did not move with the release.
    assert (await client.get(final)).headers["etag"] == first.headers["etag"]
    state, _ = await harvest(client)
    with Store.open(feed_settings.store_path, read_only=True) as store:
        assert state == store_state(store)
    assert set(state) == {
        "https://w3id.org/sinlod/id/place/ghent",
        "https://w3id.org/sinlod/id/organisation/drift",
        "https://w3id.org/sinlod/id/organisation/tudo",
    }


async def test_the_stream_redirects_a_client_to_its_root_node(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """``/ldes`` answers ``303`` to the first page for machines (keeping ``?format=``), a page
    for people; an empty store's stream is its description alone."""
    found = await client.get("/ldes", headers={"Accept": "application/ld+json"})
    assert found.status_code == 303
    assert found.headers["location"].endswith(".1")
    formatted = await client.get("/ldes?format=ntriples")
    assert formatted.headers["location"].endswith(".1?format=ntriples")
    assert (await client.get("/ldes", headers={"Accept": "text/html"})).status_code == 200

    empty = create_app(dataclass_replace(settings, store_path=settings.store_path.parent / "e"))
    async for other in client_for(empty):
        answer = await other.get("/ldes", headers={"Accept": "text/turtle"})
        assert answer.status_code == 200
        assert "ldes:EventStream" in answer.text and "tree:view" not in answer.text


async def test_people_get_html_pages(client: httpx.AsyncClient) -> None:
    html = {"Accept": "text/html"}
    stream = await client.get("/ldes", headers=html)
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/html")
    assert "Change feed" in stream.text and ".1</code></a>" in stream.text
    _, visited = await harvest(client)
    page = await client.get(visited[-1], headers=html)
    assert page.status_code == 200
    assert "deleted" in page.text and "/id/place/ostend" in page.text


async def test_unknown_pages_are_404_and_member_iris_lead_to_their_page(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/ldes/nothing.1")).status_code == 404
    _, visited = await harvest(client)
    second = visited[1].rsplit("/", 1)[-1]  # the first release's second page
    release = second.rsplit(".", 1)[0]
    found = await client.get(f"/ldes/{release}/4")  # members 4-6 are on page 2
    assert found.status_code == 303
    assert found.headers["location"] == f"/ldes/{second}"
    assert (await client.get(f"/ldes/{release}/99")).status_code == 404
    assert (await client.get(f"/ldes/{release}/x")).status_code == 404


async def test_the_catalogue_and_the_release_log_link_the_feed(client: httpx.AsyncClient) -> None:
    catalog = await client.get("/catalog", headers={"Accept": "application/n-triples"})
    triples = [q.triple for q in ox.parse(catalog.content, ox.RdfFormat.N_TRIPLES)]
    services = {
        t.subject
        for t in triples
        if t.predicate.value == "http://purl.org/dc/terms/conformsTo"
        and t.object == ox.NamedNode("https://w3id.org/ldes/specification")
    }
    endpoints = {
        t.object.value
        for t in triples
        if t.subject in services and t.predicate.value == "http://www.w3.org/ns/dcat#endpointURL"
    }
    assert endpoints == {"http://testserver/ldes"}
    releases = await client.get("/releases", headers={"Accept": "text/html"})
    assert 'href="/ldes"' in releases.text
    _, visited = await harvest(client)
    release = visited[0].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    one = await client.get(f"/releases/{release}", headers={"Accept": "text/html"})
    assert f'href="/ldes/{release}.1"' in one.text
