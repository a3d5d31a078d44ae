"""A query stopped by the time or size limit is never a silent truncation, in any result format:
the client gets an error document (problem JSON, or a page for a browser), never a 200 with part
of the results."""

from __future__ import annotations

import dataclasses
import time

import anyio
import httpx
import pyoxigraph as ox
import pytest

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.server.operations import watchdog
from sinlod.server.protocol.execute import streams
from sinlod.store import ReleaseInfo, Store
from tests.server.conftest import client_for

pytestmark = pytest.mark.anyio

SELECT_FORMATS = ["json", "xml", "csv", "tsv"]
GRAPH_FORMATS = ["turtle", "ntriples", "jsonld", "rdfxml", "nquads", "trig"]
SELECT_ALL = "SELECT * { ?s ?p ?o }"
CONSTRUCT_ALL = "CONSTRUCT WHERE { ?s ?p ?o }"
SLOW_SELECT = "SELECT * { ?a ?p ?o . ?b ?p ?o2 }"
SLOW_CONSTRUCT = "CONSTRUCT { ?a ?p ?o2 } WHERE { ?a ?p ?o . ?b ?p ?o2 }"
TOO_LARGE = (
    "the result has more than 3 rows or triples, the most this endpoint returns;"
    " add a LIMIT (and OFFSET to page)"
)


def big_store() -> Store:
    store = Store.in_memory()
    triples = [
        ox.Triple(ox.NamedNode(f"http://e/{i}"), ox.NamedNode("http://e/p"), ox.Literal(str(i)))
        for i in range(3000)
    ]
    store.replace_graphs({"http://e/g": triples}, release=ReleaseInfo(agent="tests"))
    return store


def assert_problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text[:200]
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


@pytest.mark.parametrize(
    ("query", "fmt"),
    [(SELECT_ALL, f) for f in SELECT_FORMATS] + [(CONSTRUCT_ALL, f) for f in GRAPH_FORMATS],
)
async def test_size_limit_is_an_error_in_every_format(
    server_settings: Settings, query: str, fmt: str
) -> None:
    app = create_app(dataclasses.replace(server_settings, max_results=3))
    async for client in client_for(app):
        r = await client.get("/sparql", params={"query": query, "format": fmt})
    assert_problem(r, 400, "result-too-large")
    assert r.json()["detail"] == TOO_LARGE


@pytest.mark.parametrize(
    ("query", "fmt"),
    [(SLOW_SELECT, f) for f in SELECT_FORMATS] + [(SLOW_CONSTRUCT, f) for f in GRAPH_FORMATS],
)
async def test_time_limit_is_an_error_in_every_format(
    server_settings: Settings, query: str, fmt: str
) -> None:
    settings = dataclasses.replace(server_settings, query_timeout=0.3, max_results=10**9)
    app = create_app(settings, store=big_store())
    async for client in client_for(app):
        r = await client.get("/sparql", params={"query": query, "format": fmt})
    assert_problem(r, 503, "query-timeout")
    assert r.json()["detail"] == "the query ran longer than 0.3 s, the limit on this endpoint"


async def test_exactly_the_limit_is_answered_in_full(server_settings: Settings) -> None:
    app = create_app(dataclasses.replace(server_settings, max_results=3))
    async for client in client_for(app):
        for fmt in SELECT_FORMATS:
            r = await client.get(
                "/sparql", params={"query": SELECT_ALL + " LIMIT 3", "format": fmt}
            )
            assert r.status_code == 200
            if fmt == "csv":  # Oxigraph does not read CSV results back: a header and 3 rows
                assert len(r.text.splitlines()) == 4
                continue
            rows = ox.parse_query_results(r.content, ox.QueryResultsFormat.from_extension(fmt))
            assert isinstance(rows, ox.QuerySolutions)
            assert len(list(rows)) == 3


async def test_a_browser_gets_the_limit_error_as_a_page(server_settings: Settings) -> None:
    app = create_app(dataclasses.replace(server_settings, max_results=3))
    async for client in client_for(app):
        r = await client.get(
            "/sparql",
            params={"query": SELECT_ALL, "format": "csv"},
            headers={"Accept": "text/html,*/*;q=0.8"},
        )
    assert r.status_code == 400
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "add a LIMIT" in r.text


