"""/metrics in the Prometheus text format, and /healthz with the last release."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.server.operations.metrics import Metrics
from tests.server.conftest import AUTH, client_for
from tests.server.test_limits import SLOW_SELECT, big_store

pytestmark = pytest.mark.anyio

#: One sample line of the text format: a name, optional labels, a number.
SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? '
    r"(-?[0-9.eE+-]+|\+Inf|NaN)$"
)
QUERY = "SELECT * { ?s ?p ?o } LIMIT 1"


def samples(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        assert SAMPLE.match(line), line
        name, _, number = line.rpartition(" ")
        out[name] = float(number)
    return out


async def test_metrics_count_requests_by_route_and_status(client: httpx.AsyncClient) -> None:
    await client.get("/sparql", params={"query": QUERY})
    await client.get("/sparql", params={"query": QUERY})
    await client.get("/doc/project/nothing-here")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    got = samples(r.text)
    assert got['sinlod_http_requests_total{route="/sparql",method="GET",status="200"}'] == 2
    assert (
        got['sinlod_http_requests_total{route="/doc/{type_}/{key}",method="GET",status="404"}'] == 1
    )
    assert got["sinlod_query_cache_hits_total"] == 1
    assert got["sinlod_query_cache_misses_total"] == 1
    assert got['sinlod_http_request_duration_seconds_count{route="/sparql"}'] == 2
    assert got['sinlod_http_request_duration_seconds_bucket{route="/sparql",le="+Inf"}'] == 2
    assert "# TYPE sinlod_http_request_duration_seconds histogram" in r.text


async def test_unknown_paths_share_one_series(client: httpx.AsyncClient) -> None:
    """Raw paths never become labels, so a crawler cannot blow up the number of series."""
    for path in ("/a", "/b", "/c"):
        await client.get(path)
    got = samples((await client.get("/metrics")).text)
    assert got['sinlod_http_requests_total{route="unmatched",method="GET",status="404"}'] == 3


async def test_refused_writes_are_counted_by_reason(client: httpx.AsyncClient) -> None:
    update = {"update": "INSERT DATA { <http://e/a> a <https://w3id.org/sinlod/def/Place> }"}
    await client.post("/sparql", data=update)  # no token
    r = await client.post("/sparql", data=update, headers=AUTH)  # a place without a label
    assert r.status_code == 422
    got = samples((await client.get("/metrics")).text)
    assert got['sinlod_refused_writes_total{reason="unauthorized"}'] == 1
    assert got['sinlod_refused_writes_total{reason="shacl"}'] == 1
    assert got['sinlod_refused_writes_total{reason="forbidden"}'] == 0


async def test_query_time_outs_are_counted(server_settings: Settings) -> None:
    settings = dataclasses.replace(server_settings, query_timeout=0.2, max_results=10**9)
    app = create_app(settings, store=big_store())
    async for client in client_for(app):
        r = await client.get("/sparql", params={"query": SLOW_SELECT, "format": "tsv"})
        assert r.status_code == 503
        got = samples((await client.get("/metrics")).text)
    assert got["sinlod_query_timeouts_total"] == 1
    assert got['sinlod_http_requests_total{route="/sparql",method="GET",status="503"}'] == 1


def test_histogram_buckets_are_cumulative() -> None:
    m = Metrics()
    for seconds in (0.001, 0.02, 0.02, 3.0, 100.0):
        m.observe("/x", "GET", 200, seconds)
    got = samples(m.render())
    name = "sinlod_http_request_duration_seconds"
    assert got[f'{name}_bucket{{route="/x",le="0.005"}}'] == 1
    assert got[f'{name}_bucket{{route="/x",le="0.025"}}'] == 3
    assert got[f'{name}_bucket{{route="/x",le="5.0"}}'] == 4
    assert got[f'{name}_bucket{{route="/x",le="30.0"}}'] == 4
    assert got[f'{name}_bucket{{route="/x",le="+Inf"}}'] == 5
    assert got[f'{name}_sum{{route="/x"}}'] == pytest.approx(103.041)


def test_label_values_are_escaped() -> None:
    m = Metrics()
    m.observe('/a"b\\c\nd', "GET", 200, 0.1)
    assert 'route="/a\\"b\\\\c\\nd"' in m.render()


async def test_healthz_names_the_last_release(app: FastAPI, client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    body = r.json()
    last = app.state.store.releases()[-1]
    assert body["last_release"] == {
        "id": last.id,
        "ended": last.ended.isoformat(),
        "agent": "tests",
        "comment": None,
        "triples": last.triples,
        "changed": list(last.changed or ()),
        "conforms": None,
    }
    assert body["release"] == last.id
