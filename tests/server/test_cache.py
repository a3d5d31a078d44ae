"""Caching tied to the release: ETag and Last-Modified on query results, 304, and a bounded
in-process cache of query results that a write (or a publish by another process) invalidates."""

from __future__ import annotations

import dataclasses

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.server.http.cache import QueryCache, etag_for
from sinlod.store import ReleaseInfo, Store
from tests.server.conftest import AUTH, client_for

pytestmark = pytest.mark.anyio

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
INSERT = 'INSERT DATA { GRAPH <http://e/g> { <http://e/a> <http://e/p> "x" } }'


def count(response: httpx.Response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


# -- the cache itself ----------------------------------------------------------------------------


def test_cache_is_bounded_by_entries_least_recently_used_first() -> None:
    cache: QueryCache[bytes] = QueryCache(max_entries=2, max_bytes=1000)
    cache.put("r", "a", b"1")
    cache.put("r", "b", b"2")
    assert cache.get("r", "a") == b"1"  # now b is the least recently used
    cache.put("r", "c", b"3")
    assert cache.get("r", "b") is None
    assert cache.get("r", "a") == b"1"
    assert cache.get("r", "c") == b"3"
    assert cache.stats().entries == 2


def test_cache_is_bounded_by_bytes() -> None:
    cache: QueryCache[bytes] = QueryCache(max_entries=100, max_bytes=10)
    cache.put("r", "a", b"x" * 6)
    cache.put("r", "b", b"y" * 6)
    assert cache.get("r", "a") is None
    assert cache.stats().bytes == 6
    cache.put("r", "huge", b"z" * 11)  # larger than the whole cache: not kept
    assert cache.get("r", "huge") is None
    assert cache.get("r", "b") == b"y" * 6


def test_a_new_release_empties_the_cache() -> None:
    cache: QueryCache[bytes] = QueryCache(max_entries=10, max_bytes=100)
    cache.put("r1", "q", b"old")
    assert cache.get("r2", "q") is None
    assert cache.stats().entries == 0
    assert cache.get("r1", "q") is None  # an old release is never served again


def test_zero_entries_switches_the_cache_off() -> None:
    cache: QueryCache[bytes] = QueryCache(max_entries=0, max_bytes=100)
    cache.put("r", "q", b"x")
    assert cache.get("r", "q") is None


def test_etags_differ_by_release_and_by_request() -> None:
    assert etag_for("r1", "q", "json") != etag_for("r2", "q", "json")
    assert etag_for("r1", "q", "json") != etag_for("r1", "q", "csv")
    assert etag_for("r1", "q", "json").startswith('"')


# -- over HTTP -----------------------------------------------------------------------------------


async def test_query_results_carry_validators_and_answer_304(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", params={"query": COUNT})
    assert r.status_code == 200
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    again = await client.get("/sparql", params={"query": COUNT}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""
    since = await client.get(
        "/sparql", params={"query": COUNT}, headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304
    csv = await client.get(
        "/sparql", params={"query": COUNT}, headers={"Accept": "text/csv", "If-None-Match": etag}
    )
    assert csv.status_code == 200  # another representation, another ETag
    assert csv.headers["etag"] != etag


async def test_repeated_query_is_served_from_the_cache(client: httpx.AsyncClient) -> None:
    first = await client.get("/sparql", params={"query": COUNT})
    second = await client.get("/sparql", params={"query": COUNT})
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.content == second.content
    post = await client.post(
        "/sparql", content=COUNT, headers={"Content-Type": "application/sparql-query"}
    )
    assert post.headers["x-cache"] == "hit"  # the same query, whichever way it came


async def test_a_write_invalidates_cached_results_and_etags(
    server_settings: Settings,
) -> None:
    app = create_app(dataclasses.replace(server_settings, shacl_gate=False))
    async for client in client_for(app):
        before = await client.get("/sparql", params={"query": COUNT})
        assert (
            await client.post("/sparql", data={"update": INSERT}, headers=AUTH)
        ).status_code == 204
        after = await client.get(
            "/sparql", params={"query": COUNT}, headers={"If-None-Match": before.headers["etag"]}
        )
        assert after.status_code == 200
        assert after.headers["x-cache"] == "miss"
        assert count(after) > count(before)
        assert after.headers["etag"] != before.headers["etag"]


async def test_a_publish_by_another_process_invalidates_the_cache(
    app: FastAPI, client: httpx.AsyncClient, server_settings: Settings
) -> None:
    before = await client.get("/sparql", params={"query": COUNT})
    with Store.open(server_settings.store_path) as other:  # like `sinlod publish` elsewhere
        t = ox.Triple(ox.NamedNode("http://e/a"), ox.NamedNode("http://e/p"), ox.Literal("1"))
        other.replace_graphs({"http://e/g": [t]}, release=ReleaseInfo(agent="publish"))
    after = await client.get("/sparql", params={"query": COUNT})
    assert after.headers["x-cache"] == "miss"
    assert count(after) > count(before)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT (NOW() AS ?t) WHERE {}",
        "SELECT (RAND() AS ?r) WHERE {}",
        "SELECT (STRUUID() AS ?u) WHERE {}",
    ],
)
async def test_volatile_queries_are_never_cached(client: httpx.AsyncClient, query: str) -> None:
    r = await client.get("/sparql", params={"query": query})
    assert r.status_code == 200
    assert "etag" not in r.headers
    assert "x-cache" not in r.headers
    again = await client.get("/sparql", params={"query": query})
    assert "x-cache" not in again.headers


async def test_cache_size_settings_bound_the_app_cache(server_settings: Settings) -> None:
    settings = dataclasses.replace(server_settings, query_cache_entries=1)
    app = create_app(settings)
    async for client in client_for(app):
        await client.get("/sparql", params={"query": COUNT})
        await client.get("/sparql", params={"query": COUNT + " LIMIT 1"})
        r = await client.get("/sparql", params={"query": COUNT})
        assert r.headers["x-cache"] == "miss"
        assert app.state.query_cache.stats().entries == 1


async def test_the_service_description_answers_304(client: httpx.AsyncClient) -> None:
    r = await client.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    again = await client.get(
        "/sparql", headers={"Accept": "text/turtle", "If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    other = await client.get(
        "/sparql", headers={"Accept": "application/ld+json", "If-None-Match": r.headers["etag"]}
    )
    assert other.status_code == 200