async def test_a_stopped_query_is_not_cached(server_settings: Settings) -> None:
    app = create_app(dataclasses.replace(server_settings, max_results=3))
    async for client in client_for(app):
        await client.get("/sparql", params={"query": SELECT_ALL})
        r = await client.get("/sparql", params={"query": SELECT_ALL})
    assert_problem(r, 400, "result-too-large")
    assert app.state.query_cache.stats().entries == 0


HEAVY_COUNT = "SELECT (COUNT(*) AS ?n) {{ ?a <{p}> ?b . ?c <{p}> ?d }}"


async def _with_heartbeat(
    client: httpx.AsyncClient, query: str, fmt: str = "json"
) -> tuple[httpx.Response, float]:
    """Ask ``query`` while a task on the same event loop ticks every 5 ms; the answer and the
    longest the loop was unavailable."""
    worst = 0.0
    done = anyio.Event()
    answer: list[httpx.Response] = []

    async def beat() -> None:
        nonlocal worst
        last = time.monotonic()
        while not done.is_set():
            await anyio.sleep(0.005)
            now = time.monotonic()
            worst = max(worst, now - last)
            last = now

    async def ask() -> None:
        answer.append(await client.get("/sparql", params={"query": query, "format": fmt}))
        done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(beat)
        group.start_soon(ask)
    return answer[0], worst


async def test_a_query_never_blocks_the_event_loop_for_its_length(
    server_settings: Settings,
) -> None:
    """Issue 13, item 4: a shape first seen matching nothing (fast) and then sent with a predicate
    that matches 3,000 triples (a 9-million-row join to count, no output until the end) must
    not run on the event loop: other requests would wait for all of it."""
    settings = dataclasses.replace(server_settings, query_timeout=0.5, query_cache_entries=0)
    app = create_app(settings, store=big_store())
    async for client in client_for(app):
        for _ in range(3):
            r = await client.get("/sparql", params={"query": HEAVY_COUNT.format(p="http://e/x")})
            assert r.status_code == 200
        r, worst = await _with_heartbeat(client, HEAVY_COUNT.format(p="http://e/p"))
    assert_problem(r, 503, "query-timeout")
    assert worst < 0.1, f"the event loop was blocked for {worst:.3f} s"


async def test_a_streaming_query_past_the_inline_budget_is_answered_in_full(
    server_settings: Settings,
) -> None:
    """A lookup-shaped query runs on the loop only up to ``INLINE_BUDGET``: one whose result
    takes longer (a subject with 200,000 triples) is run again in a thread, and answered whole."""
    store = Store.in_memory()
    subject = ox.NamedNode("http://e/hub")
    triples = [
        ox.Triple(subject, ox.NamedNode(f"http://e/p{i}"), ox.Literal("x")) for i in range(200_000)
    ]
    store.replace_graphs({"http://e/g": triples}, release=ReleaseInfo(agent="tests"))
    query = "SELECT * { <http://e/hub> ?p ?o }"
    assert streams(query)
    settings = dataclasses.replace(server_settings, query_cache_entries=0, max_results=10**6)
    app = create_app(settings, store=store)
    async for client in client_for(app):
        r, worst = await _with_heartbeat(client, query, "tsv")
        assert r.status_code == 200
        assert len(r.content.splitlines()) == 200_000 + 1  # the header and every row
    assert worst < 0.1, f"the event loop was blocked for {worst:.3f} s"


async def test_in_process_the_memory_limit_is_still_answered(server_settings: Settings) -> None:
    """Without the supervisor there is no worker to recycle: the query still gets its own error,
    and the app keeps answering (the abandoned evaluation ends when Oxigraph next writes)."""
    settings = dataclasses.replace(
        server_settings, query_timeout=30, max_results=10**9, worker_memory_limit=1
    )
    app = create_app(settings, store=big_store())
    async for client in client_for(app):
        r = await client.get("/sparql", params={"query": SLOW_SELECT})
        assert_problem(r, 503, "memory-limit")
        assert r.json()["detail"] == (
            "the query needed more memory than this endpoint allows: the worker answering it"
            " passed 1 MB"
        )
        r = await client.get("/sparql", params={"query": "ASK { <http://e/1> ?p ?o }"})
        assert r.status_code == 200
    assert watchdog.retire("test") is False  # nothing to retire in-process
