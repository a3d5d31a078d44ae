"""Writes are never redirected (issue 13, item 10).

Before: ``POST /sparql/`` and ``PUT /graph-store/`` answered 307 (Starlette's trailing-slash
redirect), which tells a client to resend the body, with its bearer token, to ``Location``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.hardening.conftest import AUTH

pytestmark = pytest.mark.anyio

WRITES = ["POST", "PUT", "DELETE", "PATCH"]
PATHS = ["/sparql/", "/graph-store/", "/void/", "/catalog/", "/healthz/", "/doc/project/x/"]


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("path", PATHS)
async def test_no_method_but_get_is_redirected(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    r = await client.request(
        method,
        path,
        content=b"INSERT DATA {}",
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    assert r.status_code == 404, (method, path, r.status_code, r.headers.get("location"))
    assert "location" not in r.headers
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_read_is_still_redirected_to_the_route(client: httpx.AsyncClient) -> None:
    r = await client.get("/void/")
    assert r.status_code == 307
    assert r.headers["location"].endswith("/void")
    r = await client.head("/healthz/")
    assert r.status_code == 307


async def test_a_read_of_nothing_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/no-such-thing/")
    assert r.status_code == 404
