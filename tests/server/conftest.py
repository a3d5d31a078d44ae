"""Server fixtures: a store on tmp_path with the fixture data published, an app, an HTTP client.

Each test gets its own store and app; the client speaks real HTTP to the ASGI app through httpx,
with the app's lifespan running (that is where the store is opened).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI

from sinlod.config import Settings
from sinlod.server import create_app
from sinlod.store import ReleaseInfo, Store
from tests.conftest import FIXTURES

DATA = FIXTURES / "server" / "data.ttl"
ONTOLOGY = FIXTURES / "server" / "ontology.ttl"
BASE = "https://w3id.org/sinlod/"
DATA_GRAPH = BASE + "graph/data"
ONTOLOGY_GRAPH = BASE + "graph/ontology"
TOKEN = "s3cret-token"


def triples(path: Path) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(path=path, format=ox.RdfFormat.TURTLE)]


def publish(path: Path) -> None:
    """Publish the fixture data and ontology into a store directory, as `sinlod publish` would."""
    with Store.open(path) as store:
        store.replace_graphs(
            {DATA_GRAPH: triples(DATA), ONTOLOGY_GRAPH: triples(ONTOLOGY)},
            release=ReleaseInfo(agent="tests"),
        )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def published_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture data published once; each test copies it (publish ~0.5 s, copy ~10 ms)."""
    path = tmp_path_factory.mktemp("published") / "store"
    publish(path)
    return path


@pytest.fixture
def server_settings(settings: Settings, published_store: Path) -> Settings:
    """Settings on a copy of the published store, with an update token so writes can be tested."""
    shutil.copytree(published_store, settings.store_path, symlinks=True)
    return dataclasses.replace(settings, update_token=TOKEN)


@pytest.fixture
def app(server_settings: Settings) -> FastAPI:
    return create_app(server_settings)


async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for c in client_for(app):
        yield c


@pytest.fixture
async def ungated_client(server_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a server without the SHACL gate, for protocol tests whose writes are not
    meant to be valid data (the fixture data itself names no sources)."""
    async for c in client_for(create_app(dataclasses.replace(server_settings, shacl_gate=False))):
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}
