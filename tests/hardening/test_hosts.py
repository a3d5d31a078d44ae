"""Absolute URLs never come from a Host header the server does not answer for (issue 13, item 8).

Before: without ``public_url``, ``Host: evil.example`` came back in ``/dumps/`` URLs, the service
description, redirects and the base IRI of queries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from sinlod.config import Settings
from sinlod.server import create_app
from tests.e2e.conftest import running_server
from tests.server.conftest import client_for

pytestmark = pytest.mark.anyio

PATHS = [
    ("GET", "/dumps/", "application/json"),
    ("GET", "/sparql", "text/turtle"),  # the service description
    ("GET", "/sparql?query=SELECT%20*%20%7B%20BIND(%3Cx%3E%20AS%20%3Fx)%20%7D", "text/csv"),
    ("POST", "/sparql", "text/csv"),
    ("GET", "/void/", "text/turtle"),  # a redirect
    ("GET", "/void", "text/turtle"),
    ("GET", "/", "text/html"),
]


async def _send(
    client: httpx.AsyncClient, method: str, path: str, accept: str, host: str
) -> httpx.Response:
    headers = {"Accept": accept, "Host": host}
    if method == "POST":
        return await client.post(
            path, data={"query": "SELECT * { BIND(<x> AS ?x) }"}, headers=headers
        )
    return await client.request(method, path, headers=headers)


@pytest.mark.parametrize(("method", "path", "accept"), PATHS)
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "localhost.evil.example"])
async def test_foreign_host_is_refused(
    client: httpx.AsyncClient, method: str, path: str, accept: str, host: str
) -> None:
    r = await _send(client, method, path, accept, host)
    assert r.status_code == 400, (path, r.status_code, r.text[:200])
    assert "evil.example" not in r.headers.get("location", "")
    if accept != "text/html":
        assert r.json()["code"] == "host-not-allowed"
    else:
        assert "allowed_hosts" in r.text


@pytest.mark.parametrize(("method", "path", "accept"), PATHS)
@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "LOCALHOST", "[::1]:8000"])
async def test_local_hosts_are_answered(
    client: httpx.AsyncClient, method: str, path: str, accept: str, host: str
) -> None:
    r = await _send(client, method, path, accept, host)
    assert r.status_code in (200, 307), (path, host, r.status_code, r.text[:200])


@pytest.fixture
async def public(server_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings = dataclasses.replace(
        server_settings, public_url="https://lod.example.org/", allowed_hosts=(".internal",)
    )
    async for c in client_for(create_app(settings)):
        yield c


async def test_public_url_host_and_listed_domains(public: httpx.AsyncClient) -> None:
    for host, status in (
        ("lod.example.org", 200),
        ("worker1.internal:8000", 200),
        ("internal", 200),
        ("localhost", 400),  # not listed in this configuration
        ("evil.example", 400),
    ):
        r = await public.get("/dumps/", headers={"Host": host, "Accept": "application/json"})
        assert r.status_code == status, (host, r.text[:200])
        if status == 200:
            assert "lod.example.org" in r.text and host.split(":")[0] not in r.text.replace(
                "lod.example.org", ""
            )


def test_live_server_refuses_a_foreign_host(server_settings: Settings) -> None:
    """Through uvicorn, where ``GET /sparql?query=`` takes the fast lane."""
    with running_server(create_app(server_settings)) as url:
        r = httpx.get(url + "/sparql", params={"query": "ASK {}"}, headers={"Host": "evil.example"})
        assert r.status_code == 400
        r = httpx.get(url + "/sparql", params={"query": "ASK {}"})
        assert r.status_code == 200
