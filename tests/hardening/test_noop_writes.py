"""A write that changes nothing makes no release (issue 13, item 9).

Before: every accepted write recorded a release (and a new snapshot), also a ``LOAD SILENT``
that loaded nothing, an update whose ``WHERE`` matched nothing, or a PUT of the same triples.
The answer stays a success (204 / 200); the release log and the served release do not move.
"""

from __future__ import annotations

import httpx
import pytest

from tests.hardening.conftest import AUTH

pytestmark = pytest.mark.anyio

GRAPH = "http://example.org/g/noop"
TURTLE = '<http://example.org/a> <http://example.org/p> "x" .'


async def _release(client: httpx.AsyncClient) -> tuple[str, str | None]:
    body = (await client.get("/healthz")).json()
    last = body["last_release"]
    return body["release"], None if last is None else last["id"]


async def _update(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.post(
        "/sparql",
        content=text.encode(),
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )


async def _put(client: httpx.AsyncClient) -> httpx.Response:
    return await client.put(
        "/graph-store",
        params={"graph": GRAPH},
        content=TURTLE.encode(),
        headers={**AUTH, "Content-Type": "text/turtle"},
    )


NOOPS = {
    "insert-nothing": "INSERT DATA {}",
    "delete-absent": "DELETE DATA { <http://example.org/none> <http://example.org/p> 1 }",
    "where-matches-nothing": (
        "DELETE { ?s ?p ?o } INSERT { ?s ?p 2 } WHERE { ?s <http://example.org/nothing> ?o }"
    ),
    "delete-where-nothing": "DELETE WHERE { ?s <http://example.org/nothing> ?o }",
    "load-silent-refused": "LOAD SILENT <http://127.0.0.1:9/x.ttl>",
    "clear-absent": "CLEAR SILENT GRAPH <http://example.org/g/absent>",
    "insert-existing": f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {TURTLE} }} }}",
    "remove-and-restore": (
        f"DELETE DATA {{ GRAPH <{GRAPH}> {{ {TURTLE} }} }} ;"
        f" INSERT DATA {{ GRAPH <{GRAPH}> {{ {TURTLE} }} }}"
    ),
}


@pytest.mark.parametrize("name", sorted(NOOPS))
async def test_noop_update_makes_no_release(client: httpx.AsyncClient, name: str) -> None:
    assert (await _put(client)).status_code in (201, 204)
    before = await _release(client)
    r = await _update(client, NOOPS[name])
    assert r.status_code == 204, r.text
    assert await _release(client) == before


async def test_put_of_the_same_triples_makes_no_release(client: httpx.AsyncClient) -> None:
    assert (await _put(client)).status_code == 201
    before = await _release(client)
    r = await _put(client)
    assert r.status_code == 204, r.text
    assert await _release(client) == before
    r = await client.post(
        "/graph-store",
        params={"graph": GRAPH},
        content=TURTLE.encode(),
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert r.status_code in (200, 204), r.text
    assert await _release(client) == before


async def test_a_real_change_still_makes_one(client: httpx.AsyncClient) -> None:
    assert (await _put(client)).status_code == 201
    before = await _release(client)
    r = await _update(
        client,
        f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <http://example.org/b> <http://example.org/p> 1 }} }}",
    )
    assert r.status_code == 204, r.text
    after = await _release(client)
    assert after[0] != before[0] and after[1] != before[1]


@pytest.mark.parametrize("name", sorted(NOOPS))
async def test_noop_update_without_the_gate_makes_no_release(
    ungated_client: httpx.AsyncClient, name: str
) -> None:
    """The store's own write path decides too (``Store.update``, used when the gate is off)."""
    assert (await _put(ungated_client)).status_code in (201, 204)
    before = await _release(ungated_client)
    r = await _update(ungated_client, NOOPS[name])
    assert r.status_code == 204, r.text
    assert await _release(ungated_client) == before


async def test_create_graph_is_a_change(ungated_client: httpx.AsyncClient) -> None:
    before = await _release(ungated_client)
    r = await _update(ungated_client, "CREATE GRAPH <http://example.org/g/empty>")
    assert r.status_code == 204, r.text
    assert await _release(ungated_client) != before
    r = await _update(ungated_client, "CREATE GRAPH <http://example.org/g/empty>")
    assert r.status_code >= 400  # it exists now
